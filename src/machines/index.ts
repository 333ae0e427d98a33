/**
 * The state machines as pure functions over an in-memory state: plan a
 * transition (guards checked by the xstate machines built from
 * docs/state_machines/*.yaml), apply an event, check invariants.
 *
 * Public API (stable):
 *   - LiveState, TransitionRequest, PendingEvent, PlanContext (types)
 *   - emptyState(), cloneState(s), fromSnapshot(s), toSnapshot(s, lastEvents)
 *   - planTransition(state, ctx, req): PendingEvent[] — does not mutate; throws
 *     OrcError ILLEGAL_TRANSITION (entity, state, trigger, allowed triggers) or
 *     NOT_FOUND (unknown entity / definition). The entity's event comes first,
 *     then derived events (worker task_assigned/task_completed, workstream
 *     creation and Decision 7 status changes). Derived events have
 *     caused_by = null: the caller sets it to the first event's event_id.
 *   - applyEvent(state, event): mutates; trusts the log but throws
 *     STATE_CORRUPT when from_state differs from the entity's current state,
 *     and INVARIANT_VIOLATION when an event would leave a terminal state.
 *   - checkInvariants(state, defs, only?): throws INVARIANT_VIOLATION. `only`
 *     restricts the per-entity checks to the ids touched by a batch (cheap on
 *     a 10,000-task state). Between consecutive calls on the same LiveState it
 *     also checks that terminal states did not change and retry_count did not
 *     decrease.
 *   - invariantViolations(state, defs, only?) (stable): the same, as a list.
 *   - MACHINES, MACHINE_KINDS, machineFile (re-exported from ./definitions.js).
 *   - deriveWorkstreamStatus (re-exported from ./workstream.js).
 *   - SNAPSHOT_SCHEMA_VERSION (stable): the snapshot schema toSnapshot writes.
 *   - LEASE_RENEWED_EVENT (stable): the system event of a heartbeat; applyEvent moves
 *     the worker's lease with it. Leases (workers[].lease) are set by a task_assigned
 *     whose metadata.lease is present and dropped when the worker no longer holds a task.
 *   - leaseOf(value, taskId) (internal): the lease a task_assigned's metadata.lease records, or null.
 * Integration points: src/engine (B2) commit path and replay; compliance rules
 * SM-DEF-*, STATE-OBS-002/004 use MACHINES and applyEvent.
 * Dependencies: ./build.js (xstate), ./definitions.js (yaml), ../errors.js,
 * ../schema/registry.js (schemaId only), ../model.js.
 */
import { OrcError } from '../errors.js';
import type {
  OrcEvent,
  Snapshot,
  TaskDefinition,
  TaskState,
  TaskStatus,
  WorkerLease,
  WorkerState,
  WorkstreamState,
  WorkstreamStatus,
  WorkerStatus,
} from '../model.js';
import { schemaId } from '../schema/registry.js';
import { step } from './build.js';
import { DEFINITIONS, type MachineKind, type TransitionDef } from './definitions.js';
import { isInterruptedAttempt, type GuardEnv } from './guards.js';
import type { LiveState, PendingEvent, PlanContext, TransitionRequest } from './types.js';
import { deriveWorkstreamStatus, noteTaskAdded, workstreamTasks } from './workstream.js';
import { EVENT_VERSION, SNAPSHOT_VERSION } from '../core/versions.js';

export type { LiveState, PendingEvent, PlanContext, TransitionRequest } from './types.js';
export { MACHINES, MACHINE_KINDS, machineFile, DEFINITIONS } from './definitions.js';
export type { MachineKind, MachineDefinition, TransitionDef, CreationDef } from './definitions.js';
export { deriveWorkstreamStatus, workstreamTasks } from './workstream.js';

export const SNAPSHOT_SCHEMA_VERSION = SNAPSHOT_VERSION;
export const EVENT_SCHEMA_VERSION = EVENT_VERSION;
const EPOCH = '1970-01-01T00:00:00.000Z';

/** ISO-8601 UTC with milliseconds (the snapshot/event format); unparseable values pass through for the schema to report. */
function normTime(v: string | null | undefined): string | null {
  if (v == null) return null;
  const n = Date.parse(v);
  return Number.isNaN(n) ? v : new Date(n).toISOString();
}

const DERIVED_WORKER_TRIGGERS: ReadonlySet<string> = new Set(['task_assigned', 'task_completed']);

const FINAL: Record<MachineKind, ReadonlySet<string>> = {
  task: new Set(DEFINITIONS.task.finalStates),
  workstream: new Set(DEFINITIONS.workstream.finalStates),
  worker: new Set(DEFINITIONS.worker.finalStates),
};

export function isFinalState(kind: MachineKind, state: string): boolean {
  return FINAL[kind].has(state);
}

export function emptyState(): LiveState {
  return { tasks: new Map(), workstreams: new Map(), workers: new Map(), last_seq: 0, timestamp: '' };
}

export function cloneState(s: LiveState): LiveState {
  return {
    tasks: new Map([...s.tasks].map(([k, v]) => [k, { ...v }])),
    workstreams: new Map([...s.workstreams].map(([k, v]) => [k, { ...v }])),
    workers: new Map([...s.workers].map(([k, v]) => [k, { ...v, capabilities: [...v.capabilities] }])),
    last_seq: s.last_seq,
    timestamp: s.timestamp,
  };
}

export function fromSnapshot(s: Snapshot): LiveState {
  return {
    tasks: new Map(s.tasks.map((t) => [t.task_id, { ...t }])),
    workstreams: new Map(s.workstreams.map((w) => [w.workstream_id, { ...w }])),
    workers: new Map(s.workers.map((w) => [w.worker_id, { ...w, capabilities: [...w.capabilities] }])),
    last_seq: s.last_seq,
    timestamp: s.timestamp,
  };
}

/** Sorted ids of each entity map, reused while the map holds the same ids (a commit rarely adds one). */
const sortedIds = new WeakMap<Map<string, unknown>, string[]>();
function byId<T>(m: Map<string, T>): T[] {
  let ids = sortedIds.get(m);
  if (!ids || ids.length !== m.size || !ids.every((k) => m.has(k))) {
    ids = [...m.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    sortedIds.set(m, ids);
  }
  return ids.map((k) => m.get(k) as T);
}

export function toSnapshot(s: LiveState, lastEvents: OrcEvent[]): Snapshot {
  return {
    schema_version: SNAPSHOT_SCHEMA_VERSION,
    schema_url: schemaId('snapshot', SNAPSHOT_SCHEMA_VERSION),
    timestamp: s.timestamp || EPOCH,
    last_seq: s.last_seq,
    last_events: lastEvents,
    workstreams: byId(s.workstreams),
    tasks: byId(s.tasks),
    workers: byId(s.workers),
  };
}

// ---------------------------------------------------------------------------
// planning

function illegal(
  kind: MachineKind,
  id: string,
  current: string,
  trigger: string,
  allowed: string[],
  detail?: string,
): OrcError {
  // task_assigned / task_completed are derived from task events, never requested
  if (kind === 'worker') allowed = allowed.filter((t) => !DERIVED_WORKER_TRIGGERS.has(t));
  const allowedText = allowed.length ? allowed.join(', ') : 'none: it is a terminal state';
  const message =
    `${kind} ${id} is ${current}; trigger ${trigger} ` +
    (detail ? `was refused: ${detail}` : `is not allowed from ${current}`) +
    ` (allowed from ${current}: ${allowedText})`;
  return new OrcError('ILLEGAL_TRANSITION', message, {
    fix: allowed.length
      ? `use one of: ${allowed.join(', ')}${detail ? ', or first satisfy the guard' : ''}`
      : `${kind} ${id} is in a terminal state and never changes`,
    data: { entity_type: kind, entity_id: id, state: current, trigger, allowed },
  });
}

function run(kind: MachineKind, id: string, current: string, trigger: string, env: GuardEnv): TransitionDef {
  const r = step(kind, current, trigger, env);
  if (r.ok) return r.transition;
  if (r.unknownState) {
    throw new OrcError('STATE_CORRUPT', `${kind} ${id} has unknown state "${current}"`, {
      fix: `the ${kind} machine knows: ${DEFINITIONS[kind].states.join(', ')}; run orc-state doctor`,
    });
  }
  const detail = r.refused.length ? r.refused.map((x) => `guard ${x.guard} failed: ${x.reason}`).join('; ') : undefined;
  throw illegal(kind, id, current, trigger, r.allowed, detail);
}

function baseEvent(
  req: TransitionRequest,
  entity_type: MachineKind,
  entity_id: string,
  workstream_id: string | null,
  t: { event: string; severity: OrcEvent['severity'] },
  trigger: string,
  from: string | null,
  to: string,
  metadata: OrcEvent['metadata'],
): PendingEvent {
  const ev: PendingEvent = {
    schema_version: EVENT_SCHEMA_VERSION,
    timestamp: req.timestamp,
    event: t.event,
    trigger,
    entity_type,
    entity_id,
    workstream_id,
    from_state: from,
    to_state: to,
    severity: t.severity,
    caused_by: null,
    metadata,
  };
  if (req.actor !== undefined) ev.actor = req.actor;
  return ev;
}

function secondsBetween(from: string | null, to: string): number | null {
  if (!from) return null;
  const a = Date.parse(from);
  const b = Date.parse(to);
  if (Number.isNaN(a) || Number.isNaN(b)) return null;
  return Math.max(0, (b - a) / 1000);
}

/** The task after `ev` (pure; the same rules applyEvent uses). */
/** The keys of a task state, in the order taskFromCreation writes them (and snapshots keep). */
const TASK_KEYS = ['task_id', 'workstream_id', 'status', 'created_at', 'started_at', 'completed_at', 'assigned_worker', 'retry_count', 'max_retries', 'last_error', 'updated_at'] as const;

/** Exactly TASK_KEYS in that order (enumerable, own or inherited): then a literal copy is what the spread gives. */
function canonicalTask(task: TaskState): boolean {
  let i = 0;
  for (const k in task) if (k !== TASK_KEYS[i++]) return false;
  return i === TASK_KEYS.length;
}

function nextTask(task: TaskState, ev: PendingEvent | OrcEvent): TaskState {
  const to = ev.to_state as TaskStatus;
  // A literal in the canonical order (one stable shape; replaying 100,000 events spends ~40% less than
  // the generic spread, which stays for task states with other keys, e.g. from a hand-edited snapshot).
  const next: TaskState = canonicalTask(task)
    ? {
        task_id: task.task_id,
        workstream_id: task.workstream_id,
        status: to,
        created_at: task.created_at,
        started_at: task.started_at,
        completed_at: task.completed_at,
        assigned_worker: task.assigned_worker,
        retry_count: task.retry_count,
        max_retries: task.max_retries,
        last_error: task.last_error,
        updated_at: ev.timestamp,
      }
    : { ...task, status: to, updated_at: ev.timestamp };
  if (to === 'running') {
    if (!next.started_at) next.started_at = ev.timestamp;
    next.assigned_worker = (ev.metadata.worker_id as string | null | undefined) ?? null;
  } else {
    next.assigned_worker = null;
  }
  if (FINAL.task.has(to)) next.completed_at = ev.timestamp;
  if (to === 'retrying' && !isInterruptedAttempt(ev)) next.retry_count = task.retry_count + 1;
  if (typeof ev.metadata.error === 'string') next.last_error = ev.metadata.error;
  return next;
}

function taskFromCreation(ev: PendingEvent | OrcEvent): TaskState {
  const m = ev.metadata as Record<string, unknown>;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return {
    task_id: ev.entity_id,
    workstream_id: ev.workstream_id ?? '',
    status: ev.to_state as TaskStatus,
    created_at: str(m['created_at']) ?? ev.timestamp,
    started_at: str(m['started_at']),
    completed_at: str(m['completed_at']),
    assigned_worker: str(m['worker_id']),
    retry_count: typeof m['retry_count'] === 'number' ? m['retry_count'] : 0,
    max_retries: typeof m['max_retries'] === 'number' ? m['max_retries'] : 0,
    last_error: str(m['error']),
    updated_at: ev.timestamp,
  };
}

function metadataOf(req: TransitionRequest): OrcEvent['metadata'] {
  const m: OrcEvent['metadata'] = { ...(req.metadata ?? {}) };
  if (req.error != null) m.error = req.error;
  return m;
}

/** Workstream events following a change of the tasks in `override` (Decision 7). */
function workstreamFollowUps(
  state: LiveState,
  ctx: PlanContext,
  req: TransitionRequest,
  workstreamId: string,
  override: Map<string, TaskState>,
  out: PendingEvent[],
): void {
  let current: string | undefined = state.workstreams.get(workstreamId)?.status;
  if (current === undefined) {
    const c = DEFINITIONS.workstream.creation;
    out.push(
      baseEvent(req, 'workstream', workstreamId, workstreamId, c, c.trigger, null, c.to as string, {}),
    );
    current = c.to as string;
  }
  if (FINAL.workstream.has(current)) return;
  const isCritical = criticalOf(ctx);
  const derived = deriveWorkstreamStatus(state, workstreamId, isCritical, override);
  if (!derived || derived.status === current) return;
  const env: GuardEnv = { state, defs: ctx.defs, req, derived };
  const r = step('workstream', current, derived.trigger, env);
  if (!r.ok) return; // e.g. validating: left only through validation requests
  out.push(
    baseEvent(req, 'workstream', workstreamId, workstreamId, r.transition, derived.trigger, current, r.transition.to, {}),
  );
}

function criticalOf(ctx: PlanContext): (id: string) => boolean {
  return (id) => ctx.defs.get(id)?.critical === true || ctx.criticalTasks?.has(id) === true;
}

function notFound(kind: string, id: string, fix: string): OrcError {
  return new OrcError('NOT_FOUND', `${kind} ${id} is not in the state`, { fix, data: { entity_type: kind, entity_id: id } });
}

function alreadyExists(kind: MachineKind, id: string, status: string, trigger: string): OrcError {
  const allowed = [...new Set(DEFINITIONS[kind].transitions.filter((t) => t.from === status).map((t) => t.trigger))];
  return illegal(kind, id, status, trigger, allowed, `it creates a new ${kind}, but ${kind} ${id} already exists`);
}

function planTask(state: LiveState, ctx: PlanContext, req: TransitionRequest): PendingEvent[] {
  const out: PendingEvent[] = [];
  const id = req.entity_id;
  const creation = DEFINITIONS.task.creation;
  if (req.trigger === creation.trigger) {
    const existing = state.tasks.get(id);
    if (existing) throw alreadyExists('task', id, existing.status, req.trigger);
    const def = ctx.defs.get(id);
    if (!def) throw notFound('task definition', id, `add tasks/<workstream_id>/${id}.json first`);
    if (!DEFINITIONS.task.states.includes(def.status)) {
      throw new OrcError('INVALID_INPUT', `task ${id}: definition status "${def.status}" is not a task state`, {
        fix: `use one of: ${DEFINITIONS.task.states.join(', ')}`,
      });
    }
    const s = def.state ?? ({} as Partial<TaskDefinition['state']>);
    const ev = baseEvent(req, 'task', id, def.workstream_id, creation, creation.trigger, null, def.status, {
      ...metadataOf(req),
      created_at: normTime(s.created_at) ?? req.timestamp,
      started_at: normTime(s.started_at),
      completed_at: normTime(s.completed_at),
      // initial values (Decision 1); a leftover worker on a task that is not running,
      // or a retry count above the limit, would break the invariants on first sight
      worker_id: def.status === 'running' ? (s.assigned_worker ?? null) : null,
      retry_count: Math.max(0, Math.min(s.retry_count ?? 0, def.execution?.max_retries ?? 0)),
      max_retries: def.execution?.max_retries ?? 0,
      error: s.last_error ?? null,
    });
    out.push(ev);
    workstreamFollowUps(state, ctx, req, def.workstream_id, new Map([[id, taskFromCreation(ev)]]), out);
    return out;
  }
  const task = state.tasks.get(id);
  if (!task) throw notFound('task', id, 'run `orc-state sync` so the engine creates it from its definition');
  const env: GuardEnv = { state, defs: ctx.defs, req, task };
  const t = run('task', id, task.status, req.trigger, env);
  const metadata = metadataOf(req);
  const workerId = t.to === 'running' ? (req.worker_id ?? null) : task.assigned_worker;
  metadata.worker_id = workerId;
  metadata.retry_count = t.to === 'retrying' && !isInterruptedAttempt(req) ? task.retry_count + 1 : task.retry_count;
  if (FINAL.task.has(t.to) || task.status === 'running') {
    metadata.duration_seconds = secondsBetween(task.started_at, req.timestamp);
  }
  const ev = baseEvent(req, 'task', id, task.workstream_id, t, req.trigger, task.status, t.to, metadata);
  out.push(ev);
  const after = nextTask(task, ev);

  // worker follow-ups
  if (t.to === 'running' && workerId) {
    const worker = state.workers.get(workerId) as WorkerState;
    const wt = run('worker', workerId, worker.status, 'task_assigned', { state, defs: ctx.defs, req, worker });
    out.push(
      baseEvent(req, 'worker', workerId, null, wt, 'task_assigned', worker.status, wt.to, {
        worker_id: workerId,
        task_id: id,
        // a claim's lease (src/engine/leases.ts) is held by the worker
        ...(metadata['lease'] !== undefined ? { lease: metadata['lease'] } : {}),
      }),
    );
  } else if (task.status === 'running' && t.to !== 'running' && task.assigned_worker) {
    const worker = state.workers.get(task.assigned_worker);
    if (worker && worker.current_task === id) {
      const r = step('worker', worker.status, 'task_completed', { state, defs: ctx.defs, req, worker });
      if (r.ok) {
        out.push(
          baseEvent(req, 'worker', worker.worker_id, null, r.transition, 'task_completed', worker.status, r.transition.to, {
            worker_id: worker.worker_id,
            task_id: id,
            task_status: t.to,
          }),
        );
      }
    }
  }
  workstreamFollowUps(state, ctx, req, task.workstream_id, new Map([[id, after]]), out);
  return out;
}

function planWorkstream(state: LiveState, ctx: PlanContext, req: TransitionRequest): PendingEvent[] {
  const id = req.entity_id;
  const creation = DEFINITIONS.workstream.creation;
  if (req.trigger === creation.trigger) {
    const existing = state.workstreams.get(id);
    if (existing) throw alreadyExists('workstream', id, existing.status, req.trigger);
    const out: PendingEvent[] = [
      baseEvent(req, 'workstream', id, id, creation, creation.trigger, null, creation.to as string, metadataOf(req)),
    ];
    // tasks created before their workstream: derive at once
    const derived = deriveWorkstreamStatus(state, id, criticalOf(ctx));
    if (derived) {
      const r = step('workstream', creation.to as string, derived.trigger, { state, defs: ctx.defs, req, derived });
      if (r.ok) out.push(baseEvent(req, 'workstream', id, id, r.transition, derived.trigger, creation.to as string, r.transition.to, {}));
    }
    return out;
  }
  const ws = state.workstreams.get(id);
  if (!ws) throw notFound('workstream', id, 'run `orc-state sync` so the engine creates it from tasks/');
  const derived = deriveWorkstreamStatus(state, id, criticalOf(ctx));
  const t = run('workstream', id, ws.status, req.trigger, { state, defs: ctx.defs, req, derived });
  return [baseEvent(req, 'workstream', id, id, t, req.trigger, ws.status, t.to, metadataOf(req))];
}


function planWorker(state: LiveState, ctx: PlanContext, req: TransitionRequest): PendingEvent[] {
  const id = req.entity_id;
  const creation = DEFINITIONS.worker.creation;
  if (req.trigger === creation.trigger) {
    const existing = state.workers.get(id);
    if (existing) throw alreadyExists('worker', id, existing.status, req.trigger);
    const caps = req.metadata?.['capabilities'] ?? [];
    if (!Array.isArray(caps) || caps.some((c) => typeof c !== 'string')) {
      throw new OrcError('INVALID_INPUT', `worker ${id}: metadata.capabilities must be a list of capability ids`, {
        fix: 'pass capabilities as an array of strings, e.g. ["python", "git"]',
      });
    }
    return [
      baseEvent(req, 'worker', id, null, creation, creation.trigger, null, creation.to as string, {
        ...metadataOf(req),
        worker_id: id,
        capabilities: [...(caps as string[])],
      }),
    ];
  }
  const worker = state.workers.get(id);
  if (!worker) throw notFound('worker', id, `register it first with trigger ${creation.trigger}`);
  if (DERIVED_WORKER_TRIGGERS.has(req.trigger)) {
    throw illegal('worker', id, worker.status, req.trigger, requestable(worker.status), 'it is derived from task events (worker_started on a task assigns it; the task leaving running releases it)');
  }
  const t = run('worker', id, worker.status, req.trigger, { state, defs: ctx.defs, req, worker });
  return [
    baseEvent(req, 'worker', id, null, t, req.trigger, worker.status, t.to, {
      ...metadataOf(req),
      worker_id: id,
      ...(worker.current_task ? { task_id: worker.current_task } : {}),
    }),
  ];
}

function requestable(status: string): string[] {
  return [
    ...new Set(DEFINITIONS.worker.transitions.filter((t) => t.from === status && !DERIVED_WORKER_TRIGGERS.has(t.trigger)).map((t) => t.trigger)),
  ];
}

export function planTransition(state: LiveState, ctx: PlanContext, req: TransitionRequest): PendingEvent[] {
  const out = planFor(state, ctx, req);
  const first = out[0];
  if (first) first.caused_by = req.caused_by ?? null;
  return out;
}

function planFor(state: LiveState, ctx: PlanContext, req: TransitionRequest): PendingEvent[] {
  switch (req.entity_type) {
    case 'task':
      return planTask(state, ctx, req);
    case 'workstream':
      return planWorkstream(state, ctx, req);
    case 'worker':
      return planWorker(state, ctx, req);
    default:
      throw new OrcError('USAGE', `unknown entity_type "${String((req as { entity_type: unknown }).entity_type)}"`, {
        fix: 'entity_type is one of task, workstream, worker',
      });
  }
}

// ---------------------------------------------------------------------------
// applying

/** The system event a heartbeat writes (src/engine/leases.ts): metadata.worker_id, metadata.lease. */
export const LEASE_RENEWED_EVENT = 'lease_renewed';

/** The keys of a worker state, in the order a worker_registered event writes them (and snapshots keep); `lease` may follow. */
const WORKER_KEYS = ['worker_id', 'status', 'capabilities', 'current_task', 'registered_at', 'updated_at'] as const;

/** 6: exactly WORKER_KEYS in that order; 7: those then `lease`; 0: any other shape (enumerable, own or inherited). */
function canonicalWorker(worker: WorkerState): 0 | 6 | 7 {
  let i = 0;
  for (const k in worker) {
    if (i < WORKER_KEYS.length ? k !== WORKER_KEYS[i] : i > WORKER_KEYS.length || k !== 'lease') return 0;
    i++;
  }
  return i === 6 ? 6 : i === 7 ? 7 : 0;
}

/**
 * The worker after a non-creating event, for a canonical worker state: a literal in the canonical
 * order, `lease` appended last when it stays. The result (keys, order, values) is what the generic
 * path below gives ({ ...cur } then `delete next.lease`), without the delete that turns every later
 * copy into a slow dictionary-mode spread (replaying 45,000 worker events).
 */
function nextCanonicalWorker(cur: WorkerState, hasLease: boolean, event: OrcEvent): WorkerState {
  const status = event.to_state as WorkerStatus;
  let currentTask = cur.current_task;
  let lease = cur.lease;
  if (event.trigger === 'task_assigned') {
    const task = event.metadata['task_id'];
    currentTask = typeof task === 'string' ? task : null;
    const fresh = leaseOf(event.metadata['lease'], currentTask);
    hasLease = fresh !== null;
    if (fresh) lease = fresh;
  } else if (event.trigger === 'task_completed' || status === 'shutdown' || status === 'idle') {
    currentTask = null;
  }
  if (currentTask === null) hasLease = false;
  const next: WorkerState = {
    worker_id: cur.worker_id,
    status,
    capabilities: cur.capabilities,
    current_task: currentTask,
    registered_at: cur.registered_at,
    updated_at: event.timestamp,
  };
  if (hasLease) next.lease = lease as WorkerLease;
  return next;
}

/** A lease recorded in event metadata, or null when there is none (or it is malformed). */
export function leaseOf(value: unknown, taskId: string | null): WorkerLease | null {
  if (value === null || typeof value !== 'object' || taskId === null) return null;
  const l = value as Record<string, unknown>;
  if (typeof l['token'] !== 'string' || typeof l['expires_at'] !== 'string' || !Number.isInteger(l['seconds']) || (l['seconds'] as number) < 1) return null;
  return {
    token: l['token'],
    task_id: taskId,
    acquired_at: typeof l['acquired_at'] === 'string' ? l['acquired_at'] : l['expires_at'],
    expires_at: l['expires_at'],
    seconds: l['seconds'] as number,
    pid: typeof l['pid'] === 'number' ? l['pid'] : null,
    host: typeof l['host'] === 'string' ? l['host'] : null,
  };
}

function corrupt(event: OrcEvent, current: string | undefined): OrcError {
  return new OrcError(
    'STATE_CORRUPT',
    `event seq ${event.seq} (${event.event}) moves ${event.entity_type} ${event.entity_id} from ${event.from_state ?? '(none)'}, but it is ${current ?? 'absent'}`,
    {
      fix: 'the log and the state disagree: run `orc-state doctor` to compare the snapshot with a replay of the log',
      data: { seq: event.seq, event_id: event.event_id },
    },
  );
}

function leaveTerminal(event: OrcEvent, current: string): OrcError {
  return new OrcError(
    'INVARIANT_VIOLATION',
    `event seq ${event.seq} moves ${event.entity_type} ${event.entity_id} out of terminal state ${current}`,
    { fix: 'terminal states never change; run `orc-state doctor`', data: { seq: event.seq, event_id: event.event_id } },
  );
}

export function applyEvent(state: LiveState, event: OrcEvent): void {
  const id = event.entity_id;
  switch (event.entity_type) {
    case 'task': {
      const cur = state.tasks.get(id);
      if (event.from_state === null) {
        if (cur) throw corrupt(event, cur.status);
        const t = taskFromCreation(event);
        state.tasks.set(id, t);
        noteTaskAdded(state, t);
      } else {
        if (!cur || cur.status !== event.from_state) throw corrupt(event, cur?.status);
        if (FINAL.task.has(cur.status) && event.to_state !== cur.status) throw leaveTerminal(event, cur.status);
        state.tasks.set(id, nextTask(cur, event));
      }
      break;
    }
    case 'workstream': {
      const cur = state.workstreams.get(id);
      if (event.from_state === null) {
        if (cur) throw corrupt(event, cur.status);
        state.workstreams.set(id, {
          workstream_id: id,
          status: event.to_state as WorkstreamStatus,
          updated_at: event.timestamp,
        });
      } else {
        if (!cur || cur.status !== event.from_state) throw corrupt(event, cur?.status);
        if (FINAL.workstream.has(cur.status) && event.to_state !== cur.status) throw leaveTerminal(event, cur.status);
        state.workstreams.set(id, { ...cur, status: event.to_state as WorkstreamStatus, updated_at: event.timestamp });
      }
      break;
    }
    case 'worker': {
      const cur = state.workers.get(id);
      if (event.from_state === null) {
        if (cur) throw corrupt(event, cur.status);
        const caps = event.metadata['capabilities'];
        state.workers.set(id, {
          worker_id: id,
          status: event.to_state as WorkerStatus,
          capabilities: Array.isArray(caps) ? caps.filter((c): c is string => typeof c === 'string') : [],
          current_task: null,
          registered_at: event.timestamp,
          updated_at: event.timestamp,
        });
      } else {
        if (!cur || cur.status !== event.from_state) throw corrupt(event, cur?.status);
        if (FINAL.worker.has(cur.status) && event.to_state !== cur.status) throw leaveTerminal(event, cur.status);
        const shape = canonicalWorker(cur);
        if (shape !== 0) {
          state.workers.set(id, nextCanonicalWorker(cur, shape === 7, event));
          break;
        }
        const next: WorkerState = { ...cur, status: event.to_state as WorkerStatus, updated_at: event.timestamp };
        if (event.trigger === 'task_assigned') {
          const task = event.metadata['task_id'];
          next.current_task = typeof task === 'string' ? task : null;
          const lease = leaseOf(event.metadata['lease'], next.current_task);
          if (lease) next.lease = lease;
          else delete next.lease;
        } else if (event.trigger === 'task_completed' || next.status === 'shutdown' || next.status === 'idle') {
          next.current_task = null;
        }
        // a lease lives while the worker holds the claimed task (busy, or unresponsive and not yet timed out)
        if (next.current_task === null) delete next.lease;
        state.workers.set(id, next);
      }
      break;
    }
    default: {
      // system events change no entity's status; a heartbeat moves its worker's lease forward
      if (event.event === LEASE_RENEWED_EVENT) {
        const workerId = event.metadata.worker_id;
        const cur = typeof workerId === 'string' ? state.workers.get(workerId) : undefined;
        const lease = cur?.lease ? leaseOf(event.metadata['lease'], cur.lease.task_id) : null;
        if (cur && lease && cur.lease?.token === lease.token) state.workers.set(cur.worker_id, { ...cur, lease });
      }
      break;
    }
  }
  state.last_seq = event.seq;
  state.timestamp = event.timestamp;
}

// ---------------------------------------------------------------------------
// invariants

export interface InvariantViolation {
  invariant: string;
  entity_type: MachineKind;
  entity_id: string;
  message: string;
}

interface Shadow {
  tasks: Map<string, { status: string; retry: number }>;
  workstreams: Map<string, string>;
  workers: Map<string, string>;
}

const shadows = new WeakMap<LiveState, Shadow>();

function ts(v: string | null | undefined): number | null {
  if (!v) return null;
  const n = Date.parse(v);
  return Number.isNaN(n) ? null : n;
}

export function invariantViolations(
  state: LiveState,
  defs: ReadonlyMap<string, TaskDefinition>,
  only?: Iterable<string>,
): InvariantViolation[] {
  const out: InvariantViolation[] = [];
  const v = (invariant: string, entity_type: MachineKind, entity_id: string, message: string): void => {
    out.push({ invariant, entity_type, entity_id, message });
  };
  let shadow = shadows.get(state);
  const first = !shadow;
  if (!shadow) {
    shadow = { tasks: new Map(), workstreams: new Map(), workers: new Map() };
    shadows.set(state, shadow);
  }
  const onlySet = only ? new Set(only) : null;
  const taskIds = onlySet ? [...onlySet].filter((id) => state.tasks.has(id)) : state.tasks.keys();
  for (const id of taskIds) {
    const t = state.tasks.get(id) as TaskState;
    if (!Number.isInteger(t.retry_count) || t.retry_count < 0 || t.retry_count > t.max_retries) {
      v('retry_count_bounded_monotone', 'task', id, `task ${id}: retry_count ${t.retry_count} is outside 0..max_retries (${t.max_retries})`);
    }
    if (t.assigned_worker != null && t.status !== 'running') {
      v('only_running_assigned', 'task', id, `task ${id} is ${t.status} but has assigned_worker ${t.assigned_worker}`);
    }
    const c = ts(t.created_at);
    const s = ts(t.started_at);
    const d = ts(t.completed_at);
    if ((c !== null && s !== null && c > s) || (s !== null && d !== null && s > d) || (c !== null && d !== null && c > d)) {
      v('timestamps_ordered', 'task', id, `task ${id}: created_at ${t.created_at} <= started_at ${t.started_at} <= completed_at ${t.completed_at} does not hold`);
    }
    if (t.status === 'queued') {
      const deps = defs.get(id)?.dependencies ?? [];
      const open = deps.filter((dep) => state.tasks.get(dep)?.status !== 'completed');
      if (open.length) v('queued_dependencies_completed', 'task', id, `task ${id} is queued but dependencies ${open.join(', ')} are not completed`);
    }
    const prev = shadow.tasks.get(id);
    if (prev && !first) {
      if (FINAL.task.has(prev.status) && prev.status !== t.status) {
        v('terminal_never_changes', 'task', id, `task ${id} left terminal state ${prev.status} for ${t.status}`);
      }
      if (t.retry_count < prev.retry) {
        v('retry_count_bounded_monotone', 'task', id, `task ${id}: retry_count decreased from ${prev.retry} to ${t.retry_count}`);
      }
    }
    shadow.tasks.set(id, { status: t.status, retry: t.retry_count });
  }
  const wsIds = onlySet ? [...onlySet].filter((id) => state.workstreams.has(id)) : state.workstreams.keys();
  for (const id of wsIds) {
    const w = state.workstreams.get(id) as WorkstreamState;
    const prev = shadow.workstreams.get(id);
    if (prev && !first && FINAL.workstream.has(prev) && prev !== w.status) {
      v('terminal_never_changes', 'workstream', id, `workstream ${id} left terminal state ${prev} for ${w.status}`);
    }
    shadow.workstreams.set(id, w.status);
  }
  const workerIds = onlySet ? [...onlySet].filter((id) => state.workers.has(id)) : state.workers.keys();
  for (const id of workerIds) {
    const w = state.workers.get(id) as WorkerState;
    if (w.status === 'busy') {
      const t = w.current_task ? state.tasks.get(w.current_task) : undefined;
      if (!t || t.status !== 'running' || t.assigned_worker !== id) {
        v('busy_has_task', 'worker', id, `worker ${id} is busy but its current_task ${w.current_task ?? '(none)'} is not a task running on it`);
      }
    } else if (w.status !== 'unresponsive' && w.current_task != null) {
      v('busy_has_task', 'worker', id, `worker ${id} is ${w.status} but holds task ${w.current_task}`);
    }
    const prev = shadow.workers.get(id);
    if (prev && !first && FINAL.worker.has(prev) && prev !== w.status) {
      v('terminal_never_changes', 'worker', id, `worker ${id} left terminal state ${prev} for ${w.status}`);
    }
    shadow.workers.set(id, w.status);
  }
  return out;
}

export function checkInvariants(state: LiveState, defs: ReadonlyMap<string, TaskDefinition>, only?: Iterable<string>): void {
  const found = invariantViolations(state, defs, only);
  if (found.length) {
    const first = found[0] as InvariantViolation;
    throw new OrcError(
      'INVARIANT_VIOLATION',
      found.length === 1 ? first.message : `${first.message} (and ${found.length - 1} more)`,
      {
        fix: 'the transition batch was not committed; check the task definitions and the requested triggers',
        data: { violations: found },
      },
    );
  }
}

/** Task ids of a workstream in `state` (helper for callers and rules). */
export function tasksOfWorkstream(state: LiveState, workstreamId: string): readonly string[] {
  return workstreamTasks(state, workstreamId);
}
