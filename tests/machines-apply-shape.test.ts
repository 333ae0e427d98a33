// applyEvent's task update: the fast literal copy (canonical task states) gives exactly what the generic
// spread gave — same keys in the same order, same values — and task states with other keys (orphaned, a
// hand-edited snapshot's extra field, another key order) keep every key as before.
import { describe, expect, test } from 'vitest';
import { applyEvent, emptyState } from '../src/machines/index.js';
import type { OrcEvent, TaskState } from '../src/model.js';

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

function applied(task: TaskState, e: OrcEvent): TaskState {
  const state = emptyState();
  state.tasks.set(task.task_id, task);
  applyEvent(state, e);
  return state.tasks.get(task.task_id)!;
}

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
