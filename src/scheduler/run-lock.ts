/**
 * `.state/run.lock`: one `orc-state run` per repository at a time.
 *
 * Public API (stable):
 *   - acquireRunLock(paths, runId, workers) → { handle, previous }: creates the lock
 *     exclusively (O_EXCL); a lock left by a dead runner on this host (its pid is gone)
 *     is taken over and returned as `previous` so the caller recovers its tasks; a lock
 *     of a live runner, or of a runner on another host, refuses with LOCK_TIMEOUT (exit 3)
 *     naming the holder
 *   - readRunLock(paths) → RunLockInfo | null; runLockIsStale(info) → boolean
 *   - RunLockHandle.release()
 * Why refuse rather than join: a second runner would need claim leases on every task to
 * never run one twice; one runner per repo with -j workers gives the same parallelism.
 * Integration points: ./loop.ts; doctor reports a stale run lock through its stale-lock rules.
 * Dependencies: node:fs, node:os, ../io/lock.js (pidAlive), ../errors.js, ../engine/paths.js.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import { hostname } from 'node:os';
import { OrcError } from '../errors.js';
import { pidAlive } from '../io/lock.js';
import { rel, type StatePaths } from '../engine/paths.js';

export interface RunLockInfo {
  run_id: string;
  pid: number;
  hostname: string;
  started_at: string;
  workers: string[];
}

export interface RunLockHandle {
  info: RunLockInfo;
  release(): void;
}

export function readRunLock(paths: StatePaths): RunLockInfo | null {
  try {
    const v = JSON.parse(readFileSync(paths.runLock, 'utf8')) as Partial<RunLockInfo>;
    if (typeof v.pid !== 'number' || typeof v.hostname !== 'string' || typeof v.run_id !== 'string') return null;
    return { run_id: v.run_id, pid: v.pid, hostname: v.hostname, started_at: String(v.started_at ?? ''), workers: Array.isArray(v.workers) ? v.workers.filter((w): w is string => typeof w === 'string') : [] };
  } catch {
    return null;
  }
}

export function runLockIsStale(info: RunLockInfo | null): boolean {
  if (!info) return true;
  return info.hostname === hostname() && !pidAlive(info.pid);
}

function create(paths: StatePaths, info: RunLockInfo): void {
  const fd = openSync(paths.runLock, 'wx');
  try {
    writeSync(fd, `${JSON.stringify(info)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function acquireRunLock(paths: StatePaths, runId: string, workers: string[]): { handle: RunLockHandle; previous: RunLockInfo | null } {
  const info: RunLockInfo = { run_id: runId, pid: process.pid, hostname: hostname(), started_at: new Date().toISOString(), workers };
  let previous: RunLockInfo | null = null;
  for (let tries = 0; ; tries++) {
    try {
      create(paths, info);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 2) throw error;
      const held = readRunLock(paths);
      if (held && !runLockIsStale(held)) {
        throw new OrcError('LOCK_TIMEOUT', `another orc-state run (${held.run_id}, pid ${held.pid} on ${held.hostname}, since ${held.started_at}) is running on this repository`, {
          location: { file: rel(paths.root, paths.runLock) },
          fix:
            held.hostname === hostname()
              ? 'wait for it to finish, or stop it (Ctrl-C / kill its pid); a second run would execute tasks twice'
              : `it runs on another host: stop it there, or delete ${rel(paths.root, paths.runLock)} if that host is gone`,
        });
      }
      previous = held;
      // Take over only the lock we judged stale (another runner may have replaced it meanwhile).
      const again = readRunLock(paths);
      if (again && held && again.run_id !== held.run_id) continue;
      try {
        unlinkSync(paths.runLock);
      } catch {
        /* someone else took it over: retry */
      }
    }
  }
  return {
    handle: {
      info,
      release: () => {
        const now = readRunLock(paths);
        if (now && now.run_id === runId) {
          try {
            unlinkSync(paths.runLock);
          } catch {
            /* already gone */
          }
        }
      },
    },
    previous,
  };
}
