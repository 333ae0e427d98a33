/**
 * The one commit path every writer of `.state/` uses (STATE-OBS-001..004,
 * Decision 4, group commit).
 *
 * Public API:
 *   - applyTransitions(root, requests, options?): Promise<CommitResult>  (stable)
 *   - syncDefinitions(root, options?): Promise<SyncResult>               (stable)
 *   - openStore(root, options?): Store                                   (stable) same operations, caching definitions and state between commits
 *   - reconcileLocked(store, notices): Promise<LiveState>                 (internal) torn tail + Decision 4, used by doctor and rotation under the lock
 *   - StoreImpl.expireLeasesHeld / applyHeld (internal): doctor --repair's lease expiry and dead-run recovery, lock already held
 *   - writeSnapshotAndAppend(...)                                         (internal)
 *   - CommitOptions, CommitResult, SyncResult, Store, CommitNotice (stable)
 *   - Store.subscribe(listener) / Store.flush()                          (stable) notifications after each durable commit
 * Order, under the `.state` lock: repair a torn log tail (bytes kept in
 * .state/recovered/) → if the snapshot records events the log lacks, append
 * them (Decision 4) → load the snapshot (replay when absent or behind the log)
 * → for each request: machine planTransition (guards), seq (gap-free),
 * event_id (random UUID), caused_by of derived events = the first event's id,
 * applyEvent, checkInvariants → write current.json via current.json.tmp +
 * fsync + rename + dir fsync, recording last_seq and the batch's events →
 * append every event in ONE write + fdatasync → release; then (outside the
 * lock) notify the subscribers (src/store/notify.ts): the derived files
 * (indices, metrics, DAG/plan files) are one of them, src/derive/refresher.ts,
 * coalescing and seq-guarded; `derive: true` waits for it. The whole batch is rejected, nothing written,
 * when one request is illegal (the error of that request is thrown).
 * A commit that fails while writing (disk full) leaves nothing behind: temp files are removed, a
 * failed append is cut back and the previous current.json restored (writeSnapshotThenAppend).
 * A commit killed mid-way may leave its `current.json.prev.*.tmp` link: the next writer that has
 * no cached state removes it under the lock (removeKeptSnapshots).
 * What survives a crash: before the rename, nothing changed; after the rename
 * but before the append completes, the next writer (or doctor) re-appends the
 * snapshot's last_events; after the append, everything. Derived files are
 * rebuilt by the next commit or by `doctor --repair`.
 * Leases (./leases.ts): before every batch (applyTransitions, syncDefinitions) the leases
 * expired by the commit clock (CommitOptions.now) are expired through the machines and
 * committed on their own (CommitResult.expired), so they stay even when the batch is
 * refused; every request's lease token is checked and heartbeats are planned by leases.ts.
 * A batch may be a planner called under the lock with the live state (claim).
 * Integration points: CLI task/worker/sync/init, the runner and watcher, library users (src/index.ts).
 * Dependencies: ../io/*, ../machines/index.js (B1), ../repo/load-tasks.js (A), ./definitions-cache.js, ./derive.js,
 * ../store/notify.js, ../derive/refresher.js.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { link, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname, userInfo } from 'node:os';
import { OrcError } from '../errors.js';
import { TASK_ID_PATTERN, type Finding, type OrcEvent, type Snapshot, type TaskDefinition } from '../model.js';
import { fsyncDirSync, writeFileDurable } from '../io/atomic-write.js';
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
import { lazyDefinitions, loadTasksCached, loadTasksLazy, rememberDefinitions } from './definitions-cache.js';
import { affectedWorkstreams, deriveAll, type DeriveReport } from './derive.js';
import { DerivedRefresher } from '../derive/refresher.js';
import { Subscribers, touchedEntities, type CommitNotification, type StoreListener, type Unsubscribe } from '../store/notify.js';
import { criticalTasks, type CriticalSet } from './critical.js';
import { lastLoggedSeq } from './log.js';
import { clockOf, expiryMessages, leaseExpiryRequests, planLeaseRequest } from './leases.js';
import { replayInto } from './replay.js';
import { placeholderSnapshot, readSnapshot, EVENT_VERSION, serializeSnapshotBytes } from './snapshot.js';
import { rel, statePaths, type StatePaths } from './paths.js';

export interface CommitOptions {
  /** How long to wait for the .state lock (default 10 s); LOCK_TIMEOUT after it. */
  lockTimeoutMs?: number;
  /** Pre-loaded definitions (otherwise loadTasks(root) once per call). */
  taskSet?: TaskSet;
  /** Who requested the transitions, recorded on each event without its own actor (default user@host). */
  actor?: string;
  /**
   * Derived files after the commit, always outside the lock: true (default) waits for the store's
   * refresher and returns its report; 'background' returns at once (the refresh is coalesced with
   * later commits; `store.flush()` or the CLI's exit waits for it); false skips this commit's refresh.
   */
  derive?: boolean | 'background';
  /** The clock for timestamps the store makes itself (sync's events) and for metrics (default: system clock). */
  clock?: () => Date;
  /** Called for every repair done on the way (torn tail, re-appended events, stale lock). */
  onNotice?: (notice: CommitNotice) => void;
  /** The clock that decides which leases expired (default: leases.clockOf, i.e. $ORC_STATE_NOW or the wall clock). */
  now?: Date;
}

/** The requests of a batch, or a planner that builds them under the lock from the live state (after lease expiry). */
export type BatchRequests = TransitionRequest[] | ((state: Readonly<LiveState>) => TransitionRequest[]);

export interface CommitNotice {
  kind: 'torn_tail_repaired' | 'events_reappended' | 'snapshot_rebuilt' | 'stale_lock_broken' | 'derive_failed' | 'placeholder_adopted' | 'lease_expired';
  message: string;
}

export interface CommitResult {
  events: OrcEvent[];
  /** Events of leases found expired before the batch (committed first, on their own; see leases.ts). */
  expired?: OrcEvent[];
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
function definitionsOf(taskSet: TaskSet): { defs: ReadonlyMap<string, TaskDefinition>; critical: CriticalSet } {
  // A one-shot commit's lazy set: lookups read only the workstream directories asked about.
  const lazy = lazyDefinitions(taskSet);
  if (lazy) return lazy;
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
  applyTransitions(requests: BatchRequests, options?: CommitOptions): Promise<CommitResult>;
  syncDefinitions(options?: CommitOptions): Promise<SyncResult>;
  /** Forget cached definitions (call after editing tasks/ in a long-running process). */
  reloadDefinitions(): void;
  /** Run fn under the store's lock with the reconciled state (doctor, rotation). */
  locked<T>(fn: (state: LiveState, notices: CommitNotice[]) => Promise<T>, options?: CommitOptions): Promise<T>;
  /** Hear about every durable commit of this store (after the lock is released): seq range, events, touched entities. */
  subscribe(listener: StoreListener): Unsubscribe;
  /** Wait until the derived files of every commit so far are refreshed. */
  flush(): Promise<void>;
}

export interface StoreOptions {
  lockTimeoutMs?: number;
  actor?: string;
  /** Keep the loaded definitions between commits (default true for openStore). */
  cacheDefinitions?: boolean;
  /** false: no derived-files refresher is subscribed (the caller derives, or nobody does). Default true. */
  derive?: boolean;
  /** The clock for sync timestamps and metrics (default: system clock). */
  clock?: () => Date;
  /** A background refresh of derived files failed (the commit itself is durable). */
  onDeriveError?: (error: Error) => void;
}


class StoreImpl implements Store {
  readonly paths: StatePaths;
  private taskSet: TaskSet | undefined;
  private cache: CachedState | undefined;
  private readonly subscribers: Subscribers;
  private readonly refresher: DerivedRefresher | null;

  constructor(readonly root: string, private readonly opts: StoreOptions) {
    this.paths = statePaths(root);
    this.subscribers = new Subscribers((error) => opts.onDeriveError?.(error instanceof Error ? error : new Error(String(error))));
    // The derived files are one subscriber among others (the store never derives under its lock).
    this.refresher = opts.derive === false ? null : new DerivedRefresher(root, { ...(opts.clock ? { now: opts.clock } : {}), ...(opts.onDeriveError ? { onError: opts.onDeriveError } : {}) });
  }

  subscribe(listener: StoreListener): Unsubscribe {
    return this.subscribers.add(listener);
  }

  async flush(): Promise<void> {
    await this.refresher?.flush();
  }

  /** After the lock is released: tell every subscriber, then (unless told otherwise) wait for this commit's derived files. */
  private async published(taskSet: TaskSet, snapshot: Snapshot, events: OrcEvent[], definitionsChanged: boolean, options: CommitOptions, notices: CommitNotice[]): Promise<DeriveReport | null> {
    const n: CommitNotification = {
      root: this.root,
      firstSeq: events[0]?.seq ?? snapshot.last_seq,
      lastSeq: snapshot.last_seq,
      events,
      snapshot,
      taskSet,
      touched: touchedEntities(events),
      affectedWorkstreams: definitionsChanged || !events.length ? undefined : affectedWorkstreams(events, taskSet),
    };
    this.subscribers.publish(n);
    if (!this.refresher || options.derive === false) return null;
    const refreshed = this.refresher.enqueue(n);
    if (options.derive === 'background') return null;
    const outcome = await refreshed;
    if (outcome.error) {
      // The commit is durable already; stale derived files are detected by readers and fixed by the next refresh or doctor.
      const notice: CommitNotice = { kind: 'derive_failed', message: `derived files not refreshed: ${outcome.error.message}` };
      notices.push(notice);
      options.onNotice?.(notice);
    }
    return outcome.report;
  }

  reloadDefinitions(): void {
    this.taskSet = undefined;
  }

  /**
   * Definitions for guards and derive: the caller's, this store's, or loadTasks served from the
   * per-user definitions cache (re-validated whenever a file under tasks/ changed); a one-shot store
   * (cacheDefinitions: false) reads that cache one workstream directory at a time, stat-checked
   * (loadTasksLazy). `fresh` (sync) always reads every file and refreshes that cache.
   */
  private definitions(options: CommitOptions, fresh = false): TaskSet {
    if (options.taskSet) return options.taskSet;
    if (!fresh && this.taskSet && this.opts.cacheDefinitions !== false) return this.taskSet;
    let loaded: TaskSet;
    if (fresh) {
      loaded = loadTasks(this.root);
      rememberDefinitions(this.root, loaded);
    } else {
      // A one-shot store reads only what its commit needs (the lazy set falls back to a full read by itself).
      loaded = (this.opts.cacheDefinitions === false ? loadTasksLazy(this.root) : null) ?? loadTasksCached(this.root);
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
    if (!this.cache) removeKeptSnapshots(paths);
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
    await writeSnapshotThenAppend(this.paths, serializeSnapshotBytes(snapshot, { reuse: this.opts.cacheDefinitions !== false }), events.length ? events.map((e) => JSON.stringify(e)).join('\n') + '\n' : '');
    const key = fileKey(this.paths.current);
    this.cache = key ? { key, state } : undefined;
    return snapshot;
  }

  async applyTransitions(requests: BatchRequests, options: CommitOptions = {}): Promise<CommitResult> {
    const taskSet = this.definitions(options);
    const { defs, critical: flagged } = definitionsOf(taskSet);
    const critical = criticalTasks(this.root, defs, flagged);
    let expired: OrcEvent[] = [];
    let committed: { events: OrcEvent[]; snapshot: Snapshot; notices: CommitNotice[]; written: boolean };
    try {
      committed = await this.locked(async (state, notices) => {
        const actor = options.actor ?? this.opts.actor ?? defaultActor();
        expired = await this.expireLeases(state, defs, critical, actor, options, notices);
        const events = planBatch(state, defs, critical, typeof requests === 'function' ? requests(state) : requests, actor);
        if (!events.length) return { events, snapshot: toSnapshot(state, expired), notices, written: expired.length > 0 };
        const snapshot = await this.writeSnapshotAndAppend(state, events, null);
        return { events, snapshot, notices, written: true };
      }, options);
    } catch (error) {
      // The expiries are durable already: publish them (derived files, subscribers) before reporting the batch's error.
      const after = expired.length ? readSnapshot(this.root) : null;
      if (after) await this.published(taskSet, after, expired, false, options, []);
      throw error;
    }
    const { events, snapshot, notices, written } = committed;
    const extra = expired.length ? { expired } : {};
    const derived = written ? await this.published(taskSet, snapshot, expired.concat(events), false, options, notices) : null;
    return { events, ...extra, snapshot, notices, derived };
  }

  /** doctor --repair: expire leases (and derive) while the caller already holds the `.state` lock. */
  async expireLeasesHeld(options: CommitOptions = {}): Promise<{ expired: OrcEvent[]; notices: CommitNotice[] }> {
    const { events, notices } = await this.commitHeld((state, defs, critical, actor, notices) => this.expireLeases(state, defs, critical, actor, options, notices), options);
    return { expired: events, notices };
  }

  /** doctor --repair: commit a batch planned from the live state while the caller already holds the `.state` lock (then derive). */
  async applyHeld(requests: (state: Readonly<LiveState>) => TransitionRequest[], options: CommitOptions = {}): Promise<{ events: OrcEvent[]; notices: CommitNotice[] }> {
    return this.commitHeld(async (state, defs, critical, actor) => {
      const events = planBatch(state, defs, critical, requests(state), actor);
      if (events.length) await this.writeSnapshotAndAppend(state, events, null);
      return events;
    }, options);
  }

  private async commitHeld(
    write: (state: LiveState, defs: ReadonlyMap<string, TaskDefinition>, critical: CriticalSet, actor: string, notices: CommitNotice[]) => Promise<OrcEvent[]>,
    options: CommitOptions,
  ): Promise<{ events: OrcEvent[]; notices: CommitNotice[] }> {
    const notices: CommitNotice[] = [];
    const state = await this.reconcile((n) => notices.push(n));
    const taskSet = this.definitions(options);
    const { defs, critical: flagged } = definitionsOf(taskSet);
    const actor = options.actor ?? this.opts.actor ?? defaultActor();
    let events: OrcEvent[];
    try {
      events = await write(state, defs, criticalTasks(this.root, defs, flagged), actor, notices);
    } catch (error) {
      this.cache = undefined; // the state may be half-applied
      throw error;
    }
    if (events.length) await this.deriveSafely(taskSet, toSnapshot(state, events), events, options, notices);
    return { events, notices };
  }

  /** Under the lock: commit the expiry of every lease past the commit clock (leases.ts), before the batch. */
  async expireLeases(state: LiveState, defs: ReadonlyMap<string, TaskDefinition>, critical: CriticalSet, actor: string, options: CommitOptions, notices: CommitNotice[]): Promise<OrcEvent[]> {
    const requests = leaseExpiryRequests(state, clockOf(options));
    if (!requests.length) return [];
    const events = planBatch(state, defs, critical, requests, actor);
    await this.writeSnapshotAndAppend(state, events, null);
    for (const message of expiryMessages(events)) {
      const n: CommitNotice = { kind: 'lease_expired', message };
      notices.push(n);
      options.onNotice?.(n);
    }
    return events;
  }

  /** Internal (init, rotation, doctor): derive now, reporting a failure as a notice (the write is durable already). */
  async deriveSafely(taskSet: TaskSet, snapshot: Snapshot, events: OrcEvent[], options: CommitOptions, notices: CommitNotice[]): Promise<DeriveReport | null> {
    if (options.derive === false) return null;
    try {
      const now = (options.clock ?? this.opts.clock ?? (() => new Date()))();
      return await deriveAll(this.root, taskSet, snapshot, events.length ? affectedWorkstreams(events, taskSet) : undefined, undefined, now);
    } catch (error) {
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
    let expired: OrcEvent[] = [];
    const committed = await this.locked(async (state, notices) => {
      const actor = options.actor ?? this.opts.actor ?? defaultActor();
      expired = await this.expireLeases(state, defs, critical, actor, options, notices);
      const now = (options.clock ?? this.opts.clock ?? (() => clockOf(options)))().toISOString();
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
      const events = planBatch(state, defs, critical, requests, actor);
      if (!events.length && !flagsChanged) {
        return { events, snapshot: toSnapshot(state, expired), notices, written: expired.length > 0, createdTasks, createdWorkstreams, orphaned, skipped };
      }
      const previous = events.length ? null : expired.length ? expired : (readSnapshot(this.root)?.last_events ?? []);
      const snapshot = await this.writeSnapshotAndAppend(state, events, previous);
      return { events, snapshot, notices, written: true, createdTasks, createdWorkstreams, orphaned, skipped };
    }, options);
    const { written, ...rest } = committed;
    const extra = expired.length ? { expired } : {};
    // Definitions were (re)read: every workstream's DAG and plan may change.
    const derived = written ? await this.published(taskSet, rest.snapshot, expired.concat(rest.events), true, options, rest.notices) : null;
    return { ...rest, ...extra, derived };
  }
}

/**
 * Replace current.json, then append the events; when the append fails (disk full, I/O error) the
 * previous current.json comes back (kept as a hard link, which needs no data blocks), so a failed
 * commit changes nothing: no snapshot ahead of the log, no torn line, no temp file.
 */
async function writeSnapshotThenAppend(paths: StatePaths, snapshotText: string | Uint8Array, lines: string): Promise<void> {
  const keep = join(paths.stateDir, `current.json.prev.${process.pid}.${randomUUID().slice(0, 8)}.tmp`);
  let kept = false;
  if (lines) {
    try {
      await link(paths.current, keep);
      kept = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  try {
    await writeFileDurable(paths.current, snapshotText);
    if (!lines) return;
    try {
      await appendDurable(paths.log, lines);
    } catch (error) {
      try {
        if (kept) {
          await rename(keep, paths.current);
          kept = false;
        } else await unlink(paths.current);
        fsyncDirSync(paths.stateDir);
      } catch {
        /* the snapshot stays ahead of the log: the next writer re-appends its last_events (Decision 4) */
      }
      throw error;
    }
  } finally {
    if (kept) await unlink(keep).catch(() => undefined);
  }
}

const KEPT_SNAPSHOT = /^current\.json\.prev\.\d+\.[0-9a-f]{8}\.tmp$/;

/**
 * Under the lock, when this store has no cached state (its first commit, or another writer
 * came in between): a `current.json.prev.*.tmp` link is always the leftover of a commit that
 * was killed before its end (a live commit holds the lock and removes its own), so remove it.
 */
function removeKeptSnapshots(paths: StatePaths): void {
  let names: string[];
  try {
    names = readdirSync(paths.stateDir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!KEPT_SNAPSHOT.test(name)) continue;
    try {
      unlinkSync(join(paths.stateDir, name));
    } catch {
      /* gone */
    }
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
      // lease tokens are checked, and heartbeats planned, by leases.ts; the machines plan the rest
      const ctx = { defs, criticalTasks: critical };
      pending = planLeaseRequest(state, req, (r) => planTransition(state, ctx, r)) ?? planTransition(state, ctx, req);
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
export async function applyTransitions(root: string, requests: BatchRequests, options: CommitOptions = {}): Promise<CommitResult> {
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
