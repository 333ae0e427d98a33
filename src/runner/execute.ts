/**
 * One attempt of one task, end to end through the engine's commit path
 * (AIDER-INT-001: a worker gets a task, runs within its timeout, and the task
 * machine applies the retry limits).
 *
 * Public API (experimental):
 *   - executeTask(root, taskId, worker, options?) → Promise<ExecuteResult>
 *       1. the task must be `queued` (the scheduler's scheduler_assigned), or
 *          already `running` on this worker (a resumed attempt);
 *       2. commits worker_started (the machine's guard checks the worker is
 *          registered, idle and has the capabilities);
 *       3. runs worker.run(task) and records the output in
 *          `.state/outputs/<task>.attempt-<n>.worker-output.json`;
 *       4. commits the outcome in one batch: success → execution_completed
 *          (exit_code 0) + validation_passed; failed → execution_failed;
 *          timeout → task_timeout. The machine decides retrying vs failed from
 *          retry_count and max_retries; retry_delay_elapsed is the scheduler's.
 * Integration points: src/engine/commit.ts (applyTransitions), src/engine/snapshot.ts
 * (readSnapshot), src/repo/load-tasks.ts (definitions), ./output.ts.
 * Dependencies: ../engine/commit.js, ../engine/snapshot.js, ../repo/load-tasks.js,
 * ./output.js, ./types.js, ../errors.js, ../model.js.
 */
import { OrcError } from '../errors.js';
import type { OrcEvent } from '../model.js';
import { applyTransitions } from '../engine/commit.js';
import { readSnapshot } from '../engine/snapshot.js';
import { loadTasks } from '../repo/load-tasks.js';
import { triggerFor, writeWorkerOutput } from './output.js';
import type { RunContext, Worker, WorkerOutput } from './types.js';

export interface ExecuteResult {
  output: WorkerOutput;
  /** Repo-relative path of the recorded worker output. */
  output_file: string;
  /** Events committed for this attempt (start and outcome). */
  events: OrcEvent[];
  /** The task's status after the attempt (completed, retrying, failed, ...). */
  status: string;
}

export async function executeTask(
  root: string,
  taskId: string,
  worker: Worker,
  options: Omit<RunContext, 'root' | 'attempt'> & { lockTimeoutMs?: number; actor?: string } = {},
): Promise<ExecuteResult> {
  const taskSet = loadTasks(root);
  const loaded = taskSet.tasks.get(taskId);
  if (!loaded) throw new OrcError('NOT_FOUND', `no task ${taskId} under tasks/`, { fix: 'check the task id (orc-state status lists them)' });
  const snapshot = readSnapshot(root);
  const state = snapshot?.tasks.find((t) => t.task_id === taskId);
  if (!state) throw new OrcError('NOT_FOUND', `task ${taskId} is not in .state/current.json`, { fix: 'run orc-state sync first' });
  const commit = { taskSet, ...(options.lockTimeoutMs !== undefined ? { lockTimeoutMs: options.lockTimeoutMs } : {}), actor: options.actor ?? `worker:${worker.id}` };
  const events: OrcEvent[] = [];
  if (state.status === 'queued') {
    const started = await applyTransitions(root, [{ entity_type: 'task', entity_id: taskId, trigger: 'worker_started', worker_id: worker.id, timestamp: new Date().toISOString() }], commit);
    events.push(...started.events);
  } else if (!(state.status === 'running' && state.assigned_worker === worker.id)) {
    throw new OrcError('ILLEGAL_TRANSITION', `task ${taskId} is ${state.status}${state.assigned_worker ? ` on ${state.assigned_worker}` : ''}; a worker runs only a queued task (or its own running one)`, {
      fix: state.status === 'pending' ? `queue it first: orc-state task ${taskId} scheduler_assigned` : 'pick a queued task (orc-state ready)',
    });
  }
  const { lockTimeoutMs: _l, actor: _a, ...runOptions } = options;
  const output = await worker.run(loaded.task, { ...runOptions, root, attempt: state.retry_count + 1 });
  const outputFile = await writeWorkerOutput(root, output);
  const trigger = triggerFor(output);
  const timestamp = new Date().toISOString();
  const metadata = {
    exit_code: output.metadata.exit_code ?? null,
    tokens_used: output.metadata.tokens_used,
    worker_output: outputFile,
    // retryable: false (e.g. insufficient_context) makes the task machine fail the task instead of retrying it.
    ...(output.error ? { error_type: output.error.error_type, retryable: output.error.retryable } : {}),
  };
  const requests = [
    { entity_type: 'task' as const, entity_id: taskId, trigger, worker_id: worker.id, timestamp, metadata, ...(output.error ? { error: output.error.message } : {}) },
    ...(trigger === 'execution_completed' ? [{ entity_type: 'task' as const, entity_id: taskId, trigger: 'validation_passed', worker_id: worker.id, timestamp, metadata: { validation_status: output.validation_status } }] : []),
  ];
  const done = await applyTransitions(root, requests, commit);
  events.push(...done.events);
  const status = done.snapshot.tasks.find((t) => t.task_id === taskId)?.status ?? 'unknown';
  return { output, output_file: outputFile, events, status };
}
