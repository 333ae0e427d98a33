/**
 * The run loop of `orc-state run`: live state → ready tasks (least slack on the
 * critical path, then priority) → packed under -j, each stage's
 * max_parallelism and the resources → assigned to local workers → executed →
 * outcomes committed. Every step is a machine transition through the one
 * commit path (src/engine/commit.ts), grouped per scheduler tick, and the ticks'
 * batches group-committed: one commit in flight at a time, the next one takes
 * every tick queued meanwhile, in order.
 *
 * Public API (experimental):
 *   - runPlan(options) → Promise<RunResult>   (the library form of `orc-state run`)
 *   - RunOptions, RunResult, RunEvent
 * A tick: (1) outcomes of finished attempts (execution_completed + validation_passed /
 * validation_failed, or execution_failed / task_timeout, with the retry delay planned
 * in metadata), (2) retry delays that elapsed on the injected clock (retry_delay_elapsed),
 * (3) worker health (health_check_timeout / health_check_recovered from heartbeats; the running
 * processes are probed once per heartbeat interval),
 * (4) new assignments (scheduler_assigned + worker_started), queued as ONE batch; the new
 * attempts start at once, while that batch is committed (pipelining: a spawn never waits for
 * a commit). While attempts run, a commit waits for a round of steps (8 requests per worker)
 * or at most COMMIT_WAIT_MS (20 ms, real time) for more to group with. Ordering that holds: an attempt's start is in the same batch as its outcome or
 * an earlier one, always at a lower seq (the queue keeps the ticks' order), so the log never
 * holds an outcome without its start; completion is recorded only after the exit. A crash
 * before a start is durable may leave a command that ran unrecorded: the task is still
 * pending/queued and runs again (it was never recorded completed). The run's own view of a
 * task while its requests are queued or in flight is the status they lead to (PROJECTED_STATUS).
 * A start the commit drops (the task moved meanwhile: cancelled by hand, lease expired) stops
 * its already started attempt and its outcome is never committed. Derived files are refreshed at most every
 * `deriveIntervalMs` (default 5 s) and after the last commit.
 * Ending: the run ends when nothing runs, no retry is pending and nothing more can be
 * assigned. Tasks no worker can run (capabilities), whose claims can never be met,
 * whose dependencies failed or lie outside the selection are reported, never waited for.
 * Stopping: options.signal (SIGINT/SIGTERM in the CLI) stops assigning, cancels the
 * running attempts (SIGTERM to each process group, SIGKILL after `shutdownGraceMs`),
 * records each outcome (an interrupted attempt is execution_failed with error_type cancelled
 * and metadata.interrupted: true: the machine puts it back to retrying without using a retry,
 * so the next run runs it again whatever retries are left; its attempt number is reused and its
 * log appended to) and ends.
 * --fail-fast stops assigning at the first failure of a critical task (Decision 7:
 * `critical: true` or on its workstream's critical path) and drains.
 * --budget-usd: a task whose cost estimate exceeds what is left is not started.
 * Recovery: a run that finds `.state/run.lock` of a dead runner (or any `run-*` worker
 * that is not shut down: no other runner lives while we hold the lock) commits
 * execution_failed (error_type worker_crashed) for each task that runner left running,
 * then worker_crashed for its workers; the task machine retries or fails them.
 * Integration points: src/cli/commands/run.ts, src/index.ts, bench/run.ts.
 * Dependencies: ../engine/commit.js, ../graph/*, ../registry, ../runner, ./admission.js,
 * ./attempt.js, ./backoff.js, ./clock.js, ./health.js, ./recovery.js, ./run-lock.js, ./summary.js.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startMetricsTimer } from '../derive/timer.js';
import { OrcError } from '../errors.js';
import type { OrcEvent, Snapshot, TaskDefinition, TaskState } from '../model.js';
import { openStore, type CommitResult, type Store } from '../engine/commit.js';
import { readSnapshot } from '../engine/snapshot.js';
import type { LiveState, TransitionRequest } from '../machines/index.js';
import { heartbeatRequest, newLease, LEASE_TOKEN_KEY } from '../engine/leases.js';
import { loadTasks, type TaskSet } from '../repo/load-tasks.js';
import { loadCapabilities, loadResources } from '../registry/index.js';
import { CONFIG_FILE, loadConfig } from '../config.js';
import { analyze, criticalPathTaskIds } from '../graph/files.js';
import { claimsOf, criticalPath, scheduleWorkstream, type NormalClaim, type PlanTask } from '../graph/plan.js';
import { ResourceLedger, selfConflict, type RuntimeResource } from './admission.js';
import { runAttempt, type AdapterType, type AttemptOutcome } from './attempt.js';
import { retryDelayMs, isNonRetryableExit } from './backoff.js';
import { systemClock, type Clock } from './clock.js';
import { HealthMonitor, probeProcess } from './health.js';
import { acquireRunLock, type RunLockInfo } from './run-lock.js';
import { deadRunRequests, runWorkerId } from './recovery.js';
import { buildSummary, writeSummary, type RunSummary, type TaskRecord } from './summary.js';

export interface RunOptions {
  root: string;
  /** Workstreams to run (default: all). */
  workstreams?: string[];
  /** Parallel workers (default: orc-state.config.json max_parallelism, else os.availableParallelism()). */
  jobs?: number;
  /** Capabilities the local workers offer (default: every capability in the registry, plus "shell"). */
  capabilities?: string[];
  failFast?: boolean;
  budgetUsd?: number;
  /** Force one adapter for every task (default: by task, see attempt.ts adapterTypeFor). */
  adapter?: AdapterType;
  clock?: Clock;
  random?: () => number;
  /** SIGTERM → SIGKILL grace of a timed-out attempt (default 5000 ms). */
  killGraceMs?: number;
  /** How long running attempts get after a stop request before SIGKILL (default 10000 ms). */
  shutdownGraceMs?: number;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  deriveIntervalMs?: number;
  /** Length of the claim lease each attempt holds (default 60 s); renewed every third of it while the attempt runs. */
  leaseSeconds?: number;
  /** Abort = stop (SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Live feed for the views (TTY, plain lines, JSON lines). */
  onEvent?: (event: RunEvent) => void;
  /** Resource definitions to use instead of capabilities/resources.* (library callers, tests). */
  resources?: ReadonlyMap<string, RuntimeResource>;
  lockTimeoutMs?: number;
}

export type RunEvent =
  | { type: 'run_started'; run_id: string; at: string; jobs: number; tasks: number; workers: string[]; recovered: string[] }
  | { type: 'task_started'; at: string; task_id: string; workstream_id: string; worker_id: string; attempt: number; estimate_seconds: number; log: string }
  | { type: 'task_finished'; at: string; task_id: string; workstream_id: string; status: string; outcome: string; attempt: number; duration_seconds: number; cost_usd: number | null; error: string | null; retry_in_ms: number | null; log: string }
  | { type: 'retry_ready'; at: string; task_id: string }
  | { type: 'worker_health'; at: string; worker_id: string; trigger: string }
  | { type: 'stopping'; at: string; reason: string }
  | { type: 'commit'; at: string; events: number; last_seq: number }
  | { type: 'lease_lost'; at: string; task_id: string; worker_id: string; reason: string }
  | { type: 'run_finished'; at: string; summary: RunSummary };

export interface RunResult {
  summary: RunSummary;
  /** 0 every selected task completed; 1 any failed, blocked, unassignable or left unfinished. */
  exitCode: number;
  summaryFile: string;
}

interface Running {
  taskId: string;
  workerId: string;
  attempt: number;
  controller: AbortController;
  pid: number | null;
  startedAt: number;
  claims: NormalClaim[];
  /** Fencing token of the lease this attempt runs under, and when to renew it (injected clock). */
  token: string | null;
  renewAt: number;
  /** Its worker_started was dropped under the lock (the task moved meanwhile): stopped, its outcome never committed. */
  discard: boolean;
  /** What the last heartbeat probe of its process said (alive until probed). */
  alive: boolean;
}

/**
 * Keep only the requests that still apply to the live state under the lock (a lease may have expired
 * at this very commit, a person may have cancelled a task): an outcome only for a task still running on
 * our worker, a start only for a task still waiting and an idle worker, a heartbeat only for the lease
 * the worker holds. The batch then never fails as a whole because one entity moved; dropped requests
 * are reported back.
 */
export function screenRequests(
  state: Readonly<LiveState>,
  requests: TransitionRequest[],
  dependenciesOf?: (taskId: string) => readonly string[],
): { keep: TransitionRequest[]; dropped: TransitionRequest[] } {
  const keep: TransitionRequest[] = [];
  const dropped: TransitionRequest[] = [];
  const taskNow = new Map<string, string>();
  const workerNow = new Map<string, string>();
  // Who runs a task once the earlier requests of this batch apply (a start and its outcome may share a batch).
  const assignedNow = new Map<string, string | null>();
  const taskStatus = (id: string) => taskNow.get(id) ?? state.tasks.get(id)?.status;
  const workerStatus = (id: string) => workerNow.get(id) ?? state.workers.get(id)?.status;
  for (const r of requests) {
    let ok = false;
    if (r.entity_type === 'task') {
      const t = state.tasks.get(r.entity_id);
      const st = taskStatus(r.entity_id);
      switch (r.trigger) {
        case 'execution_completed':
        case 'execution_failed':
        case 'task_timeout':
          ok = st === 'running' && (assignedNow.has(r.entity_id) ? assignedNow.get(r.entity_id) : t?.assigned_worker) === r.worker_id;
          if (ok) {
            assignedNow.set(r.entity_id, null);
            taskNow.set(r.entity_id, r.trigger === 'execution_completed' ? 'validating' : 'left');
            if (r.worker_id && workerStatus(r.worker_id) === 'busy') workerNow.set(r.worker_id, 'idle');
          }
          break;
        case 'validation_passed':
        case 'validation_failed':
          ok = st === 'validating';
          if (ok) taskNow.set(r.entity_id, r.trigger === 'validation_passed' ? 'completed' : 'failed');
          break;
        case 'retry_delay_elapsed':
          ok = st === 'retrying';
          if (ok) taskNow.set(r.entity_id, 'queued');
          break;
        case 'scheduler_assigned':
          // With the dependencies known: only when each is completed in the state or earlier in this batch
          // (a dependency's completion queued before may have been dropped meanwhile).
          ok = st === 'pending' && (dependenciesOf?.(r.entity_id) ?? []).every((d) => taskStatus(d) === 'completed');
          if (ok) taskNow.set(r.entity_id, 'queued');
          break;
        case 'worker_started':
          ok = st === 'queued' && r.worker_id !== undefined && r.worker_id !== null && workerStatus(r.worker_id) === 'idle';
          if (ok) {
            taskNow.set(r.entity_id, 'running');
            assignedNow.set(r.entity_id, r.worker_id as string);
            workerNow.set(r.worker_id as string, 'busy');
          }
          break;
        default:
          ok = st !== undefined;
      }
    } else if (r.entity_type === 'worker') {
      const w = state.workers.get(r.entity_id);
      const ws = workerStatus(r.entity_id);
      if (r.trigger === 'worker_registered') {
        ok = !w && ws === undefined;
        if (ok) workerNow.set(r.entity_id, 'initializing');
      } else if (r.trigger === 'registration_complete') {
        ok = ws === 'initializing';
        if (ok) workerNow.set(r.entity_id, 'idle');
      }
      else if (r.trigger === 'heartbeat') ok = w?.lease?.token === r.metadata?.[LEASE_TOKEN_KEY] && ws === 'busy';
      else if (r.trigger === 'health_check_timeout') ok = ws === 'idle' || ws === 'busy';
      else if (r.trigger === 'health_check_recovered') ok = ws === 'unresponsive';
      else ok = ws !== undefined && ws !== 'shutdown';
      if (ok && (r.trigger === 'shutdown_requested' || r.trigger === 'worker_crashed')) workerNow.set(r.entity_id, 'shutdown');
      if (ok && r.trigger === 'health_check_timeout') workerNow.set(r.entity_id, 'unresponsive');
      if (ok && r.trigger === 'health_check_recovered') workerNow.set(r.entity_id, w?.current_task ? 'busy' : 'idle');
    } else ok = true;
    (ok ? keep : dropped).push(r);
  }
  return { keep, dropped };
}

const WAITING = new Set(['pending', 'queued']);
/** Longest a queued request waits for more to group with while attempts run (see kick in runPlan). */
const COMMIT_WAIT_MS = 20;
/** The status a task request leads to, for the run's own view while it is queued or being committed ('settling': known after the commit). */
const PROJECTED_STATUS: Readonly<Record<string, string>> = {
  scheduler_assigned: 'queued',
  worker_started: 'running',
  execution_completed: 'validating',
  validation_passed: 'completed',
  validation_failed: 'failed',
  retry_delay_elapsed: 'queued',
};
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** -j default: the config file's max_parallelism when it sets one, else the core count. */
export function defaultJobs(root: string): number {
  const abs = join(root, CONFIG_FILE);
  if (existsSync(abs)) {
    try {
      const v = JSON.parse(readFileSync(abs, 'utf8')) as { max_parallelism?: unknown };
      if (Number.isInteger(v.max_parallelism) && (v.max_parallelism as number) >= 1) return v.max_parallelism as number;
    } catch {
      /* loadConfig reports it */
    }
  }
  return availableParallelism();
}

export async function runPlan(options: RunOptions): Promise<RunResult> {
  const root = resolve(options.root);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const runId = `${new Date(clock.now()).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomUUID().slice(0, 8)}`;
  const jobs = Math.max(1, Math.floor(options.jobs ?? defaultJobs(root)));
  const killGraceMs = options.killGraceMs ?? 5000;
  const shutdownGraceMs = options.shutdownGraceMs ?? 10_000;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1000;
  const deriveIntervalMs = options.deriveIntervalMs ?? 5000;
  const emit = (e: RunEvent) => options.onEvent?.(e);
  const iso = () => new Date(clock.now()).toISOString();
  if (!existsSync(join(root, 'tasks'))) {
    throw new OrcError('NOT_FOUND', `no tasks/ directory in ${root}`, { location: { file: 'tasks' }, fix: 'run from the repository root (or pass --root)' });
  }

  if (options.workstreams?.length) {
    // Before the lock and the sync: a typo writes nothing.
    const known = readdirSync(join(root, 'tasks'), { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
    const unknown = options.workstreams.filter((w) => !known.includes(w));
    if (unknown.length) {
      throw new OrcError('USAGE', `no workstream ${unknown.map((u) => `"${u}"`).join(', ')} (known: ${known.sort().join(', ') || 'none'})`, { fix: 'name directories under tasks/, or give no workstream to run all' });
    }
  }
  const workerIds = Array.from({ length: jobs }, (_, i) => runWorkerId(runId, i + 1));
  const store: Store = openStore(root, { actor: `orc-state-run:${runId}`, ...(options.lockTimeoutMs !== undefined ? { lockTimeoutMs: options.lockTimeoutMs } : {}) });
  const { handle: runLock, previous } = acquireRunLock(store.paths, runId, workerIds);
  const startedAt = clock.now();
  // OBS-001: metrics stay fresh (at least every 60 s) while the run lives, whatever the commit rate.
  const metricsTimer = startMetricsTimer(root, { onError: () => undefined });
  try {
    // One read of tasks/ for the sync and the run (the definitions cannot change in between: nothing here writes them).
    const taskSet: TaskSet = loadTasks(root);
    // Its derived files refresh in the background (coalesced with the run's commits), not before the first spawn.
    await store.syncDefinitions({ taskSet, derive: 'background' });
    const commitOpts = { taskSet, derive: false } as const;
    const registry = loadResources(root);
    const resources: ReadonlyMap<string, RuntimeResource> = options.resources ?? (registry.resources as ReadonlyMap<string, RuntimeResource>);
    const config = loadConfig(root);
    const capabilityIds = [...loadCapabilities(root).capabilities.keys()];
    const offered = options.capabilities ?? [...new Set([...capabilityIds, 'shell'])];
    const defs = new Map<string, TaskDefinition>();
    for (const [id, loaded] of taskSet.tasks) defs.set(id, loaded.task);

    let snapshot: Snapshot = readSnapshot(root) as Snapshot;
    const status = new Map<string, TaskState>();
    const refresh = (s: Snapshot) => {
      snapshot = s;
      status.clear();
      for (const t of s.tasks) status.set(t.task_id, t);
    };
    refresh(snapshot);

    let lastDerive = clock.now();
    let commits = 0;
    const leaseSec = Math.max(1, Math.floor(options.leaseSeconds ?? 60));
    let lastDropped: TransitionRequest[] = [];
    const leaseOf = (workerId: string): string | null => snapshot.workers.find((w) => w.worker_id === workerId)?.lease?.token ?? null;
    const commit = async (requests: TransitionRequest[], derive = false): Promise<CommitResult | null> => {
      if (!requests.length && !derive) return null;
      if (!requests.length) {
        await store.applyTransitions([], { taskSet });
        return null;
      }
      const now = clock.now();
      const doDerive = derive || now - lastDerive >= deriveIntervalMs;
      let dropped: TransitionRequest[] = [];
      const result = await store.applyTransitions(
        (state) => {
          const screened = screenRequests(state, requests, (id) => defs.get(id)?.dependencies ?? []);
          dropped = screened.dropped;
          // Each start holds a claim lease (fencing token), granted against the live state under the lock.
          return screened.keep.map((r) =>
            r.entity_type === 'task' && r.trigger === 'worker_started'
              ? { ...r, metadata: { ...(r.metadata ?? {}), lease: newLease(state, new Date(now), { seconds: leaseSec, pid: process.pid, host: hostname() }) } }
              : r,
          );
        },
        // Derived files refresh outside the lock, coalesced by the store's refresher; the run never waits for them.
        { ...commitOpts, derive: doDerive ? 'background' : false, now: new Date(now) },
      );
      if (doDerive) lastDerive = now;
      commits++;
      refresh(result.snapshot);
      lastDropped = dropped;
      emit({ type: 'commit', at: iso(), events: result.events.length + (result.expired?.length ?? 0), last_seq: result.snapshot.last_seq });
      return result;
    };

    // ---------------------------------------------------------------- recovery of a dead runner
    const recovered: string[] = [];
    {
      const { requests, deadTasks } = deadRunRequests({ tasks: snapshot.tasks, workers: snapshot.workers, defs, previous, recoveredBy: runId, timestamp: iso() });
      const result = await commit(requests);
      // Leases of the dead run that had already expired were timed out by the commit path itself, before our batch.
      const kept = new Set(result?.events.filter((e) => e.entity_type === 'task' && e.metadata['recovered_by'] === runId).map((e) => e.entity_id) ?? []);
      for (const e of result?.expired ?? []) if (e.entity_type === 'task' && e.entity_id && deadTasks.has(e.entity_id)) kept.add(e.entity_id);
      recovered.splice(0, recovered.length, ...[...kept].sort());
    }

    // ---------------------------------------------------------------- selection and ordering
    const selected = new Set<string>();
    const wanted = options.workstreams && options.workstreams.length ? new Set(options.workstreams) : null;
    if (wanted) {
      const known = new Set(taskSet.byWorkstream.keys());
      const unknown = [...wanted].filter((w) => !known.has(w));
      if (unknown.length) {
        throw new OrcError('USAGE', `no workstream ${unknown.map((u) => `"${u}"`).join(', ')} (known: ${[...known].sort().join(', ') || 'none'})`, { fix: 'name directories under tasks/, or give no workstream to run all' });
      }
    }
    for (const [id, loaded] of taskSet.tasks) if (!wanted || wanted.has(loaded.task.workstream_id)) selected.add(id);

    const analysis = analyze({ taskSet, snapshot, resources, maxParallel: config.max_parallelism });
    const { graph } = analysis;
    const remaining = new Float64Array(graph.n);
    for (let v = 0; v < graph.n; v++) {
      const s = status.get(graph.ids[v] as string)?.status;
      remaining[v] = s === 'completed' || s === 'cancelled' ? 0 : (analysis.est[v] as number);
    }
    const inOrder = new Uint8Array(graph.n);
    for (const v of graph.order) inOrder[v] = 1;
    const cpm = criticalPath(graph, graph.order, (v) => inOrder[v] === 1, remaining);
    const critical = criticalPathTaskIds(analysis);
    for (const [id, d] of defs) if (d.critical === true) critical.add(id);
    // Stage of each task in its workstream's plan, and that plan's max_parallelism.
    const stageKey = new Map<string, string>();
    const stageCap = new Map<string, number>();
    for (let k = 0; k < graph.workstreams.length; k++) {
      const sched = scheduleWorkstream(graph, k, { maxParallel: config.max_parallelism, resources, est: analysis.est, info: analysis.info, scratch: analysis.scratch });
      sched.stages?.forEach((st, i) => {
        const key = `${graph.workstreams[k]}#${i + 1}`;
        stageCap.set(key, sched.maxParallel);
        for (const v of st.tasks) stageKey.set(graph.ids[v] as string, key);
      });
    }
    const priorityOf = (id: string) => {
      const p = defs.get(id)?.priority;
      return typeof p === 'number' && Number.isFinite(p) ? p : 0;
    };
    const resourcePriority = (id: string) => {
      let best = 0;
      for (const r of Object.keys(defs.get(id)?.resource_requirements ?? {})) best = Math.max(best, resources.get(r)?.Priority ?? 0);
      return best;
    };
    const order = [...selected].sort((a, b) => {
      const va = graph.index.get(a) as number;
      const vb = graph.index.get(b) as number;
      return (cpm.slack[va] as number) - (cpm.slack[vb] as number) || priorityOf(b) - priorityOf(a) || resourcePriority(b) - resourcePriority(a) || (a < b ? -1 : a > b ? 1 : 0);
    });

    const unassignable = new Map<string, string>();
    const claims = new Map<string, NormalClaim[]>();
    for (const id of order) {
      const def = defs.get(id) as TaskDefinition;
      const v = graph.index.get(id) as number;
      const missingCaps = def.worker_requirements.capabilities.filter((c) => !offered.includes(c));
      const c = claimsOf(def as unknown as PlanTask, resources);
      if (missingCaps.length) unassignable.set(id, `no worker offers capabilit${missingCaps.length === 1 ? 'y' : 'ies'} ${missingCaps.join(', ')} (workers offer: ${offered.join(', ') || 'none'}; see --capabilities)`);
      else if (graph.cyclic[v]) unassignable.set(id, 'on a dependency cycle');
      else if (c.problems.length) unassignable.set(id, `resource claims can never be met: ${c.problems.map((p) => p.kind + ('resource' in p ? ` ${p.resource}` : '')).join(', ')}`);
      else {
        const pair = selfConflict(c.claims, resources);
        if (pair) unassignable.set(id, `its own resource claims conflict (${pair[0]} conflicts with ${pair[1]})`);
      }
      claims.set(id, c.claims);
    }

    // ---------------------------------------------------------------- workers
    const health = new HealthMonitor(clock, { heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 10_000, maxTimeoutMs: Number.POSITIVE_INFINITY });
    {
      const ts = iso();
      const reqs: TransitionRequest[] = [];
      for (const id of workerIds) {
        reqs.push({ entity_type: 'worker', entity_id: id, trigger: 'worker_registered', timestamp: ts, metadata: { capabilities: offered, pid: process.pid, host: hostname(), run_id: runId, adapter: options.adapter ?? 'auto' } });
        reqs.push({ entity_type: 'worker', entity_id: id, trigger: 'registration_complete', timestamp: ts });
        health.register(id);
      }
      await commit(reqs);
    }
    emit({ type: 'run_started', run_id: runId, at: iso(), jobs, tasks: selected.size, workers: workerIds, recovered });

    // ---------------------------------------------------------------- loop state
    const ledger = new ResourceLedger(resources, clock.now());
    const running = new Map<string, Running>();
    const idle: string[] = [...workerIds];
    const finished: Array<{ run: Running; outcome: AttemptOutcome }> = [];
    const retryAt = new Map<string, number>();
    const records = new Map<string, TaskRecord>();
    const record = (id: string): TaskRecord => {
      let r = records.get(id);
      if (!r) {
        const def = defs.get(id) as TaskDefinition;
        r = { task_id: id, workstream_id: def.workstream_id, attempts: 0, duration_seconds: 0, cost_usd: 0, cost_known: false, logs: [], last_error: null, estimated_duration_seconds: analysis.est[graph.index.get(id) as number] ?? 0 };
        records.set(id, r);
      }
      return r;
    };
    let spent = 0;
    let stopping: string | null = null;
    let failFastTripped = false;
    let wake: (() => void) | null = null;
    const notify = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const budgetSkipped = new Set<string>();
    let interruptedAt: number | null = null;
    const onAbort = () => {
      if (!stopping) stopping = 'interrupted';
      interruptedAt = clock.now();
      emit({ type: 'stopping', at: iso(), reason: 'interrupted: no new tasks; running attempts get a grace period, then are killed' });
      for (const r of running.values()) r.controller.abort();
      notify();
    };
    if (options.signal) {
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener('abort', onAbort, { once: true });
    }
    // Retrying tasks left by an earlier run: their delay counts from their last update.
    for (const id of selected) {
      const t = status.get(id);
      if (t?.status === 'retrying') {
        const def = defs.get(id) as TaskDefinition;
        retryAt.set(id, Math.max(clock.now(), Date.parse(t.updated_at) + retryDelayMs(def, Math.max(1, t.retry_count), random)));
      }
    }

    // Launched as soon as it is assigned, while its start is still being committed: the lease token is
    // known once that commit is durable (settle), and only then is the lease renewed.
    const launch = (id: string, workerId: string, attempt: number): Running => {
      const def = defs.get(id) as TaskDefinition;
      const controller = new AbortController();
      const run: Running = { taskId: id, workerId, attempt, controller, pid: null, startedAt: clock.now(), claims: claims.get(id) ?? [], token: null, renewAt: clock.now() + (leaseSec * 1000) / 3, discard: false, alive: true };
      running.set(id, run);
      const rec = record(id);
      rec.attempts = Math.max(rec.attempts, attempt);
      const remainingBudget = options.budgetUsd !== undefined ? Math.max(0, options.budgetUsd - spent) : undefined;
      void runAttempt({
        root,
        paths: store.paths,
        task: def,
        workerId,
        capabilities: offered,
        attempt,
        signal: controller.signal,
        killGraceMs: stopping === 'interrupted' ? shutdownGraceMs : killGraceMs,
        ...(options.adapter ? { adapter: options.adapter } : {}),
        ...(remainingBudget !== undefined ? { budgetUsd: remainingBudget } : {}),
        onSpawn: (pid) => {
          run.pid = pid;
        },
      })
        .catch((error: unknown) => {
          // An adapter threw (it should not): record it as a failed attempt.
          const message = error instanceof Error ? error.message : String(error);
          return {
            kind: 'failed',
            output: { error: { error_type: 'spawn_failed', message, retryable: true }, metadata: { exit_code: null, tokens_used: null, duration_seconds: 0 } },
            log: '',
            output_file: '',
            command_index: 0,
            commands_tried: 0,
            cost_usd: null,
            cost_source: null,
            validation_errors: [],
            started_at: Date.now(),
            finished_at: Date.now(),
          } as unknown as AttemptOutcome;
        })
        .then((outcome) => {
          finished.push({ run, outcome });
          notify();
        });
      emit({ type: 'task_started', at: iso(), task_id: id, workstream_id: def.workstream_id, worker_id: workerId, attempt, estimate_seconds: rec.estimated_duration_seconds, log: `.state/logs/${id}/attempt-${attempt}.log` });
      return run;
    };

    const isCritical = (id: string) => critical.has(id);
    const tripFailFast = (id: string) => {
      stopping = 'fail-fast';
      failFastTripped = true;
      emit({ type: 'stopping', at: iso(), reason: `fail-fast: critical task ${id} failed; no new tasks, draining the running attempts` });
    };

    // ---------------------------------------------------------------- the commit pipeline
    // Group commit: one commit in flight at a time; everything a tick produces while it is in flight
    // goes into the next one (ticks never wait for a commit, and a spawn never waits for one). The
    // queue keeps the ticks' order, so an attempt's start (scheduler_assigned, worker_started) always
    // lands in the same batch as its outcome or an earlier one, before it in seq order: the log never
    // holds an outcome without its start (see docs/execution_model/RECOVERY.md).
    interface Part {
      requests: TransitionRequest[];
      after: Array<() => void>;
      started: Running[];
    }
    let queued: Part[] = [];
    let inFlight: Promise<void> | null = null;
    const failure: { error?: unknown; failed: boolean } = { failed: false };
    // Task statuses once every queued and in-flight request is applied (the snapshot lags behind them).
    const projected = new Map<string, { status: string; n: number }>();
    const project = (r: TransitionRequest, add: boolean) => {
      if (r.entity_type !== 'task') return;
      const p = projected.get(r.entity_id);
      if (add) projected.set(r.entity_id, { status: PROJECTED_STATUS[r.trigger] ?? 'settling', n: (p?.n ?? 0) + 1 });
      else if (p && --p.n <= 0) projected.delete(r.entity_id);
    };
    const statusOf = (id: string): string | undefined => projected.get(id)?.status ?? status.get(id)?.status;
    /** After the batch holding these parts is durable: lease tokens, dropped requests, the parts' callbacks. */
    const settle = (parts: Part[], dropped: TransitionRequest[]) => {
      const droppedStarts = new Set<string>();
      for (const d of dropped) {
        if (d.entity_type === 'task' && d.trigger === 'worker_started') droppedStarts.add(d.entity_id);
        else if (d.entity_type === 'task' && (d.trigger === 'execution_completed' || d.trigger === 'execution_failed' || d.trigger === 'task_timeout')) {
          emit({ type: 'lease_lost', at: iso(), task_id: d.entity_id, worker_id: String(d.worker_id), reason: `the outcome was not recorded: the task is ${status.get(d.entity_id)?.status ?? 'gone'} (its lease expired or it was changed meanwhile)` });
        } else if (d.entity_type === 'worker' && d.trigger === 'heartbeat') {
          const r = [...running.values()].find((x) => x.workerId === d.entity_id);
          if (r) {
            emit({ type: 'lease_lost', at: iso(), task_id: r.taskId, worker_id: r.workerId, reason: 'its lease expired before the renewal; the attempt is stopped' });
            r.token = null;
            r.controller.abort();
          }
        }
      }
      for (const part of parts) {
        for (const run of part.started) {
          if (droppedStarts.has(run.taskId)) {
            // Someone moved the task between our read and the commit: stop the attempt, forget its outcome.
            run.discard = true;
            run.controller.abort();
          } else if (running.get(run.taskId) === run) run.token = leaseOf(run.workerId);
        }
        for (const f of part.after) f();
      }
    };
    // Bounded group-commit wait: while attempts run, the next commit starts once a round of steps is
    // queued (8 requests per worker) or its oldest request has waited COMMIT_WAIT_MS. Real time, and it
    // decides nothing but the grouping: fewer, larger commits (each rewrites the whole snapshot).
    const minBatch = 8 * jobs;
    let queuedRequests = 0;
    let oldestQueuedAt = 0;
    let waitTimer: ReturnType<typeof setTimeout> | null = null;
    const kick = (force = false): void => {
      if (inFlight || failure.failed || !queued.length) return;
      if (!force && queuedRequests < minBatch && running.size > 0 && !stopping) {
        waitTimer ??= setTimeout(() => {
          waitTimer = null;
          kick(true);
        }, Math.max(0, COMMIT_WAIT_MS - (performance.now() - oldestQueuedAt)));
        return;
      }
      if (waitTimer) {
        clearTimeout(waitTimer);
        waitTimer = null;
      }
      const parts = queued;
      queued = [];
      queuedRequests = 0;
      const requests = parts.flatMap((p) => p.requests);
      inFlight = (async () => {
        try {
          await commit(requests);
          const dropped = lastDropped;
          lastDropped = [];
          for (const r of requests) project(r, false);
          settle(parts, dropped);
        } catch (error) {
          failure.failed = true;
          failure.error = error;
        }
        inFlight = null;
        notify();
        kick();
      })();
    };
    const enqueue = (part: Part) => {
      for (const r of part.requests) project(r, true);
      if (!queued.length) oldestQueuedAt = performance.now();
      queued.push(part);
      queuedRequests += part.requests.length;
      kick();
    };
    const drain = async () => {
      while (inFlight || (queued.length && !failure.failed)) {
        kick(true);
        if (inFlight) await inFlight;
      }
      if (failure.failed) throw failure.error;
    };

    // ---------------------------------------------------------------- the loop
    let lastHealth = clock.now();
    let scanFrom = 0;
    for (;;) {
      if (failure.failed) {
        // A rejected batch (e.g. someone changed the state by hand): stop what runs, report the error.
        for (const r of running.values()) r.controller.abort();
        throw failure.error;
      }
      const requests: TransitionRequest[] = [];
      const ts = iso();
      const after: Array<() => void> = [];
      // (0) heartbeats, before the outcomes, so a worker that finished its task recovers while still holding it.
      // The running processes are probed (/proc) once per heartbeat interval; a tick between (an attempt
      // finished) beats them by their last probe, and a finished attempt (its process is gone) without one.
      const probeDue = clock.now() - lastHealth >= heartbeatIntervalMs;
      if (probeDue || finished.length) {
        if (probeDue) lastHealth = clock.now();
        const busy = new Set<string>();
        for (const r of running.values()) {
          busy.add(r.workerId);
          if (probeDue && r.pid !== null && !finished.some((f) => f.run === r)) r.alive = probeProcess(r.pid) !== 'stopped'; // exited (gone or a zombie): finishing, its outcome on the way
          if (r.pid === null || r.alive || finished.some((f) => f.run === r)) health.beat(r.workerId);
        }
        for (const id of workerIds) if (!busy.has(id)) health.beat(id);
        for (const change of health.check()) {
          requests.push({ entity_type: 'worker', entity_id: change.worker_id, trigger: change.trigger, timestamp: ts, metadata: { silent_ms: change.silent_ms } });
          emit({ type: 'worker_health', at: ts, worker_id: change.worker_id, trigger: change.trigger });
        }
        // One of our idle workers left unresponsive by a lease that lapsed (e.g. the machine slept): it is alive.
        for (const id of idle) {
          if (health.isUnresponsive(id)) continue;
          if (snapshot.workers.find((w) => w.worker_id === id)?.status === 'unresponsive') {
            requests.push({ entity_type: 'worker', entity_id: id, trigger: 'health_check_recovered', timestamp: ts, metadata: { reason: 'the runner holds this worker and it is idle' } });
          }
        }
      }
      // Renew the lease of every attempt still running, every third of the lease (injected clock).
      for (const r of running.values()) {
        if (r.token === null || clock.now() < r.renewAt || finished.some((f) => f.run === r)) continue;
        requests.push(heartbeatRequest(r.workerId, r.token, new Date(clock.now()), leaseSec));
        r.renewAt = clock.now() + (leaseSec * 1000) / 3;
      }
      // (1) outcomes
      const done = finished.splice(0);
      for (const { run, outcome } of done) {
        running.delete(run.taskId);
        ledger.release(run.taskId);
        idle.push(run.workerId);
        if (run.discard) continue;
        const def = defs.get(run.taskId) as TaskDefinition;
        const state = status.get(run.taskId) as TaskState;
        const rec = record(run.taskId);
        rec.duration_seconds += (outcome.finished_at - outcome.started_at) / 1000;
        if (outcome.log) rec.logs.push(outcome.log);
        if (outcome.cost_usd !== null) {
          rec.cost_usd += outcome.cost_usd;
          rec.cost_known = true;
          spent += outcome.cost_usd;
        }
        const out = outcome.output;
        const meta: Record<string, unknown> = {
          attempt: run.attempt,
          exit_code: out.metadata.exit_code ?? null,
          tokens_used: out.metadata.tokens_used ?? null,
          duration_seconds: Math.round((outcome.finished_at - outcome.started_at)) / 1000,
          log: outcome.log,
          ...(outcome.output_file ? { worker_output: outcome.output_file } : {}),
          ...(outcome.cost_usd !== null ? { cost_usd: outcome.cost_usd, cost_source: outcome.cost_source } : {}),
          ...(outcome.command_index > 0 ? { fallback_index: outcome.command_index } : {}),
          ...(outcome.commands_tried > 1 ? { commands_tried: outcome.commands_tried } : {}),
          ...(typeof out.metadata.num_turns === 'number' ? { num_turns: out.metadata.num_turns } : {}),
        };
        let retryIn: number | null = null;
        if (outcome.kind === 'completed' || outcome.kind === 'validation_failed') {
          requests.push({ entity_type: 'task', entity_id: run.taskId, trigger: 'execution_completed', worker_id: run.workerId, timestamp: ts, metadata: { ...meta, exit_code: 0 } });
          if (outcome.kind === 'completed') requests.push({ entity_type: 'task', entity_id: run.taskId, trigger: 'validation_passed', worker_id: run.workerId, timestamp: ts, metadata: { validation_status: out.validation_status } });
          else {
            requests.push({ entity_type: 'task', entity_id: run.taskId, trigger: 'validation_failed', worker_id: run.workerId, timestamp: ts, error: outcome.validation_errors.join('; '), metadata: { validation_status: 'failed', error_type: 'validation_failed' } });
            rec.last_error = outcome.validation_errors.join('; ');
            if (options.failFast && isCritical(run.taskId) && !stopping) tripFailFast(run.taskId);
          }
        } else {
          const errorType = out.error?.error_type ?? 'nonzero_exit';
          let retryable = out.error?.retryable !== false;
          if (isNonRetryableExit(def, out.metadata.exit_code)) retryable = false;
          if (outcome.kind === 'cancelled') retryable = true;
          // Stopped by our own drain (SIGINT/SIGTERM): back to retrying without using a retry (the machine's
          // isInterruptedAttempt), so the next run runs it again even when no retry is left.
          const interrupted = outcome.kind === 'cancelled' && interruptedAt !== null;
          const willRetry = retryable && (interrupted || state.retry_count < def.execution.max_retries);
          if (willRetry) retryIn = interrupted ? 0 : retryDelayMs(def, state.retry_count + 1, random);
          const message = out.error?.message ?? 'the attempt failed';
          rec.last_error = message;
          requests.push({
            entity_type: 'task',
            entity_id: run.taskId,
            trigger: outcome.kind === 'timeout' ? 'task_timeout' : 'execution_failed',
            worker_id: run.workerId,
            timestamp: ts,
            error: message,
            metadata: { ...meta, error_type: errorType, retryable, ...(interrupted ? { interrupted: true } : {}), ...(retryIn !== null ? { retry_delay_ms: retryIn } : {}) },
          });
          if (!willRetry && options.failFast && isCritical(run.taskId) && !stopping) tripFailFast(run.taskId);
          if (retryIn !== null) {
            const at = clock.now() + retryIn;
            after.push(() => {
              if (status.get(run.taskId)?.status === 'retrying') retryAt.set(run.taskId, at);
            });
          }
        }
        after.push(() => {
          const s = status.get(run.taskId)?.status ?? 'unknown';
          if (s === 'failed' && options.failFast && isCritical(run.taskId) && !stopping) tripFailFast(run.taskId);
          emit({
            type: 'task_finished',
            at: iso(),
            task_id: run.taskId,
            workstream_id: def.workstream_id,
            status: s,
            outcome: outcome.kind,
            attempt: run.attempt,
            duration_seconds: (outcome.finished_at - outcome.started_at) / 1000,
            cost_usd: outcome.cost_usd,
            error: out.error?.message ?? null,
            retry_in_ms: s === 'retrying' ? retryIn : null,
            log: outcome.log,
          });
        });
      }
      // (2) retry delays that elapsed
      const now = clock.now();
      for (const [id, at] of retryAt) {
        if (at > now) continue;
        retryAt.delete(id);
        if (stopping) continue;
        if (statusOf(id) !== 'retrying') continue;
        requests.push({ entity_type: 'task', entity_id: id, trigger: 'retry_delay_elapsed', timestamp: ts, metadata: { delay_elapsed_at: ts } });
        emit({ type: 'retry_ready', at: ts, task_id: id });
      }
      // Statuses as they will be once this batch is applied (retry_delay_elapsed → queued; outcomes free deps only after commit).
      const willBeQueued = new Set(requests.filter((r) => r.trigger === 'retry_delay_elapsed').map((r) => r.entity_id));
      // Dependencies completed in this batch or a queued/in-flight one count as completed: batches apply in order.
      const completedNow = new Set(requests.filter((r) => r.trigger === 'validation_passed').map((r) => r.entity_id));
      const depDone = (d: string) => completedNow.has(d) || statusOf(d) === 'completed';
      // (4) assignments
      const started: Array<{ id: string; worker: string; attempt: number }> = [];
      let rateWait: number | null = null;
      if (!stopping && idle.length) {
        const perStage = new Map<string, number>();
        for (const r of running.values()) {
          const k = stageKey.get(r.taskId);
          if (k) perStage.set(k, (perStage.get(k) ?? 0) + 1);
        }
        // Terminal tasks never change and unassignable ones never become assignable: skip the prefix of them.
        while (scanFrom < order.length) {
          const head = order[scanFrom] as string;
          const s = status.get(head)?.status;
          if (!(s !== undefined && TERMINAL.has(s)) && !unassignable.has(head)) break;
          scanFrom++;
        }
        for (let i = scanFrom; i < order.length; i++) {
          const id = order[i] as string;
          if (!idle.length) break;
          if (running.has(id) || unassignable.has(id)) continue;
          const t = status.get(id);
          if (!t) continue;
          const st = willBeQueued.has(id) ? 'queued' : (statusOf(id) as string);
          if (!WAITING.has(st)) continue;
          const def = defs.get(id) as TaskDefinition;
          if (!def.dependencies.every(depDone)) continue;
          const k = stageKey.get(id);
          if (k && (perStage.get(k) ?? 0) >= (stageCap.get(k) ?? Infinity)) continue;
          const estimate = typeof def.execution.cost_estimate_usd === 'number' ? def.execution.cost_estimate_usd : 0;
          if (options.budgetUsd !== undefined) {
            const committed = [...running.values()].reduce((s, r) => s + (defs.get(r.taskId)?.execution.cost_estimate_usd ?? 0), 0) + started.reduce((s, x) => s + (defs.get(x.id)?.execution.cost_estimate_usd ?? 0), 0);
            if (estimate > options.budgetUsd - spent - committed + 1e-9) {
              budgetSkipped.add(id);
              continue;
            }
          }
          const c = claims.get(id) ?? [];
          const adm = ledger.check(id, c, now);
          if (!adm.ok) {
            if (adm.retry_at !== undefined) rateWait = rateWait === null ? adm.retry_at : Math.min(rateWait, adm.retry_at);
            continue;
          }
          const cand = idle.findIndex((w) => !health.isUnresponsive(w));
          if (cand < 0) break;
          const worker = idle.splice(cand, 1)[0] as string;
          ledger.acquire(id, c, now);
          if (k) perStage.set(k, (perStage.get(k) ?? 0) + 1);
          budgetSkipped.delete(id);
          if (st === 'pending') requests.push({ entity_type: 'task', entity_id: id, trigger: 'scheduler_assigned', timestamp: ts, metadata: { run_id: runId, slack_seconds: cpm.slack[graph.index.get(id) as number] ?? 0 } });
          const attempt = t.retry_count + 1;
          requests.push({ entity_type: 'task', entity_id: id, trigger: 'worker_started', worker_id: worker, timestamp: ts, metadata: { run_id: runId, attempt, log: `.state/logs/${id}/attempt-${attempt}.log` } });
          started.push({ id, worker, attempt });
        }
      }
      // Queue this tick's batch and start its attempts at once: the commit runs alongside them.
      const part: Part = { requests, after, started: [] };
      for (const st of started) part.started.push(launch(st.id, st.worker, st.attempt));
      if (requests.length || after.length) enqueue(part);

      // End?
      if (running.size === 0 && finished.length === 0 && !inFlight && !queued.length && !failure.failed) {
        const pendingRetries = !stopping && retryAt.size > 0;
        if (!pendingRetries && started.length === 0 && rateWait === null) break;
        if (stopping && started.length === 0) break;
      }
      // Wait for an attempt to finish, a commit to land, the next timer, or a stop.
      if (finished.length || failure.failed) continue;
      let until = heartbeatIntervalMs;
      const t0 = clock.now();
      for (const at of retryAt.values()) until = Math.min(until, Math.max(0, at - t0));
      if (rateWait !== null) until = Math.min(until, Math.max(0, rateWait - t0));
      if (interruptedAt !== null && running.size) until = Math.min(until, 50);
      const sleeper = new AbortController();
      await Promise.race([
        new Promise<void>((r) => {
          wake = r;
        }),
        clock.sleep(until, sleeper.signal),
      ]);
      sleeper.abort();
      wake = null;
      // Let attempts that end at the same moment land in the same batch (one commit, not several).
      if (finished.length) await new Promise<void>((r) => setImmediate(r));
    }
    options.signal?.removeEventListener('abort', onAbort);
    await drain();

    // ---------------------------------------------------------------- shut down
    {
      const ts = iso();
      await commit(workerIds.map((id) => ({ entity_type: 'worker' as const, entity_id: id, trigger: 'shutdown_requested', timestamp: ts, metadata: { run_id: runId } })), true);
    }
    const summary = buildSummary({
      runId,
      root,
      startedAt,
      finishedAt: clock.now(),
      jobs,
      options: { workstreams: options.workstreams ?? [], capabilities: offered, fail_fast: options.failFast === true, budget_usd: options.budgetUsd ?? null },
      order,
      defs,
      status,
      records,
      unassignable,
      budgetSkipped,
      interrupted: stopping === 'interrupted',
      failFast: failFastTripped,
      recovered,
      spent,
      commits,
      lastSeq: snapshot.last_seq,
      estimates: (id) => analysis.est[graph.index.get(id) as number] ?? 0,
    });
    const summaryFile = await writeSummary(store.paths, summary);
    emit({ type: 'run_finished', at: iso(), summary });
    return { summary, exitCode: summary.exit_code, summaryFile };
  } finally {
    await metricsTimer.stop();
    await store.flush();
    runLock.release();
  }
}

export type { RunLockInfo, OrcEvent };
