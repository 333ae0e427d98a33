import { describe, expect, test } from 'vitest';
import { OrcError } from '../src/errors.js';
import {
  DEFINITIONS,
  MACHINE_KINDS,
  applyEvent,
  checkInvariants,
  emptyState,
  fromSnapshot,
  planTransition,
  toSnapshot,
  type LiveState,
  type PendingEvent,
  type TransitionRequest,
} from '../src/machines/index.js';
import type { OrcEvent, TaskDefinition, TaskState, TaskStatus, WorkerStatus, WorkstreamStatus } from '../src/model.js';
import { validate } from '../src/schema/registry.js';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();

function def(id: string, extra: Partial<TaskDefinition> = {}): TaskDefinition {
  return {
    schema_version: '2.0.0',
    schema_url: 'https://orc-state.dev/schemas/task/2.0.0.json',
    task_id: id,
    workstream_id: 'ws',
    name: id,
    description: id,
    type: 'custom',
    status: 'pending',
    dependencies: [],
    blocks: [],
    worker_requirements: { capabilities: ['py'] },
    execution: { command: 'true', timeout_seconds: 60, max_retries: 2 },
    context_requirements: { max_context_tokens: 1000, required_files: [], exclude_patterns: [] },
    validation_rules: { pre_execution: [], post_execution: [] },
    state: { created_at: at(0), retry_count: 0 },
    ...extra,
  };
}

function task(id: string, status: TaskStatus, extra: Partial<TaskState> = {}): TaskState {
  const running = status === 'running';
  const terminal = status === 'completed' || status === 'failed' || status === 'cancelled';
  return {
    task_id: id,
    workstream_id: 'ws',
    status,
    created_at: at(0),
    started_at: running || terminal ? at(1) : null,
    completed_at: terminal ? at(2) : null,
    assigned_worker: running ? 'w1' : null,
    retry_count: 0,
    max_retries: 2,
    last_error: null,
    updated_at: at(2),
    ...extra,
  };
}

/** T depends on D (completed); worker w1 (py) holds T when T runs. */
function taskScenario(status: TaskStatus, taskExtra: Partial<TaskState> = {}): { state: LiveState; defs: Map<string, TaskDefinition> } {
  const state = emptyState();
  state.tasks.set('D', task('D', 'completed'));
  state.tasks.set('T', task('T', status, taskExtra));
  state.workstreams.set('ws', { workstream_id: 'ws', status: 'executing', updated_at: at(2) });
  state.workers.set('w1', {
    worker_id: 'w1',
    status: status === 'running' ? 'busy' : 'idle',
    capabilities: ['py', 'git'],
    current_task: status === 'running' ? 'T' : null,
    registered_at: at(0),
    updated_at: at(0),
  });
  state.last_seq = 10;
  state.timestamp = at(2);
  const defs = new Map([
    ['T', def('T', { dependencies: ['D'] })],
    ['D', def('D', { blocks: ['T'] })],
  ]);
  return { state, defs };
}

function req(entity_type: TransitionRequest['entity_type'], entity_id: string, trigger: string, extra: Partial<TransitionRequest> = {}): TransitionRequest {
  return { entity_type, entity_id, trigger, timestamp: at(5), ...extra };
}

let seq = 100;
function commit(state: LiveState, defs: ReadonlyMap<string, TaskDefinition>, events: PendingEvent[]): OrcEvent[] {
  const out = events.map((p, i) => ({ ...p, seq: ++seq, event_id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`, caused_by: i === 0 ? p.caused_by : null }) as OrcEvent);
  for (const e of out) applyEvent(state, e);
  checkInvariants(state, defs);
  return out;
}

function expectIllegal(fn: () => unknown, parts: string[], allowed?: string[]): OrcError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(OrcError);
  const e = caught as OrcError;
  expect(e.code).toBe('ILLEGAL_TRANSITION');
  for (const p of parts) expect(e.message).toContain(p);
  if (allowed) expect((e.details.data as { allowed: string[] }).allowed).toEqual(allowed);
  return e;
}

const outgoing = (kind: (typeof MACHINE_KINDS)[number], state: string): string[] => [
  ...new Set(DEFINITIONS[kind].transitions.filter((t) => t.from === state).map((t) => t.trigger)),
];

describe('every task transition in the YAML', () => {
  for (const t of DEFINITIONS.task.transitions) {
    test(`${t.from} --${t.trigger}--> ${t.to}${t.guard ? ` [${t.guard}]` : ''}`, () => {
      const exhausted = t.guard === 'retries_exhausted';
      const { state, defs } = taskScenario(t.from as TaskStatus, exhausted ? { retry_count: 2 } : {});
      const before = JSON.stringify(toSnapshot(state, []));
      const events = planTransition(state, { defs }, req('task', 'T', t.trigger, { worker_id: t.trigger === 'worker_started' ? 'w1' : null, error: 'e1' }));
      expect(JSON.stringify(toSnapshot(state, []))).toBe(before); // planning never mutates
      const first = events[0]!;
      expect([first.entity_type, first.entity_id, first.from_state, first.to_state, first.event, first.severity, first.trigger]).toEqual([
        'task', 'T', t.from, t.to, t.event, t.severity, t.trigger,
      ]);
      commit(state, defs, events);
      const after = state.tasks.get('T')!;
      expect(after.status).toBe(t.to);
      expect(after.assigned_worker).toBe(t.to === 'running' ? 'w1' : null);
      if (t.to === 'retrying') expect(after.retry_count).toBe(1);
      if (['completed', 'failed', 'cancelled'].includes(t.to)) expect(after.completed_at).toBe(at(5));
      // the worker follows the task
      const w = state.workers.get('w1')!;
      if (t.to === 'running') expect([w.status, w.current_task]).toEqual(['busy', 'T']);
      if (t.from === 'running') expect([w.status, w.current_task]).toEqual(['idle', null]);
      for (const e of events) {
        const check = validate('event', '2.0.0', { ...e, seq: 1, event_id: '00000000-0000-4000-8000-000000000001' });
        expect(check.errors, JSON.stringify(e)).toEqual([]);
      }
    });
  }
});

describe('an attempt interrupted by the drain (execution_failed, metadata.interrupted: true)', () => {
  test('goes back to retrying without using a retry, even with none left; a plain failure there fails', () => {
    const { state, defs } = taskScenario('running', { retry_count: 2 }); // max_retries 2: none left
    const events = planTransition(state, { defs }, req('task', 'T', 'execution_failed', { error: 'stopped', metadata: { error_type: 'cancelled', interrupted: true } }));
    expect([events[0]!.to_state, events[0]!.severity, events[0]!.metadata.retry_count]).toEqual(['retrying', 'warning', 2]);
    commit(state, defs, events);
    expect(state.tasks.get('T')).toMatchObject({ status: 'retrying', retry_count: 2, assigned_worker: null });
    const again = taskScenario('running', { retry_count: 2 });
    const plain = planTransition(again.state, { defs: again.defs }, req('task', 'T', 'execution_failed', { error: 'boom', metadata: { error_type: 'nonzero_exit' } }));
    expect(plain[0]!.to_state).toBe('failed');
    // not a timeout, and never against retryable: false
    const timeout = taskScenario('running', { retry_count: 2 });
    expect(planTransition(timeout.state, { defs: timeout.defs }, req('task', 'T', 'task_timeout', { metadata: { interrupted: true } }))[0]!.to_state).toBe('failed');
    const refused = taskScenario('running', { retry_count: 0 });
    expect(planTransition(refused.state, { defs: refused.defs }, req('task', 'T', 'execution_failed', { metadata: { interrupted: true, retryable: false } }))[0]!.to_state).toBe('failed');
  });
});

describe('every workstream transition in the YAML', () => {
  const tasksFor: Record<string, TaskStatus[]> = {
    derived_ready: ['pending', 'pending'],
    derived_executing: ['running', 'pending'],
    derived_validating: ['completed', 'completed'],
    derived_failed: ['failed', 'pending'],
  };
  for (const t of DEFINITIONS.workstream.transitions) {
    test(`${t.from} --${t.trigger}--> ${t.to}`, () => {
      const state = emptyState();
      const statuses = tasksFor[t.guard ?? ''] ?? ['completed'];
      statuses.forEach((s, i) => state.tasks.set(`t${i}`, task(`t${i}`, s, { assigned_worker: null })));
      state.workstreams.set('ws', { workstream_id: 'ws', status: t.from as WorkstreamStatus, updated_at: at(0) });
      const defs = new Map([['t0', def('t0', { critical: true })], ['t1', def('t1')]]);
      const events = planTransition(state, { defs }, req('workstream', 'ws', t.trigger));
      expect(events).toHaveLength(1);
      expect([events[0]!.from_state, events[0]!.to_state, events[0]!.event, events[0]!.severity]).toEqual([t.from, t.to, t.event, t.severity]);
      applyEvent(state, { ...events[0]!, seq: 1, event_id: 'x' } as OrcEvent);
      expect(state.workstreams.get('ws')!.status).toBe(t.to);
    });
  }

  test('derived guards refuse a trigger the tasks do not support', () => {
    const state = emptyState();
    state.tasks.set('t0', task('t0', 'pending'));
    state.workstreams.set('ws', { workstream_id: 'ws', status: 'planned', updated_at: at(0) });
    expectIllegal(
      () => planTransition(state, { defs: new Map() }, req('workstream', 'ws', 'all_tasks_completed')),
      ['workstream ws is planned', 'guard derived_validating failed', 'derive ready'],
    );
  });
});

describe('every worker transition in the YAML', () => {
  for (const t of DEFINITIONS.worker.transitions) {
    test(`${t.from} --${t.trigger}--> ${t.to}`, () => {
      const holds = t.from === 'busy' || t.guard === 'has_current_task' || (t.from === 'unresponsive' && t.trigger === 'task_completed');
      const { state, defs } = taskScenario(holds ? 'running' : 'queued');
      const w = state.workers.get('w1')!;
      w.status = t.from as WorkerStatus;
      if (!holds) w.current_task = null;
      let events: PendingEvent[];
      if (t.trigger === 'task_assigned') {
        events = planTransition(state, { defs }, req('task', 'T', 'worker_started', { worker_id: 'w1' }));
      } else if (t.trigger === 'task_completed') {
        events = planTransition(state, { defs }, req('task', 'T', 'execution_completed'));
      } else {
        events = planTransition(state, { defs }, req('worker', 'w1', t.trigger));
      }
      const we = events.find((e) => e.entity_type === 'worker')!;
      expect(we).toBeDefined();
      expect([we.from_state, we.to_state, we.event, we.severity, we.trigger]).toEqual([t.from, t.to, t.event, t.severity, t.trigger]);
      for (const e of events) applyEvent(state, { ...e, seq: ++seq, event_id: String(seq) } as OrcEvent);
      expect(state.workers.get('w1')!.status).toBe(t.to);
    });
  }

  test('task_assigned / task_completed cannot be requested directly', () => {
    const { state, defs } = taskScenario('queued');
    expectIllegal(() => planTransition(state, { defs }, req('worker', 'w1', 'task_assigned')), ['derived from task events']);
  });
});

describe('every illegal (state, trigger) pair is rejected with the allowed triggers', () => {
  for (const kind of MACHINE_KINDS) {
    const d = DEFINITIONS[kind];
    for (const s of d.states) {
      const allowed = outgoing(kind, s);
      for (const trigger of d.triggers.filter((x) => x !== d.creation.trigger && !allowed.includes(x))) {
        test(`${kind} ${s} x ${trigger}`, () => {
          const state = emptyState();
          if (kind === 'task') state.tasks.set('e', task('e', s as TaskStatus, { assigned_worker: null }));
          if (kind === 'workstream') state.workstreams.set('e', { workstream_id: 'e', status: s as WorkstreamStatus, updated_at: at(0) });
          if (kind === 'worker') state.workers.set('e', { worker_id: 'e', status: s as WorkerStatus, capabilities: [], current_task: null, registered_at: at(0), updated_at: at(0) });
          const expectAllowed = kind === 'worker' ? allowed.filter((x) => x !== 'task_assigned' && x !== 'task_completed') : allowed;
          const e = expectIllegal(() => planTransition(state, { defs: new Map([['e', def('e')]]) }, req(kind, 'e', trigger)), [`${kind} e is ${s}`, `trigger ${trigger}`], expectAllowed);
          if (allowed.length === 0) expect(e.message).toContain('terminal');
        });
      }
    }
  }

  test('creation triggers on an existing entity are rejected', () => {
    const { state, defs } = taskScenario('pending');
    expectIllegal(() => planTransition(state, { defs }, req('task', 'T', 'task_created')), ['task T is pending', 'task T already exists']);
    expectIllegal(() => planTransition(state, { defs }, req('worker', 'w1', 'worker_registered')), ['worker w1 is idle', 'already exists']);
    expectIllegal(() => planTransition(state, { defs }, req('workstream', 'ws', 'workstream_created')), ['workstream ws already exists']);
  });
});

describe('guards explain refusals', () => {
  test('dependencies_completed', () => {
    const { state, defs } = taskScenario('pending');
    state.tasks.set('D', task('D', 'running', { assigned_worker: null }));
    expectIllegal(() => planTransition(state, { defs }, req('task', 'T', 'scheduler_assigned')), ['guard dependencies_completed failed', 'dependencies not completed: D'], ['scheduler_assigned', 'user_cancelled']);
  });

  test('worker_has_capabilities: missing worker, unknown worker, busy worker, missing capability', () => {
    const { state, defs } = taskScenario('queued');
    expectIllegal(() => planTransition(state, { defs }, req('task', 'T', 'worker_started')), ['names no worker']);
    expectIllegal(() => planTransition(state, { defs }, req('task', 'T', 'worker_started', { worker_id: 'nobody' })), ['worker nobody is not registered']);
    state.workers.get('w1')!.capabilities = ['git'];
    expectIllegal(() => planTransition(state, { defs }, req('task', 'T', 'worker_started', { worker_id: 'w1' })), ['worker w1 lacks capabilities py (has: git)']);
    state.workers.get('w1')!.status = 'busy';
    expectIllegal(() => planTransition(state, { defs }, req('task', 'T', 'worker_started', { worker_id: 'w1' })), ['worker w1 is busy, not idle']);
  });

  test('exit_code_zero', () => {
    const { state, defs } = taskScenario('running');
    expectIllegal(() => planTransition(state, { defs }, req('task', 'T', 'execution_completed', { metadata: { exit_code: 3 } })), ['exit code is 3']);
  });

  test('a failure marked not retryable fails the task even with retries left', () => {
    const { state, defs } = taskScenario('running');
    const failed = planTransition(state, { defs }, req('task', 'T', 'execution_failed', { error: 'aider reported insufficient context', metadata: { error_type: 'insufficient_context', retryable: false } }));
    expect(failed[0]).toMatchObject({ from_state: 'running', to_state: 'failed', event: 'task_failed', severity: 'error' });
    // The same failure without the mark is retried (retry_count 0 of 2).
    const retried = planTransition(state, { defs }, req('task', 'T', 'execution_failed', { error: 'exit 1', metadata: { retryable: true } }));
    expect(retried[0]).toMatchObject({ to_state: 'retrying', event: 'task_retry' });
  });

  test('unknown entities', () => {
    const { state, defs } = taskScenario('pending');
    expect(() => planTransition(state, { defs }, req('task', 'nope', 'scheduler_assigned'))).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => planTransition(state, { defs }, req('task', 'nope', 'task_created'))).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});

describe('creation, derived workstream events and applyEvent guards', () => {
  test('task_created enters the definition status and creates/derives the workstream', () => {
    const state = emptyState();
    const defs = new Map([['a', def('a', { status: 'pending', state: { created_at: '2026-03-01T09:00:00Z', retry_count: 0 } })]]);
    const events = planTransition(state, { defs }, req('task', 'a', 'task_created', { caused_by: '00000000-0000-4000-8000-000000000009' }));
    expect(events.map((e) => `${e.entity_type}:${e.from_state}->${e.to_state}:${e.trigger}`)).toEqual([
      'task:null->pending:task_created',
      'workstream:null->planned:workstream_created',
      'workstream:planned->ready:all_tasks_created',
    ]);
    expect(events[0]!.caused_by).toBe('00000000-0000-4000-8000-000000000009');
    commit(state, defs, events);
    expect(state.tasks.get('a')!.created_at).toBe('2026-03-01T09:00:00.000Z');
    expect(state.tasks.get('a')!.max_retries).toBe(2);
  });

  test('task_created drops a leftover worker of a non-running task and clamps retry_count (initial values, Decision 1)', () => {
    const state = emptyState();
    const defs = new Map([['a', def('a', { status: 'pending', state: { created_at: at(0), retry_count: 9, assigned_worker: 'w9' } })]]);
    commit(state, defs, planTransition(state, { defs }, req('task', 'a', 'task_created')));
    expect([state.tasks.get('a')!.assigned_worker, state.tasks.get('a')!.retry_count]).toEqual([null, 2]);
  });

  test('a critical task failing with no retry left fails the workstream (Decision 7)', () => {
    const { state, defs } = taskScenario('running', { retry_count: 2 });
    const events = planTransition(state, { defs, criticalTasks: new Set(['T']) }, req('task', 'T', 'execution_failed', { error: 'boom' }));
    expect(events.map((e) => `${e.entity_type}:${e.to_state}:${e.severity}`)).toEqual(['task:failed:error', 'worker:idle:info', 'workstream:failed:error']);
    expect(events[2]!.trigger).toBe('critical_task_failed');
    commit(state, defs, events);
    expect(state.tasks.get('T')!.last_error).toBe('boom');
    // a non-critical failure leaves the workstream alone
    const again = taskScenario('running', { retry_count: 2 });
    const ev2 = planTransition(again.state, { defs: again.defs }, req('task', 'T', 'execution_failed'));
    expect(ev2.map((e) => e.entity_type)).toEqual(['task', 'worker']);
  });

  test('applyEvent rejects an event whose from_state is not the current state, and leaving a terminal state', () => {
    const { state } = taskScenario('pending');
    const ev = { schema_version: '2.0.0', seq: 11, event_id: 'x', timestamp: at(5), event: 'task_started', trigger: 'worker_started', entity_type: 'task', entity_id: 'T', workstream_id: 'ws', from_state: 'queued', to_state: 'running', severity: 'info', caused_by: null, metadata: {} } as OrcEvent;
    expect(() => applyEvent(state, ev)).toThrow(expect.objectContaining({ code: 'STATE_CORRUPT' }));
    state.tasks.set('T', task('T', 'completed'));
    expect(() => applyEvent(state, { ...ev, from_state: 'completed', to_state: 'queued' })).toThrow(expect.objectContaining({ code: 'INVARIANT_VIOLATION' }));
    expect(() => applyEvent(state, { ...ev, from_state: null, to_state: 'pending' })).toThrow(expect.objectContaining({ code: 'STATE_CORRUPT' }));
  });

  test('system events only advance last_seq', () => {
    const { state } = taskScenario('pending');
    const before = JSON.stringify([...state.tasks.values()]);
    applyEvent(state, { schema_version: '2.0.0', seq: 11, event_id: 'x', timestamp: at(9), event: 'log_rotated', trigger: 'log_rotate', entity_type: 'system', entity_id: 'log', from_state: null, to_state: null, severity: 'info', caused_by: null, metadata: {} });
    expect(state.last_seq).toBe(11);
    expect(JSON.stringify([...state.tasks.values()])).toBe(before);
  });
});

describe('snapshots', () => {
  test('toSnapshot sorts by id, validates, and fromSnapshot round-trips', () => {
    const { state } = taskScenario('running');
    state.tasks.set('A', task('A', 'pending'));
    const snap = toSnapshot(state, []);
    expect(snap.tasks.map((t) => t.task_id)).toEqual(['A', 'D', 'T']);
    expect(validate('snapshot', '2.0.0', snap).errors).toEqual([]);
    expect(JSON.stringify(toSnapshot(fromSnapshot(snap), []))).toBe(JSON.stringify(snap));
  });
});

describe('invariants', () => {
  const cases: Array<[string, (s: LiveState) => void, string]> = [
    ['retry_count above max', (s) => (s.tasks.get('T')!.retry_count = 3), 'retry_count 3 is outside 0..max_retries'],
    ['assigned worker on a non-running task', (s) => (s.tasks.get('T')!.assigned_worker = 'w1'), 'has assigned_worker w1'],
    ['started before created', (s) => (s.tasks.get('T')!.started_at = '2020-01-01T00:00:00.000Z'), 'created_at'],
    ['queued with an open dependency', (s) => s.tasks.set('X', task('X', 'pending')), 'dependencies X are not completed'],
    ['busy worker without its task', (s) => (s.workers.get('w1')!.status = 'busy'), 'worker w1 is busy'],
  ];
  for (const [name, breakIt, message] of cases) {
    test(name, () => {
      const { state, defs } = taskScenario('queued');
      defs.get('T')!.dependencies.push('X');
      state.tasks.set('X', task('X', 'completed'));
      checkInvariants(state, defs);
      breakIt(state);
      expect(() => checkInvariants(state, defs)).toThrow(expect.objectContaining({ code: 'INVARIANT_VIOLATION', message: expect.stringContaining(message) }));
    });
  }

  test('terminal states never change and retry_count never decreases between checks', () => {
    const { state, defs } = taskScenario('completed');
    state.tasks.set('R', task('R', 'retrying', { retry_count: 2 }));
    checkInvariants(state, defs);
    state.tasks.get('T')!.status = 'pending';
    expect(() => checkInvariants(state, defs, ['T'])).toThrow(/left terminal state completed/);
    const other = taskScenario('completed');
    other.state.tasks.set('R', task('R', 'retrying', { retry_count: 2 }));
    checkInvariants(other.state, other.defs);
    other.state.tasks.get('R')!.retry_count = 1;
    expect(() => checkInvariants(other.state, other.defs, ['R'])).toThrow(/retry_count decreased from 2 to 1/);
  });
});
