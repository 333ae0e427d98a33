/**
 * The one commit path every writer of `.state/` uses (STATE-OBS-001..004,
 * Decision 4, group commit).
 *
 * Public API:
 *   - applyTransitions(root, requests, options?): Promise<CommitResult>  (stable)
 *   - syncDefinitions(root, options?): Promise<SyncResult>               (stable)
 *   - openStore(root, options?): Store                                   (stable) same operations, caching definitions and state between commits
 *   - reconcileLocked(store, notices): Promise<LiveState>                 (internal) torn tail + Decision 4, used by doctor and rotation under the lock
 *   - writeSnapshotAndAppend(...)                                         (internal)
 *   - CommitOptions, CommitResult, SyncResult, Store, CommitNotice (stable)
 * Order, all under the `.state` lock: repair a torn log tail (bytes kept in
 * .state/recovered/) → if the snapshot records events the log lacks, append
 * them (Decision 4) → load the snapshot (replay when absent or behind the log)
 * → for each request: machine planTransition (guards), seq (gap-free),
 * event_id (random UUID), caused_by of derived events = the first event's id,
 * applyEvent, checkInvariants → write current.json via current.json.tmp +
 * fsync + rename + dir fsync, recording last_seq and the batch's events →
 * append every event in ONE write + fdatasync → derive (indices, metrics,
 * DAG/plan files) → release. The whole batch is rejected, nothing written,
 * when one request is illegal (the error of that request is thrown).
 * What survives a crash: before the rename, nothing changed; after the rename
 * but before the append completes, the next writer (or doctor) re-appends the
 * snapshot's last_events; after the append, everything. Derived files are
 * rebuilt by the next commit or by `doctor --repair`.
 * Integration points: CLI task/worker/sync/init, the runner and watcher, library users (src/index.ts).
 * Dependencies: ../io/*, ../machines/index.js (B1), ../repo/load-tasks.js (A), ./definitions-cache.js, ./derive.js.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hostname, userInfo } from 'node:os';
import { OrcError } from '../errors.js';
import { TASK_ID_PATTERN, type Finding, type OrcEvent, type Snapshot, type TaskDefinition } from '../model.js';
import { writeFileDurable } from '../io/atomic-write.js';
import { appendDurable, repairTornTail } from '../io/jsonl-log.js';
import { DEFAULT_LOCK_TIMEOUT_MS, withLock, type LockInfo } from '../io/lock.js';
import {
  applyEvent,
  checkInvariants,
  emptyState,
  fromSnapshot,
  planTransition,
  toSnapshot,
  type LiveState,
  type TransitionRequest,
} from '../machines/index.js';
import { loadTasks, type TaskSet } from '../repo/load-tasks.js';
import { loadTasksCached, rememberDefinitions } from './definitions-cache.js';
import { affectedWorkstreams, deriveAll, recentEvents, type DeriveReport } from './derive.js';
import { criticalTasks, type CriticalSet } from './critical.js';
import { lastLoggedSeq } from './log.js';
import { replayInto } from './replay.js';
import { placeholderSnapshot, readSnapshot, EVENT_VERSION, serializeSnapshot } from './snapshot.js';
import { rel, statePaths, type StatePaths } from './paths.js';

export interface CommitOptions {
  /** How long to wait for the .state lock (default 10 s); LOCK_TIMEOUT after it. */
  lockTimeoutMs?: number;
  /** Pre-loaded definitions (otherwise loadTasks(root) once per call). */
  taskSet?: TaskSet;
  /** Who requested the transitions, recorded on each event without its own actor (default user@host). */
  actor?: string;
  /** Regenerate derived files after the commit (default true). */
  derive?: boolean;
  /** Called for every repair done on the way (torn tail, re-appended events, stale lock). */
  onNotice?: (notice: CommitNotice) => void;
}

export interface CommitNotice {
  kind: 'torn_tail_repaired' | 'events_reappended' | 'snapshot_rebuilt' | 'stale_lock_broken' | 'derive_failed' | 'placeholder_adopted';
  message: string;
}

export interface CommitResult {
  events: OrcEvent[];
  snapshot: Snapshot;
  notices: CommitNotice[];
  derived: DeriveReport | null;
}

export interface SyncResult extends CommitResult {
  createdTasks: string[];
  createdWorkstreams: string[];
  orphaned: string[];
  /** Error findings of task files that exist but could not be loaded (not registered, not marked orphaned). */
  skipped: Finding[];
}

let cachedActor: string | undefined;
export function defaultActor(): string {
  if (process.env.ORC_STATE_ACTOR) return process.env.ORC_STATE_ACTOR;
  if (cachedActor) return cachedActor;
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry */
  }
  cachedActor = `${user}@${hostname()}`;
  return cachedActor;
}

/** Definitions by id, plus the set of tasks marked critical (memoised per loaded TaskSet). */
const definitionsCache = new WeakMap<TaskSet, { defs: Map<string, TaskDefinition>; critical: Set<string> }>();
function definitionsOf(taskSet: TaskSet): { defs: Map<string, TaskDefinition>; critical: Set<string> } {
  const cached = definitionsCache.get(taskSet);
  if (cached) return cached;
  const defs = new Map<string, TaskDefinition>();
  const critical = new Set<string>();
  for (const [id, loaded] of taskSet.tasks) {
    defs.set(id, loaded.task);
    if (loaded.task.critical === true) critical.add(id);
  }
  const out = { defs, critical };
  definitionsCache.set(taskSet, out);
  return out;
}

interface CachedState {
  key: string;
  state: LiveState;
}

function fileKey(path: string): string | null {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return null;
  }
}

export interface Store {
  readonly root: string;
  readonly paths: StatePaths;
  applyTransitions(requests: TransitionRequest[], options?: CommitOptions): Promise<CommitResult>;
  syncDefinitions(options?: CommitOptions): Promise<SyncResult>;
  /** Forget cached definitions (call after editing tasks/ in a long-running process). */
  reloadDefinitions(): void;
  /** Run fn under the store's lock with the reconciled state (doctor, rotation). */
  locked<T>(fn: (state: LiveState, notices: CommitNotice[]) => Promise<T>, options?: CommitOptions): Promise<T>;
}

export interface StoreOptions {
  lockTimeoutMs?: number;
  actor?: string;
  /** Keep the loaded definitions between commits (default true for openStore). */
  cacheDefinitions?: boolean;
}

/** The last day's events (for metrics), kept by a store between its commits while the log is only ours. */
interface RecentCache {
  /** Size of the live log right after our last append; another writer changes it. */
  logSize: number;
  events: OrcEvent[];
}
const RECENT_WINDOW_MS = 24 * 3600_000;
const RECENT_MAX = 50_000;

function logSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}

class StoreImpl implements Store {
  readonly paths: StatePaths;
  private taskSet: TaskSet | undefined;
  private cache: CachedState | undefined;
  private recent: RecentCache | undefined;

  constructor(readonly root: string, private readonly opts: StoreOptions) {
    this.paths = statePaths(root);
  }

  reloadDefinitions(): void {
    this.taskSet = undefined;
  }

  /**
   * Definitions for guards and derive: the caller's, this store's, or loadTasks served from the
   * per-user definitions cache (re-validated whenever a file under tasks/ changed). `fresh` (sync)
   * always reads every file and refreshes that cache.
   */
  private definitions(options: CommitOptions, fresh = false): TaskSet {
    if (options.taskSet) return options.taskSet;
    if (!fresh && this.taskSet && this.opts.cacheDefinitions !== false) return this.taskSet;
    let loaded: TaskSet;
    if (fresh) {
      loaded = loadTasks(this.root);
      rememberDefinitions(this.root, loaded);
    } else {
      loaded = loadTasksCached(this.root);
    }
    if (this.opts.cacheDefinitions !== false) this.taskSet = loaded;
    return loaded;
  }

  async locked<T>(fn: (state: LiveState, notices: CommitNotice[]) => Promise<T>, options: CommitOptions = {}): Promise<T> {
    const notices: CommitNotice[] = [];
    const notify = (n: CommitNotice) => {
      notices.push(n);
      options.onNotice?.(n);
    };
    mkdirSync(this.paths.stateDir, { recursive: true });
    return withLock(
      this.paths.stateDir,
      {
        timeoutMs: options.lockTimeoutMs ?? this.opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
        command: process.argv.slice(2).join(' ').slice(0, 200) || 'orc-state',
        onStaleBroken: (info: LockInfo | null, reason: string) =>
          notify({ kind: 'stale_lock_broken', message: `removed a stale lock (${reason})${info ? ` left by pid ${info.pid}` : ''}` }),
      },
      async () => {
        const state = await this.reconcile(notify);
        try {
          return await fn(state, notices);
        } catch (error) {
          this.cache = undefined; // the state may be half-applied
          throw error;
        }
      },
    );
  }

  /** Under the lock: torn tail, Decision 4, snapshot-or-replay. */
  private async reconcile(notify: (n: CommitNotice) => void): Promise<LiveState> {
    const { paths, root } = this;
    const torn = await repairTornTail(paths.log, paths.recoveredDir);
    if (torn) {
      notify({
        kind: 'torn_tail_repaired',
        message: `removed ${torn.tornBytes} byte(s) of an incomplete append from the end of ${rel(root, paths.log)} (kept in ${rel(root, torn.savedTo)})`,
      });
    }
    const logged = lastLoggedSeq(root);
    if (logged.corrupt) {
      throw new OrcError('STATE_CORRUPT', logged.corrupt.message, {
        location: logged.corrupt.line > 0 ? { file: logged.corrupt.file, line: logged.corrupt.line, column: 1 } : { file: logged.corrupt.file },
        fix: 'run `orc-state doctor` for details, then restore that line from a backup or remove it by hand (the line is never deleted automatically)',
      });
    }
    const key = fileKey(paths.current);
    if (this.cache && key !== null && this.cache.key === key && this.cache.state.last_seq === logged.seq) {
      return this.cache.state;
    }
    this.cache = undefined;
    const snapshot = readSnapshot(root);
    let state: LiveState;
    if (snapshot) {
      if (snapshot.last_seq > logged.seq) {
        const missing = (snapshot.last_events ?? []).filter((e) => e.seq > logged.seq).sort((a, b) => a.seq - b.seq);
        const contiguous =
          missing.length === snapshot.last_seq - logged.seq && missing.every((e, i) => e.seq === logged.seq + 1 + i);
        if (!contiguous) {
          throw new OrcError(
            'STATE_CORRUPT',
            `current.json is at seq ${snapshot.last_seq} but the log ends at seq ${logged.seq} and the snapshot does not record the missing events`,
            { location: { file: rel(root, paths.current) }, fix: 'run `orc-state doctor` to inspect; `doctor --repair` rebuilds current.json from the log' },
          );
        }
        await appendDurable(paths.log, missing.map((e) => JSON.stringify(e)).join('\n') + '\n');
        notify({
          kind: 'events_reappended',
          message: `appended ${missing.length} event(s) (seq ${missing[0]?.seq}..${snapshot.last_seq}) that current.json recorded but the log lacked (interrupted commit)`,
        });
        state = fromSnapshot(snapshot);
      } else if (snapshot.last_seq < logged.seq) {
        state = fromSnapshot(snapshot);
        const stats = await replayInto(state, root);
        notify({ kind: 'snapshot_rebuilt', message: `current.json was behind the log (seq ${snapshot.last_seq} < ${logged.seq}); replayed ${stats.applied} event(s)` });
      } else {
        state = fromSnapshot(snapshot);
      }
    } else {
      state = emptyState();
      // The guide's Quick Start current.json (empty or empty arrays) with an empty log: an empty store.
      // Keep a copy before the first write replaces it.
      const placeholder = logged.seq === 0 ? placeholderSnapshot(root) : null;
      if (placeholder !== null) {
        const copy = join(paths.backupsDir, 'current.json.quickstart');
        if (!existsSync(copy) || readFileSync(copy, 'utf8') !== placeholder) {
          mkdirSync(paths.backupsDir, { recursive: true });
          await writeFileDurable(copy, placeholder);
        }
        notify({ kind: 'placeholder_adopted', message: `${rel(root, paths.current)} is the guide's Quick Start placeholder (no state yet): adopted as an empty store and upgraded in place; the original is kept as ${rel(root, copy)}` });
      }
      if (logged.seq > 0) {
        const stats = await replayInto(state, root);
        notify({ kind: 'snapshot_rebuilt', message: `current.json was missing; rebuilt from ${stats.applied} logged event(s)` });
      }
    }
    return state;
  }

  /** Write the snapshot, then append the events (STATE-OBS-003 order); remember the state. */
  async writeSnapshotAndAppend(state: LiveState, events: OrcEvent[], previousLastEvents: OrcEvent[] | null): Promise<Snapshot> {
    const snapshot = toSnapshot(state, events.length ? events : (previousLastEvents ?? []));
    await writeFileDurable(this.paths.current, serializeSnapshot(snapshot));
    const sizeBefore = this.recent ? logSize(this.paths.log) : -1;
    if (events.length) await appendDurable(this.paths.log, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const key = fileKey(this.paths.current);
    this.cache = key ? { key, state } : undefined;
    this.rememberRecent(events, sizeBefore);
    return snapshot;
  }

  /** Keep the last day's events in memory while no other process appended to the log since our last commit. */
  private rememberRecent(events: OrcEvent[], sizeBefore: number): void {
    if (!this.recent || this.recent.logSize !== sizeBefore) {
      this.recent = { logSize: logSize(this.paths.log), events: recentEvents(this.root, new Date(), RECENT_WINDOW_MS) };
      return;
    }
    const since = Date.now() - RECENT_WINDOW_MS;
    const kept = this.recent.events.concat(events).filter((e) => Date.parse(e.timestamp) >= since);
    this.recent = { logSize: logSize(this.paths.log), events: kept.length > RECENT_MAX ? kept.slice(-RECENT_MAX) : kept };
  }

  async applyTransitions(requests: TransitionRequest[], options: CommitOptions = {}): Promise<CommitResult> {
    const taskSet = this.definitions(options);
    const { defs, critical: flagged } = definitionsOf(taskSet);
    const critical = criticalTasks(this.root, defs, flagged);
    return this.locked(async (state, notices) => {
      const events = planBatch(state, defs, critical, requests, options.actor ?? this.opts.actor ?? defaultActor());
      if (!events.length) {
        return { events, snapshot: toSnapshot(state, []), notices, derived: null };
      }
      const snapshot = await this.writeSnapshotAndAppend(state, events, null);
      const derived = await this.deriveSafely(taskSet, snapshot, events, options, notices);
      return { events, snapshot, notices, derived };
    }, options);
  }

  async deriveSafely(taskSet: TaskSet, snapshot: Snapshot, events: OrcEvent[], options: CommitOptions, notices: CommitNotice[]): Promise<DeriveReport | null> {
    if (options.derive === false) return null;
    try {
      return await deriveAll(this.root, taskSet, snapshot, events.length ? affectedWorkstreams(events, taskSet) : undefined, this.recent?.events);
    } catch (error) {
      // The commit is durable already; stale derived files are detected by readers and fixed by doctor.
      const n: CommitNotice = { kind: 'derive_failed', message: `derived files not refreshed: ${(error as Error).message}` };
      notices.push(n);
      options.onNotice?.(n);
      return null;
    }
  }

  async syncDefinitions(options: CommitOptions = {}): Promise<SyncResult> {
    this.reloadDefinitions();
    const taskSet = this.definitions(options, true);
    const { defs, critical: flagged } = definitionsOf(taskSet);
    const critical = criticalTasks(this.root, defs, flagged);
    return this.locked(async (state, notices) => {
      const now = new Date().toISOString();
      const requests: TransitionRequest[] = [];
      const createdWorkstreams: string[] = [];
      const createdTasks: string[] = [];
      for (const ws of [...taskSet.byWorkstream.keys()].sort()) {
        if (!state.workstreams.has(ws)) {
          requests.push({ entity_type: 'workstream', entity_id: ws, trigger: 'workstream_created', timestamp: now });
          createdWorkstreams.push(ws);
        }
      }
      for (const id of [...taskSet.tasks.keys()].sort()) {
        if (!state.tasks.has(id)) {
          requests.push({ entity_type: 'task', entity_id: id, trigger: 'task_created', timestamp: now });
          createdTasks.push(id);
        }
      }
      // Task files that exist but did not load (syntax, depth, size, schema): reported, never
      // mistaken for a deleted definition (their tasks keep their state and are not marked orphaned).
      const loadedFiles = new Set([...taskSet.tasks.values()].map((t) => t.file));
      const skipped = taskSet.findings.filter((f) => f.severity === 'error' && f.file.startsWith('tasks/') && f.file.endsWith('.json') && !loadedFiles.has(f.file));
      const brokenFiles = new Set(skipped.map((f) => f.file.slice(f.file.lastIndexOf('/') + 1)));
      // Tasks whose definition file is gone stay in the state, marked (STATE-OBS-001).
      const orphaned: string[] = [];
      let flagsChanged = false;
      for (const [id, task] of state.tasks) {
        const isOrphan = !taskSet.tasks.has(id) && !brokenFiles.has(`${id}.json`);
        if (isOrphan) orphaned.push(id);
        if (Boolean(task.orphaned) !== isOrphan) {
          flagsChanged = true;
          // Replace, never mutate: the snapshot serialiser caches each entity object's JSON.
          const next = { ...task };
          if (isOrphan) next.orphaned = true;
          else delete next.orphaned;
          state.tasks.set(id, next);
        }
      }
      const events = planBatch(state, defs, critical, requests, options.actor ?? this.opts.actor ?? defaultActor());
      if (!events.length && !flagsChanged) {
        return { events, snapshot: toSnapshot(state, []), notices, derived: null, createdTasks, createdWorkstreams, orphaned, skipped };
      }
      const previous = events.length ? null : (readSnapshot(this.root)?.last_events ?? []);
      const snapshot = await this.writeSnapshotAndAppend(state, events, previous);
      const derived = await this.deriveSafely(taskSet, snapshot, events, options, notices);
      return { events, snapshot, notices, derived, createdTasks, createdWorkstreams, orphaned, skipped };
    }, options);
  }
}

/**
 * Plan, number and apply every request in order on `state` (mutates it).
 * Throws the first request's error (ILLEGAL_TRANSITION, INVARIANT_VIOLATION...)
 * with the request's index; the caller then discards the state.
 */
export function planBatch(
  state: LiveState,
  defs: ReadonlyMap<string, TaskDefinition>,
  critical: CriticalSet,
  requests: TransitionRequest[],
  actor: string,
): OrcEvent[] {
  const out: OrcEvent[] = [];
  let seq = state.last_seq;
  requests.forEach((request, index) => {
    // Event timestamps never go backwards in the log, so `replay --at` is an exact prefix.
    const req = monotonic(request, state.timestamp);
    let pending;
    try {
      pending = planTransition(state, { defs, criticalTasks: critical }, req);
    } catch (error) {
      if (error instanceof OrcError && requests.length > 1) {
        error.details.data = { ...(error.details.data ?? {}), request_index: index, batch_size: requests.length };
      }
      throw error;
    }
    let firstId: string | null = null;
    const touched = new Set<string>();
    for (const p of pending) {
      // seq and event_id lead each line (key order is the line's reading order).
      const { schema_version: version, ...rest } = p;
      const event: OrcEvent = {
        schema_version: version ?? EVENT_VERSION,
        seq: ++seq,
        event_id: randomUUID(),
        ...rest,
        caused_by: firstId ?? p.caused_by ?? req.caused_by ?? null,
        actor: p.actor ?? req.actor ?? actor,
      } as OrcEvent;
      if (firstId === null) firstId = event.event_id;
      applyEvent(state, event);
      touched.add(event.entity_id);
      if (typeof event.metadata.task_id === 'string') touched.add(event.metadata.task_id);
      if (typeof event.metadata.worker_id === 'string') touched.add(event.metadata.worker_id);
      out.push(event);
    }
    // Only the entities this request touched: cheap on a 10,000-task state.
    checkInvariants(state, defs, touched);
  });
  return out;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Refuse what would make a schema-invalid event or snapshot (ids, caused_by), before anything is planned. */
function checkRequest(req: TransitionRequest): void {
  if (typeof req.entity_id !== 'string' || !TASK_ID_PATTERN.test(req.entity_id)) {
    throw new OrcError('USAGE', `${req.entity_type} id ${JSON.stringify(req.entity_id)} is not a valid id`, {
      fix: 'ids start with a letter or digit and contain only letters, digits, ".", "_" and "-" (at most 128 characters)',
    });
  }
  if (req.caused_by != null && (typeof req.caused_by !== 'string' || !UUID.test(req.caused_by))) {
    throw new OrcError('USAGE', `caused_by ${JSON.stringify(req.caused_by)} is not an event_id (a UUID)`, {
      fix: 'pass the event_id of an earlier event, e.g. from `orc-state why <task_id> --json`',
    });
  }
}

function monotonic(req: TransitionRequest, last: string): TransitionRequest {
  checkRequest(req);
  const ms = Date.parse(req.timestamp);
  if (typeof req.timestamp !== 'string' || Number.isNaN(ms)) {
    throw new OrcError('USAGE', `request for ${req.entity_type} ${req.entity_id}: timestamp ${JSON.stringify(req.timestamp)} is not an ISO-8601 time`, {
      fix: 'use new Date().toISOString(), e.g. 2026-01-31T12:00:00.000Z',
    });
  }
  const lastMs = last ? Date.parse(last) : NaN;
  const iso = !Number.isNaN(lastMs) && lastMs > ms ? new Date(lastMs).toISOString() : new Date(ms).toISOString();
  return iso === req.timestamp ? req : { ...req, timestamp: iso };
}

export function openStore(root: string, options: StoreOptions = {}): Store {
  return new StoreImpl(root, options);
}

/** One-shot commit: load definitions, lock, commit the batch, derive, release. */
export async function applyTransitions(root: string, requests: TransitionRequest[], options: CommitOptions = {}): Promise<CommitResult> {
  return new StoreImpl(root, { cacheDefinitions: false }).applyTransitions(requests, options);
}

/** Register task/workstream definitions not yet in the state (task_created / workstream_created, one batch). */
export async function syncDefinitions(root: string, options: CommitOptions = {}): Promise<SyncResult> {
  return new StoreImpl(root, { cacheDefinitions: false }).syncDefinitions(options);
}

/** Internal access for doctor and rotation (same process, under the lock). */
export function internalStore(root: string, options: StoreOptions = {}): StoreImpl {
  return new StoreImpl(root, options);
}
export type { StoreImpl };
