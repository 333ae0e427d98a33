/**
 * Cross-process exclusive lock on a `.state/` directory.
 *
 * Public API:
 *   - withLock(stateDir, opts, fn): Promise<T>      (stable) run fn while holding the lock
 *   - acquireLock(stateDir, opts): Promise<LockHandle> (stable) for callers that need manual release
 *   - readLockInfo(stateDir): LockInfo | null        (stable) who holds it (read-only)
 *   - judgeLock(info, staleMs): { stale: boolean; reason: string } (stable) used by doctor
 *   - pidAlive(pid): boolean                         (internal) a process with that id exists on this
 *     host (EPERM counts as alive); doctor uses it for temp files of live writers
 *   - LOCK_FILE, DERIVE_LOCK_FILE, DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STALE_MS (stable); LockOptions.file picks another lock file
 * Protocol (see design/LIBRARY_NOTES.md): the holder's record (pid, hostname,
 * pid namespace, random token, acquired_at) is written to a unique temp file
 * and hard-linked to `orc-state.lock` (link is an exclusive create, so the
 * lock never exists with partial content). A lock is stale when its pid is gone
 * on this host and pid namespace, or when it is older than `staleMs`. Breaking
 * a stale lock happens under a short-lived `orc-state.lock.break` mutex and
 * re-checks the token just before removing, so two contenders cannot both
 * break and both win. Contenders retry with jittered exponential backoff up to
 * `timeoutMs`, then throw OrcError('LOCK_TIMEOUT') naming the holder (CLI exit 3).
 * Release removes the lock only if it still carries our token.
 * Integration points: src/engine (every writer of .state/), doctor (stale lock).
 * A failed lock step (disk full) removes its temp file before the error propagates.
 * Dependencies: node:fs, node:os, node:crypto, ../errors.js, ./faults.js.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, readlinkSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { OrcError } from '../errors.js';
import { writeFault } from './faults.js';
import { stateRel } from '../core/state-paths.js';

export const LOCK_FILE = 'orc-state.lock';
/** Held while derived files are compared and replaced (never together with a wait on LOCK_FILE). */
export const DERIVE_LOCK_FILE = 'orc-state.derive.lock';
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
/** A live holder is never expected to keep the lock this long; past it the lock counts as abandoned. */
export const DEFAULT_STALE_MS = 10 * 60_000;

export interface LockInfo {
  pid: number;
  hostname: string;
  pid_namespace: string | null;
  token: string;
  acquired_at: string;
  command?: string;
}

export interface LockOptions {
  timeoutMs?: number;
  staleMs?: number;
  /** Recorded in the lock file to help a person see who holds it. */
  command?: string;
  /** Called when a stale lock was broken (doctor reports it). */
  onStaleBroken?: (info: LockInfo | null, reason: string) => void;
  /** The lock file's name inside stateDir (default LOCK_FILE; the derive step uses DERIVE_LOCK_FILE). */
  file?: string;
}

export interface LockHandle {
  readonly path: string;
  readonly info: LockInfo;
  release(): void;
}

let cachedNs: string | null | undefined;
function pidNamespace(): string | null {
  if (cachedNs !== undefined) return cachedNs;
  try {
    cachedNs = readlinkSync('/proc/self/ns/pid');
  } catch {
    cachedNs = null;
  }
  return cachedNs;
}

function parseInfo(text: string): LockInfo | null {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.token === 'string' && typeof v.hostname === 'string') {
      return {
        pid: v.pid,
        hostname: v.hostname,
        pid_namespace: typeof v.pid_namespace === 'string' ? v.pid_namespace : null,
        token: v.token,
        acquired_at: typeof v.acquired_at === 'string' ? v.acquired_at : new Date(0).toISOString(),
        ...(typeof v.command === 'string' ? { command: v.command } : {}),
      };
    }
  } catch {
    /* unreadable: treated below */
  }
  return null;
}

/** The current holder, or null when unlocked (or unreadable). Never writes. */
export function readLockInfo(stateDir: string, file: string = LOCK_FILE): LockInfo | null {
  try {
    return parseInfo(readFileSync(join(stateDir, file), 'utf8'));
  } catch {
    return null;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function judgeLock(info: LockInfo | null, staleMs = DEFAULT_STALE_MS, fileMtimeMs?: number): { stale: boolean; reason: string } {
  if (!info) {
    // Content is always complete (hard-link protocol), so an unreadable lock was hand-made or damaged.
    const age = fileMtimeMs === undefined ? Infinity : Date.now() - fileMtimeMs;
    return age > 2_000
      ? { stale: true, reason: 'the lock file is unreadable' }
      : { stale: false, reason: 'the lock file is being written' };
  }
  const age = Date.now() - Date.parse(info.acquired_at);
  if (info.hostname === hostname() && info.pid_namespace === pidNamespace()) {
    if (!pidAlive(info.pid)) return { stale: true, reason: `process ${info.pid} on ${info.hostname} is gone` };
  }
  if (Number.isFinite(age) && age > staleMs) {
    return { stale: true, reason: `held since ${info.acquired_at}, longer than the stale timeout of ${Math.round(staleMs / 1000)} s` };
  }
  return { stale: false, reason: `held by pid ${info.pid} on ${info.hostname} since ${info.acquired_at}` };
}

function describe(info: LockInfo | null): string {
  if (!info) return 'an unknown process (unreadable lock file)';
  return `pid ${info.pid} on ${info.hostname}${info.command ? ` (${info.command})` : ''} since ${info.acquired_at}`;
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* gone already */
  }
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Try once. True when we now hold the lock, false when it is busy. The temp file holding our record
 * is removed on every path, a failed write (disk full) included, so nothing is left in .state/.
 */
function tryAcquire(stateDir: string, info: LockInfo, file: string): boolean {
  const lockPath = join(stateDir, file);
  const tmp = join(stateDir, `${file}.${process.pid}.${info.token.slice(0, 8)}.tmp`);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    try {
      const buf = Buffer.from(JSON.stringify(info));
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      writeFault('lock', tmp);
    } finally {
      closeSync(fd);
    }
    linkSync(tmp, lockPath);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    throw error;
  } finally {
    tryUnlink(tmp);
  }
}

/** Break a stale lock, guarded by a break mutex and a token re-check. Returns true if removed. */
function breakStale(stateDir: string, seen: LockInfo | null, staleMs: number, file: string): boolean {
  const lockPath = join(stateDir, file);
  const breakPath = `${lockPath}.break`;
  let fd: number;
  try {
    fd = openSync(breakPath, 'wx');
  } catch {
    // Someone else is breaking; if that breaker died, its mutex goes stale after a few seconds.
    const m = mtimeOf(breakPath);
    if (m !== undefined && Date.now() - m > 5_000) tryUnlink(breakPath);
    return false;
  }
  try {
    writeSync(fd, String(process.pid));
    const now = readLockInfo(stateDir, file);
    // An unreadable lock is broken only while that same file is still there (a missing one is no lock).
    const sameHolder = seen === null ? now === null && mtimeOf(lockPath) !== undefined : now !== null && now.token === seen.token;
    if (!sameHolder) return false;
    if (!judgeLock(now, staleMs, mtimeOf(lockPath)).stale) return false;
    tryUnlink(lockPath);
    return true;
  } finally {
    closeSync(fd);
    tryUnlink(breakPath);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function acquireLock(stateDir: string, opts: LockOptions = {}): Promise<LockHandle> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const staleMs = opts.staleMs ?? DEFAULT_STALE_MS;
  const file = opts.file ?? LOCK_FILE;
  const lockPath = join(stateDir, file);
  const started = Date.now();
  let delay = 1;
  for (;;) {
    const info: LockInfo = {
      pid: process.pid,
      hostname: hostname(),
      pid_namespace: pidNamespace(),
      token: randomBytes(16).toString('hex'),
      acquired_at: new Date().toISOString(),
      ...(opts.command ? { command: opts.command } : {}),
    };
    if (tryAcquire(stateDir, info, file)) {
      let released = false;
      return {
        path: lockPath,
        info,
        release() {
          if (released) return;
          released = true;
          const current = readLockInfo(stateDir, file);
          if (current && current.token === info.token) tryUnlink(lockPath);
        },
      };
    }
    const holder = readLockInfo(stateDir, file);
    const lockMtime = mtimeOf(lockPath);
    // Released between our link and our read: just retry. (Never "break" a lock that is not there: a
    // contender may link a new one in between, and removing that would let two writers in.)
    const verdict = holder === null && lockMtime === undefined ? { stale: false, reason: 'released' } : judgeLock(holder, staleMs, lockMtime);
    if (verdict.stale && breakStale(stateDir, holder, staleMs, file)) {
      opts.onStaleBroken?.(holder, verdict.reason);
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= timeoutMs) {
      throw new OrcError('LOCK_TIMEOUT', `.state is locked by ${describe(holder)}; gave up after ${waited} ms`, {
        location: { file: stateRel(file) },
        fix: 'wait for that command to finish and retry (or raise --lock-timeout); if that process no longer exists, run `orc-state doctor --repair`',
        data: { holder },
      });
    }
    const jittered = delay * (0.5 + Math.random());
    await sleep(Math.min(jittered, Math.max(1, timeoutMs - waited)));
    delay = Math.min(delay * 2, 50);
  }
}

export async function withLock<T>(stateDir: string, opts: LockOptions, fn: () => Promise<T> | T): Promise<T> {
  const handle = await acquireLock(stateDir, opts);
  try {
    return await fn();
  } finally {
    handle.release();
  }
}
