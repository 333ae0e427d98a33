// Decision 7: a task is critical when it sets `critical: true` OR lies on its
// workstream's critical path; only a critical task failing (no retry left) fails the workstream.
import { afterAll, describe, expect, it } from 'vitest';
import { applyTransitions } from '../src/engine/commit.js';
import { readSnapshot } from '../src/engine/snapshot.js';
import type { TransitionRequest } from '../src/machines/index.js';
import { copyExampleRepo, removeDirs } from './compliance-helpers.js';

const dirs: string[] = [];
afterAll(() => removeDirs(dirs));

const at = () => new Date().toISOString();
const task = (id: string, trigger: string, extra: Partial<TransitionRequest> = {}): TransitionRequest => ({ entity_type: 'task', entity_id: id, trigger, timestamp: at(), ...extra });
const worker = (id: string, trigger: string, metadata?: Record<string, unknown>): TransitionRequest => ({ entity_type: 'worker', entity_id: id, trigger, timestamp: at(), ...(metadata ? { metadata } : {}) });

/** Queue a task and fail every attempt until its retries are exhausted. */
async function failForGood(root: string, id: string, workerId: string, maxRetries: number): Promise<void> {
  await applyTransitions(root, [task(id, 'scheduler_assigned')]);
  for (let attempt = 0; attempt <= maxRetries; attempt++) {
    if (attempt > 0) await applyTransitions(root, [task(id, 'retry_delay_elapsed')]);
    await applyTransitions(root, [task(id, 'worker_started', { worker_id: workerId }), task(id, 'execution_failed', { error: `attempt ${attempt + 1} failed` })]);
  }
}

function statusOf(root: string, kind: 'tasks' | 'workstreams', id: string): string | undefined {
  const s = readSnapshot(root);
  const list = (kind === 'tasks' ? s?.tasks.map((t) => [t.task_id, t.status]) : s?.workstreams.map((w) => [w.workstream_id, w.status])) ?? [];
  return list.find(([key]) => key === id)?.[1];
}

describe('workstream failure follows the critical path (Decision 7)', () => {
  it('an unflagged task on the critical path failing for good fails its workstream', async () => {
    const root = copyExampleRepo();
    dirs.push(root);
    await applyTransitions(root, [worker('w-aider-2', 'worker_registered', { capabilities: ['aider', 'aider.edit'] }), worker('w-aider-2', 'registration_complete')]);
    // dr-failure-modes is not flagged critical but lies on docs-refresh's critical path (see its plan file).
    await failForGood(root, 'dr-failure-modes', 'w-aider-2', 2);
    expect(statusOf(root, 'tasks', 'dr-failure-modes')).toBe('failed');
    expect(statusOf(root, 'workstreams', 'docs-refresh')).toBe('failed');
  });

  it('a task off the critical path failing for good leaves its workstream executing', async () => {
    const root = copyExampleRepo();
    dirs.push(root);
    await applyTransitions(root, [worker('w-aider-2', 'worker_registered', { capabilities: ['aider', 'aider.edit'] }), worker('w-aider-2', 'registration_complete')]);
    // ah-harden-state-machine (queued in the example) is neither flagged nor on api-hardening's critical path.
    await applyTransitions(root, [task('ah-harden-state-machine', 'worker_started', { worker_id: 'w-aider-2' }), task('ah-harden-state-machine', 'execution_failed', { error: 'first' })]);
    for (let attempt = 1; attempt <= 2; attempt++) {
      await applyTransitions(root, [task('ah-harden-state-machine', 'retry_delay_elapsed')]);
      await applyTransitions(root, [task('ah-harden-state-machine', 'worker_started', { worker_id: 'w-aider-2' }), task('ah-harden-state-machine', 'execution_failed', { error: `again ${attempt}` })]);
    }
    expect(statusOf(root, 'tasks', 'ah-harden-state-machine')).toBe('failed');
    expect(statusOf(root, 'workstreams', 'api-hardening')).toBe('executing');
  });
});
