/**
 * `orc-state doctor [--repair]`: find what a crash, a concurrent writer or a
 * hand edit can leave behind in `.state/`, and repair what is safe.
 *
 * Public API:
 *   - checkStore(root): Promise<DoctorIssue[]>                 (stable) read-only, never writes
 *   - doctor(root, { repair?, lockTimeoutMs?, now? }): Promise<DoctorReport> (stable); a repair also expires the leases past `now` (leases.ts)
 *   - DoctorIssue, DoctorReport, DoctorCheck (stable)
 * Checks: stale lock; stale temp files (`*.tmp`, write-file-atomic
 * `*.json.<digits>`); torn log tail; corrupt lines (file:line; never deleted,
 * repair refused); seq gaps and duplicates (archives + live log); snapshot
 * missing/unreadable/behind/ahead of the log (Decision 4); snapshot ==
 * replay(log) for statuses, timestamps, retry counts, errors and workers;
 * stale indices (source_last_seq != snapshot last_seq); every event valid
 * against its event schema (a JSON line with a seq is not yet an event).
 * Repairs (under the lock, each reported): break a stale lock, remove stale
 * temp files, truncate a torn tail (bytes kept in .state/recovered/),
 * re-append events recorded in the snapshot but missing from the log,
 * rebuild current.json from the log (the old one kept in .state/recovered/),
 * regenerate derived files, recover the tasks and workers of a dead `orc-state run` (stale or
 * missing `.state/run.lock`) the way the next run does (../scheduler/recovery.ts) and remove its
 * stale run lock. Refused: anything when the log has a corrupt
 * line, a gap, or an event that does not replay.
 * Integration points: CLI doctor, crash tests, STATE-OBS-003 (--fix).
 * Dependencies: ../io/*, ../machines/index.js, ../repo/load-tasks.js, ./* (event-schema for the per-event check),
 * ../scheduler/run-lock.js, ../scheduler/recovery.js.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { OrcEvent, Snapshot, WorkerState } from '../model.js';
import { fsyncDir, isTempFileName, writeFileDurable } from '../io/atomic-write.js';
import { appendDurable, inspectTail, repairTornTail } from '../io/jsonl-log.js';
import { DEFAULT_LOCK_TIMEOUT_MS, DERIVE_LOCK_FILE, LOCK_FILE, acquireLock, judgeLock, pidAlive, readLockInfo, withLock, type LockInfo } from '../io/lock.js';
import { applyEvent, emptyState, fromSnapshot, toSnapshot, type LiveState } from '../machines/index.js';
import { loadTasks } from '../repo/load-tasks.js';
import { internalStore } from './commit.js';
import { expiryMessages } from './leases.js';
import { compareWithReplay, describeDifference } from './compare.js';
import { deriveAll } from './derive.js';
import { eventBatches, prunedBaseSeq } from './log.js';
import { rel, statePaths } from './paths.js';
import { startingCheckpoint } from './replay.js';
import { readSnapshot, serializeSnapshot } from './snapshot.js';
import { checkEventSchema } from './event-schema.js';
import { acquireRunLock, readRunLock, runLockIsStale } from '../scheduler/run-lock.js';
import { deadRunRequests } from '../scheduler/recovery.js';

/** Invalid events reported one by one before the rest are only counted. */
const MAX_INVALID_EVENT_ISSUES = 20;

/** Why `ev` is not a valid event (schema of its declared version), or null. */
function eventProblem(ev: OrcEvent): string | null {
  const check = checkEventSchema(ev);
  if (check.ok) return null;
  if (check.version === null) return `event seq ${ev.seq} has schema_version ${JSON.stringify(ev.schema_version ?? null)}; known: ${check.known.join(', ')}`;
  const first = check.errors[0];
  return `event seq ${ev.seq} does not follow the event schema ${check.version}: ${first ? `${first.instancePath || '(the event)'} ${first.message ?? ''}`.trim() : 'invalid'}${check.errors.length > 1 ? ` (+${check.errors.length - 1} more)` : ''}`;
}

export type DoctorCheck =
  | 'stale_lock'
  | 'lock_held'
  | 'stale_temp'
  | 'torn_tail'
  | 'corrupt_line'
  | 'seq_gap'
  | 'seq_duplicate'
  | 'replay_failed'
  | 'invalid_event'
  | 'snapshot_missing'
  | 'snapshot_unreadable'
  | 'snapshot_ahead'
  | 'snapshot_behind'
  | 'snapshot_mismatch'
  | 'stale_index';

export interface DoctorIssue {
  check: DoctorCheck;
  severity: 'error' | 'warning' | 'notice';
  file: string;
  line?: number;
  message: string;
  fix: string;
  /** doctor --repair can fix it. */
  repairable: boolean;
}

export interface DoctorReport {
  ok: boolean;
  /** What the first read-only pass found. */
  found: DoctorIssue[];
  /** Repairs done (only with repair: true). */
  repaired: string[];
  /** Repairs refused, and why. */
  refused: string[];
  /** What is still wrong after the repairs (equal to `found` without repair). */
  remaining: DoctorIssue[];
  last_seq: number;
  events: number;
}

const INDEX_FILES = ['by_workstream.json', 'by_status.json', 'by_worker.json'];
/** A unique temp file of a live process is left alone unless it is this old. */
const TEMP_GRACE_MS = 60 * 60_000;

/** Temp files in .state/ (and archive/, recovered/) that no live writer owns. */
function staleTempFiles(root: string, holdingLock: boolean): string[] {
  const { stateDir, archiveDir, recoveredDir } = statePaths(root);
  const out: string[] = [];
  for (const dir of [stateDir, archiveDir, recoveredDir]) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (!isTempFileName(name)) continue;
      const abs = join(dir, name);
      let age = Infinity;
      try {
        age = Date.now() - statSync(abs).mtimeMs;
      } catch {
        continue;
      }
      // current.json.tmp and the lock's temp are only written under the lock.
      const underLockOnly = name === 'current.json.tmp';
      const pidMatch = /\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
      const ownerAlive = pidMatch ? Number(pidMatch[1]) !== process.pid && pidAlive(Number(pidMatch[1])) : false;
      if (underLockOnly && !holdingLock && readLockInfo(stateDir) && !judgeLock(readLockInfo(stateDir)).stale) continue;
      if (ownerAlive && age < TEMP_GRACE_MS) continue;
      out.push(abs);
    }
  }
  return out;
}

/** A lock file's holder and verdict, or null when there is no such file. */
function judgeLockFile(stateDir: string, file: string): { info: LockInfo | null; verdict: { stale: boolean; reason: string } } | null {
  let mtime: number;
  try {
    mtime = statSync(join(stateDir, file)).mtimeMs;
  } catch {
    return null;
  }
  const info = readLockInfo(stateDir, file);
  return { info, verdict: judgeLock(info, undefined, mtime) };
}

interface ScanResult {
  issues: DoctorIssue[];
  state: LiveState;
  lastEvent: OrcEvent | null;
  events: number;
  /** The log can be trusted for a rebuild (no corruption, gap or replay failure). */
  clean: boolean;
}

/** Stream the whole log once: problems + replayed state. */
async function scanLog(root: string): Promise<ScanResult> {
  const issues: DoctorIssue[] = [];
  const checkpoint = startingCheckpoint(root);
  const state = checkpoint ? fromSnapshot(checkpoint) : emptyState();
  let lastEvent: OrcEvent | null = null;
  let events = 0;
  let clean = true;
  let replayOk = true;
  let invalidEvents = 0;
  for await (const batch of eventBatches(root, {
    mode: 'collect',
    withLines: true,
    baseSeq: prunedBaseSeq(root),
    onProblem: (p) => {
      if (p.kind === 'torn') return; // reported from inspectTail
      if (p.kind === 'corrupt') {
        clean = false;
        issues.push({
          check: 'corrupt_line',
          severity: 'error',
          file: p.file,
          line: p.line,
          message: p.message,
          fix: `look at ${p.file} line ${p.line}: restore it from a backup or version control; doctor never deletes a complete line`,
          repairable: false,
        });
      } else if (p.kind === 'gap') {
        clean = false;
        issues.push({ check: 'seq_gap', severity: 'error', file: p.file, line: p.line, message: p.message, fix: 'events are missing from the log: restore them from a backup or an archive', repairable: false });
      } else {
        issues.push({
          check: 'seq_duplicate',
          severity: 'warning',
          file: p.file,
          line: p.line,
          message: `${p.message} (an archive and the live log overlap, e.g. after an interrupted rotation)`,
          fix: 'run `orc-state log rotate` to seal the live log again; readers skip the repeated events meanwhile',
          repairable: false,
        });
      }
    },
  })) {
    events += batch.events.length;
    for (let i = 0; i < batch.events.length; i++) {
      const problem = eventProblem(batch.events[i] as OrcEvent);
      if (problem === null) continue;
      clean = false;
      if (++invalidEvents > MAX_INVALID_EVENT_ISSUES) continue;
      const line = batch.lines?.[i];
      issues.push({
        check: 'invalid_event',
        severity: 'error',
        file: batch.file,
        ...(line !== undefined ? { line } : {}),
        message: problem,
        fix: `look at ${batch.file}${line !== undefined ? ` line ${line}` : ''}: restore the event from a backup or version control; doctor never rewrites a complete line`,
        repairable: false,
      });
    }
    if (!replayOk) continue;
    for (let i = 0; i < batch.events.length; i++) {
      const ev = batch.events[i] as OrcEvent;
      try {
        applyEvent(state, ev);
        lastEvent = ev;
      } catch (error) {
        replayOk = false;
        clean = false;
        const line = batch.lines?.[i];
        issues.push({
          check: 'replay_failed',
          severity: 'error',
          file: batch.file,
          ...(line !== undefined ? { line } : {}),
          message: `event seq ${ev.seq} does not replay: ${(error as Error).message}`,
          fix: 'the log contradicts itself at this line; inspect the events of that entity before it (orc-state why)',
          repairable: false,
        });
        break;
      }
    }
  }
  if (invalidEvents > MAX_INVALID_EVENT_ISSUES) {
    issues.push({ check: 'invalid_event', severity: 'error', file: rel(root, statePaths(root).log), message: `${invalidEvents - MAX_INVALID_EVENT_ISSUES} more invalid event(s) not listed (${invalidEvents} in all)`, fix: 'run `orc-state validate --requirement STATE-OBS-004` for every location', repairable: false });
  }
  return { issues, state, lastEvent, events, clean };
}

export async function checkStore(root: string, holdingLock = false): Promise<{ issues: DoctorIssue[]; scan: ScanResult; snapshot: Snapshot | null }> {
  const paths = statePaths(root);
  const issues: DoctorIssue[] = [];
  const logFile = rel(root, paths.log);
  const curFile = rel(root, paths.current);

  if (!holdingLock) {
    const lock = judgeLockFile(paths.stateDir, LOCK_FILE);
    if (lock) {
      const lockPath = join(paths.stateDir, LOCK_FILE);
      if (lock.verdict.stale) {
        issues.push({ check: 'stale_lock', severity: 'warning', file: rel(root, lockPath), message: `stale lock: ${lock.verdict.reason}`, fix: 'run `orc-state doctor --repair` (or any writing command) to remove it', repairable: true });
      } else {
        issues.push({ check: 'lock_held', severity: 'notice', file: rel(root, lockPath), message: `lock ${lock.verdict.reason}${lock.info && lock.info.hostname !== hostname() ? ' (another host)' : ''}`, fix: 'none needed while that command runs', repairable: false });
      }
    }
  }

  // `orc-state run`'s own lock: a killed run leaves it; the next run takes it over and recovers that run's tasks.
  if (existsSync(paths.runLock)) {
    const run = readRunLock(paths);
    const file = rel(root, paths.runLock);
    if (runLockIsStale(run)) {
      issues.push({
        check: 'stale_lock',
        severity: 'warning',
        file,
        message: run ? `stale run lock: run ${run.run_id} (pid ${run.pid} on ${run.hostname}) is gone` : 'stale run lock: the file does not name a run',
        fix: "run `orc-state doctor --repair` (or the next `orc-state run`): it takes the lock over and recovers that run's tasks the way a run does (their leases also expire at the next commit)",
        repairable: true,
      });
    } else if (run) {
      issues.push({ check: 'lock_held', severity: 'notice', file, message: `run ${run.run_id} is running (pid ${run.pid} on ${run.hostname})`, fix: 'none needed while it runs', repairable: false });
    }
  }

  // The derive step's own lock (src/derive/guard.ts): a process killed while writing derived files leaves it.
  const deriveLock = judgeLockFile(paths.stateDir, DERIVE_LOCK_FILE);
  if (deriveLock?.verdict.stale) {
    issues.push({ check: 'stale_lock', severity: 'warning', file: rel(root, join(paths.stateDir, DERIVE_LOCK_FILE)), message: `stale derive lock: ${deriveLock.verdict.reason}`, fix: 'run `orc-state doctor --repair` (or any writing command: its derive step breaks it)', repairable: true });
  }

  for (const abs of staleTempFiles(root, holdingLock)) {
    issues.push({ check: 'stale_temp', severity: 'error', file: rel(root, abs), message: `leftover temp file ${rel(root, abs)} from an interrupted write`, fix: 'run `orc-state doctor --repair` to remove it (the file it was replacing is intact)', repairable: true });
  }

  const tail = inspectTail(paths.log);
  if (tail.tornBytes > 0) {
    issues.push({ check: 'torn_tail', severity: 'error', file: logFile, message: `${tail.tornBytes} byte(s) after the last newline of ${logFile}: an append that did not complete`, fix: 'run `orc-state doctor --repair`: the bytes are moved to .state/recovered/ and the log ends at its last complete line', repairable: true });
  }

  const scan = await scanLog(root);
  issues.push(...scan.issues);

  let snapshot: Snapshot | null = null;
  let snapshotReadable = true;
  try {
    snapshot = readSnapshot(root);
  } catch (error) {
    snapshotReadable = false;
    issues.push({ check: 'snapshot_unreadable', severity: 'error', file: curFile, message: (error as Error).message, fix: 'run `orc-state doctor --repair` to rebuild current.json from the log', repairable: scan.clean });
  }
  const loggedSeq = scan.state.last_seq;
  if (snapshotReadable && !snapshot) {
    if (loggedSeq > 0) issues.push({ check: 'snapshot_missing', severity: 'error', file: curFile, message: `${curFile} is missing but the log holds ${scan.events} event(s)`, fix: 'run `orc-state doctor --repair` to rebuild it from the log', repairable: scan.clean });
  } else if (snapshot) {
    if (snapshot.last_seq > loggedSeq) {
      const covered = snapshot.last_events.filter((e) => e.seq > loggedSeq).length === snapshot.last_seq - loggedSeq;
      issues.push({
        check: 'snapshot_ahead',
        severity: 'error',
        file: curFile,
        message: `${curFile} is at seq ${snapshot.last_seq} but the log ends at seq ${loggedSeq} (a commit was interrupted between the snapshot rename and the log append)`,
        fix: covered ? 'run `orc-state doctor --repair` (or any writing command): the events recorded in the snapshot are appended to the log' : 'run `orc-state doctor --repair` to rebuild current.json from the log',
        repairable: scan.clean,
      });
    } else if (snapshot.last_seq < loggedSeq) {
      issues.push({ check: 'snapshot_behind', severity: 'error', file: curFile, message: `${curFile} is at seq ${snapshot.last_seq} but the log ends at seq ${loggedSeq}`, fix: 'run `orc-state doctor --repair` to rebuild it from the log', repairable: scan.clean });
    } else if (scan.clean) {
      for (const d of compareWithReplay(snapshot, scan.state, 20)) {
        issues.push({ check: 'snapshot_mismatch', severity: 'error', file: curFile, message: describeDifference(d), fix: 'run `orc-state doctor --repair`: current.json is rebuilt from the log (the log is the record; the old file is kept in .state/recovered/)', repairable: true });
      }
    }
    for (const name of INDEX_FILES) {
      const abs = join(paths.stateDir, name);
      if (!existsSync(abs)) continue;
      let source: unknown;
      try {
        source = (JSON.parse(readFileSync(abs, 'utf8')) as { source_last_seq?: unknown }).source_last_seq;
      } catch {
        source = 'unreadable';
      }
      if (source !== snapshot.last_seq) {
        issues.push({ check: 'stale_index', severity: 'warning', file: rel(root, abs), message: `${rel(root, abs)} was built from seq ${String(source)} but current.json is at seq ${snapshot.last_seq}`, fix: 'run `orc-state doctor --repair` to regenerate the derived files (readers fall back to current.json meanwhile)', repairable: true });
      }
    }
  }
  return { issues, scan, snapshot };
}

export interface DoctorOptions {
  repair?: boolean;
  lockTimeoutMs?: number;
  /** The clock deciding which leases expired (repair only; default leases.clockOf). */
  now?: Date;
}

async function saveAside(root: string, abs: string, label: string): Promise<string | null> {
  if (!existsSync(abs)) return null;
  const { recoveredDir } = statePaths(root);
  mkdirSync(recoveredDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dest = join(recoveredDir, `${label}.${stamp}`);
  if (statSync(abs).isDirectory()) {
    // A directory where the file belongs: move it aside whole (its contents are kept), so the file can be rebuilt.
    renameSync(abs, dest);
    await fsyncDir(recoveredDir).catch(() => undefined);
    return dest;
  }
  await writeFileDurable(dest, readFileSync(abs));
  return dest;
}

async function repairLocked(root: string, repaired: string[], refused: string[]): Promise<void> {
  const paths = statePaths(root);
  // 1. temp files: we hold the lock, so current.json.tmp is certainly stale.
  for (const abs of staleTempFiles(root, true)) {
    try {
      unlinkSync(abs);
      repaired.push(`removed leftover temp file ${rel(root, abs)}`);
    } catch {
      /* vanished */
    }
  }
  await fsyncDir(paths.stateDir).catch(() => undefined);
  // 2. torn tail.
  const torn = await repairTornTail(paths.log, paths.recoveredDir);
  if (torn) repaired.push(`truncated ${torn.tornBytes} byte(s) of an incomplete append from ${rel(root, paths.log)} (kept in ${rel(root, torn.savedTo)})`);
  // 3. log + snapshot.
  const { issues, scan, snapshot } = await checkStore(root, true);
  if (!scan.clean) {
    for (const i of issues.filter((x) => !x.repairable && x.severity === 'error')) refused.push(`${i.file}${i.line ? `:${i.line}` : ''}: ${i.message}`);
    refused.push('snapshot and derived files were left untouched because the log itself needs a person (see above)');
    return;
  }
  let rewrite = false;
  let snap = snapshot;
  if (snap && snap.last_seq > scan.state.last_seq) {
    const logged = scan.state.last_seq;
    const missing = snap.last_events.filter((e) => e.seq > logged).sort((a, b) => a.seq - b.seq);
    const contiguous = missing.length === snap.last_seq - logged && missing.every((e, i) => e.seq === logged + 1 + i);
    if (contiguous) {
      await appendDurable(paths.log, missing.map((e) => JSON.stringify(e)).join('\n') + '\n');
      for (const e of missing) applyEvent(scan.state, e);
      scan.lastEvent = missing[missing.length - 1] ?? scan.lastEvent;
      repaired.push(`appended ${missing.length} event(s) (seq ${logged + 1}..${snap.last_seq}) recorded in current.json but missing from the log`);
    } else {
      rewrite = true;
    }
  }
  const snapIssue = issues.find((i) => ['snapshot_missing', 'snapshot_unreadable', 'snapshot_behind', 'snapshot_mismatch'].includes(i.check));
  if (snapIssue || rewrite || (snap && compareWithReplay(snap, scan.state, 1).length > 0)) {
    const kept = await saveAside(root, paths.current, 'current.json');
    snap = toSnapshot(scan.state, scan.lastEvent ? [scan.lastEvent] : []);
    await writeFileDurable(paths.current, serializeSnapshot(snap));
    repaired.push(`rebuilt ${rel(root, paths.current)} from the log at seq ${snap.last_seq}${kept ? ` (previous file kept as ${rel(root, kept)})` : ''}`);
  }
  // 4. derived files.
  const stale = issues.some((i) => i.check === 'stale_index') || repaired.length > 0;
  if (snap && stale) {
    try {
      const report = await deriveAll(root, loadTasks(root), snap);
      repaired.push(`regenerated derived files (${report.written.length}) from seq ${snap.last_seq}`);
    } catch (error) {
      refused.push(`derived files not regenerated: ${(error as Error).message}`);
    }
  }
}

/** A busy worker whose lease names a live process on this host is not dead, whatever the run lock says. */
const leaseHolderAlive = (w: WorkerState): boolean => !!w.lease && w.lease.host === hostname() && typeof w.lease.pid === 'number' && pidAlive(w.lease.pid);

/**
 * Under the `.state` lock: a run that died (its `.state/run.lock` is stale, or gone while its `run-*`
 * workers are not shut down) is recovered the way the next `run` does (../scheduler/recovery.ts),
 * holding the run lock meanwhile; the stale run lock is removed. A live run is never touched.
 */
async function recoverDeadRun(root: string, repaired: string[]): Promise<void> {
  const paths = statePaths(root);
  const lock = existsSync(paths.runLock) ? readRunLock(paths) : null;
  if (existsSync(paths.runLock) && !runLockIsStale(lock)) return;
  const before = readSnapshot(root);
  const pending = before ? deadRunRequests({ tasks: before.tasks, workers: before.workers, defs: new Map(), previous: lock, recoveredBy: 'doctor', timestamp: '', spare: leaseHolderAlive }) : null;
  if (!existsSync(paths.runLock) && !pending?.requests.length) return;
  const { handle, previous } = acquireRunLock(paths, `doctor-${process.pid}`, []);
  try {
    let recovered: string[] = [];
    let workers: string[] = [];
    if (pending?.requests.length) {
      const defs = new Map([...loadTasks(root).tasks].map(([id, loaded]) => [id, loaded.task] as const));
      const at = new Date().toISOString();
      await internalStore(root, { cacheDefinitions: false }).applyHeld((state) => {
        const r = deadRunRequests({ tasks: state.tasks.values(), workers: state.workers.values(), defs, previous: previous ?? lock, recoveredBy: 'doctor', timestamp: at, spare: leaseHolderAlive });
        recovered = r.recovered;
        workers = r.deadWorkers;
        return r.requests;
      });
    }
    const who = previous ?? lock;
    const run = who ? `run ${who.run_id} (pid ${who.pid} on ${who.hostname})` : 'a run whose lock is gone';
    if (recovered.length || workers.length) {
      repaired.push(`recovered what ${run} left: ${recovered.length ? `execution_failed/validation_failed (worker_crashed) for ${recovered.join(', ')}; ` : ''}worker_crashed for ${workers.join(', ') || 'no worker'}`);
    }
    if (previous) repaired.push(`removed the stale run lock ${rel(root, paths.runLock)} of ${run}`);
  } finally {
    handle.release();
  }
}

export async function doctor(root: string, options: DoctorOptions = {}): Promise<DoctorReport> {
  const first = await checkStore(root);
  const found = first.issues;
  const repaired: string[] = [];
  const refused: string[] = [];
  let remaining = found;
  let last_seq = first.scan.state.last_seq;
  let events = first.scan.events;
  if (options.repair) {
    const paths = statePaths(root);
    if (existsSync(paths.stateDir)) {
      await withLock(
        paths.stateDir,
        {
          timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
          command: 'orc-state doctor --repair',
          onStaleBroken: (info, reason) => repaired.push(`removed a stale lock (${reason})${info ? ` left by pid ${info.pid}` : ''}`),
        },
        async () => {
          await repairLocked(root, repaired, refused);
          // like every writer, a repair expires the leases past the clock (only on a log that replays)
          if (refused.length) return;
          try {
            const { expired } = await internalStore(root, { cacheDefinitions: false }).expireLeasesHeld(options.now ? { now: options.now } : {});
            for (const message of expiryMessages(expired)) repaired.push(`expired: ${message}`);
          } catch (error) {
            refused.push(`leases not checked: ${(error as Error).message}`);
          }
          try {
            await recoverDeadRun(root, repaired);
          } catch (error) {
            refused.push(`the dead run's tasks were not recovered: ${(error as Error).message}`);
          }
        },
      );
      // A stale derive lock is broken by taking it (its holder is gone); a live one is left to its holder.
      if (existsSync(join(paths.stateDir, DERIVE_LOCK_FILE))) {
        try {
          const handle = await acquireLock(paths.stateDir, {
            file: DERIVE_LOCK_FILE,
            timeoutMs: 0,
            onStaleBroken: (info, reason) => repaired.push(`removed a stale derive lock (${reason})${info ? ` left by pid ${info.pid}` : ''}`),
          });
          handle.release();
        } catch {
          /* held by a live process */
        }
      }
    }
    const after = await checkStore(root);
    remaining = after.issues;
    last_seq = after.scan.state.last_seq;
    events = after.scan.events;
  }
  const ok = !remaining.some((i) => i.severity === 'error');
  return { ok, found, repaired, refused, remaining, last_seq, events };
}
