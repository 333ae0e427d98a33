// applyEvent's task update: the fast literal copy (canonical task states) gives exactly what the generic
// spread gave — same keys in the same order, same values — and task states with other keys (orphaned, a
// hand-edited snapshot's extra field, another key order) keep every key as before. The same for worker
// states: the literal copy (canonical keys, `lease` last) equals the spread-then-delete it replaced.
import { describe, expect, test } from 'vitest';
import { applyEvent, emptyState, leaseOf } from '../src/machines/index.js';
import type { OrcEvent, TaskState, WorkerState } from '../src/model.js';

const base: TaskState = {
  task_id: 't1',
  workstream_id: 'ws',
  status: 'pending',
  created_at: '2026-01-01T00:00:00.000Z',
  started_at: null,
  completed_at: null,
  assigned_worker: null,
  retry_count: 0,
  max_retries: 2,
  last_error: null,
  updated_at: '2026-01-01T00:00:00.000Z',
};

const ev = (from: string, to: string, trigger: string, metadata: Record<string, unknown> = {}): OrcEvent =>
  ({
    schema_version: '2.0.0',
    seq: 2,
    event_id: 'e2',
    timestamp: '2026-01-01T00:01:00.000Z',
    event: trigger,
    trigger,
    entity_type: 'task',
    entity_id: 't1',
    workstream_id: 'ws',
    from_state: from,
    to_state: to,
    severity: 'info',
    caused_by: null,
    metadata,
    actor: 'test',
  }) as OrcEvent;

/** What applyEvent did before the literal copy: the spread, then the same field updates. */
function spreadNext(task: TaskState, e: OrcEvent): TaskState {
  const next = { ...task, status: e.to_state, updated_at: e.timestamp } as TaskState;
  if (e.to_state === 'running') {
    if (!next.started_at) next.started_at = e.timestamp;
    next.assigned_worker = (e.metadata.worker_id as string | undefined) ?? null;
  } else next.assigned_worker = null;
  if (['completed', 'failed', 'cancelled'].includes(e.to_state)) next.completed_at = e.timestamp;
  if (e.to_state === 'retrying') next.retry_count = task.retry_count + 1;
  if (typeof e.metadata.error === 'string') next.last_error = e.metadata.error;
  return next;
}

/** The entity state after applying `e` to a state holding only `entity` (under `kind`, keyed by `id`). */
function after<T>(kind: 'tasks' | 'workers', id: string, entity: T, e: OrcEvent): T {
  const state = emptyState();
  (state[kind] as Map<string, unknown>).set(id, entity);
  applyEvent(state, e);
  return (state[kind] as Map<string, unknown>).get(id) as T;
}

const applied = (task: TaskState, e: OrcEvent): TaskState => after('tasks', task.task_id, task, e);

describe('applyEvent task copies', () => {
  const events = [ev('pending', 'ready', 'dependencies_met'), ev('assigned', 'running', 'execution_started', { worker_id: 'w1' }), ev('running', 'failed', 'execution_failed', { error: 'boom' })];
  const variants: Array<[string, TaskState]> = [
    ['canonical', base],
    ['orphaned', { ...base, orphaned: true }],
    ['extra key', { ...base, note: 'kept' } as TaskState],
    ['other key order', { workstream_id: 'ws', ...base } as TaskState],
  ];
  for (const [name, task] of variants) {
    test(`${name}: same keys, order and values as the spread`, () => {
      for (const e of events) {
        const t = { ...task, status: e.from_state } as TaskState;
        const got = applied(t, e);
        const want = spreadNext(t, e);
        expect(Object.keys(got)).toEqual(Object.keys(want));
        expect(got).toEqual(want);
      }
    });
  }
});

const worker: WorkerState = {
  worker_id: 'w1',
  status: 'idle',
  capabilities: ['shell.exec'],
  current_task: null,
  registered_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
};
const lease = { token: 'tok', task_id: 't1', acquired_at: '2026-01-01T00:00:30.000Z', expires_at: '2026-01-01T00:05:00.000Z', seconds: 300, pid: 7, host: 'h' };
const wev = (from: string, to: string, trigger: string, metadata: Record<string, unknown> = {}): OrcEvent =>
  ({ ...ev(from, to, trigger, metadata), entity_type: 'worker', entity_id: 'w1', workstream_id: null }) as OrcEvent;

/** What applyEvent did before the literal worker copy: the spread, then the same updates and deletes. */
function spreadNextWorker(cur: WorkerState, e: OrcEvent): WorkerState {
  const next = { ...cur, status: e.to_state, updated_at: e.timestamp } as WorkerState;
  if (e.trigger === 'task_assigned') {
    const task = e.metadata['task_id'];
    next.current_task = typeof task === 'string' ? task : null;
    const l = leaseOf(e.metadata['lease'], next.current_task);
    if (l) next.lease = l;
    else delete next.lease;
  } else if (e.trigger === 'task_completed' || next.status === 'shutdown' || next.status === 'idle') {
    next.current_task = null;
  }
  if (next.current_task === null) delete next.lease;
  return next;
}

const appliedWorker = (w: WorkerState, e: OrcEvent): WorkerState => after('workers', w.worker_id, w, e);

describe('applyEvent worker copies', () => {
  const { task_id: _omit, ...leaseMeta } = lease;
  const events = [
    wev('idle', 'busy', 'task_assigned', { task_id: 't1', lease: leaseMeta }),
    wev('idle', 'busy', 'task_assigned', { task_id: 't1' }),
    wev('idle', 'busy', 'task_assigned', { task_id: 't1', lease: { token: 'tok' } }),
    wev('idle', 'busy', 'task_assigned', {}),
    wev('busy', 'idle', 'task_completed'),
    wev('busy', 'unresponsive', 'health_check_timeout'),
    wev('unresponsive', 'busy', 'health_check_recovered'),
    wev('busy', 'shutdown', 'worker_crashed'),
    wev('initializing', 'idle', 'registration_complete'),
  ];
  const variants: Array<[string, WorkerState]> = [
    ['canonical', worker],
    ['canonical with a task', { ...worker, current_task: 't1' }],
    ['canonical with a lease', { ...worker, current_task: 't1', lease }],
    ['lease key holding undefined', { ...worker, current_task: 't1', lease: undefined } as WorkerState],
    ['extra key', { ...worker, note: 'kept' } as WorkerState],
    ['extra key after the lease', { ...worker, current_task: 't1', lease, note: 'kept' } as WorkerState],
    ['lease before updated_at', { worker_id: 'w1', status: 'idle', capabilities: [], current_task: 't1', registered_at: 'x', lease, updated_at: 'y' } as WorkerState],
    ['other key order', { status: 'idle', ...worker } as WorkerState],
  ];
  for (const [name, w] of variants) {
    test(`${name}: same keys, order and values as the spread`, () => {
      for (const e of events) {
        const cur = { ...w, status: e.from_state } as WorkerState;
        const got = appliedWorker(cur, e);
        const want = spreadNextWorker(cur, e);
        expect(Object.keys(got)).toEqual(Object.keys(want));
        expect(got).toEqual(want);
        expect('lease' in got).toBe('lease' in want);
      }
    });
  }

  test('a chain of events through the canonical copy keeps the canonical shape', () => {
    let cur: WorkerState = worker;
    let want: WorkerState = worker;
    for (const e of [events[0]!, events[5]!, events[6]!, events[4]!]) {
      cur = appliedWorker(cur, e);
      want = spreadNextWorker(want, e);
      expect(Object.keys(cur)).toEqual(Object.keys(want));
      expect(cur).toEqual(want);
    }
  });
});
