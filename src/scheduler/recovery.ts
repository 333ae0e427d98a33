/**
 * Recovery of what a dead `orc-state run` left behind, shared by the next `run` and
 * `orc-state doctor --repair` (both hold `.state/run.lock` while they use it, so no other
 * runner lives): every `run-*` worker that is not shut down (or that the dead run's lock
 * names) is dead; each task running on one gets execution_failed (error_type
 * worker_crashed, retryable: the task machine retries it while retries remain, else fails
 * it), each validating task validation_failed, then each dead worker worker_crashed.
 *
 * Public API (internal):
 *   - deadRunRequests(input) → { requests, recovered, deadTasks, deadWorkers }
 *   - RUN_WORKER_ID, runWorkerId(runId, n): the shape of a run's worker ids (`run-<8 hex>-w<n>`) and its one spelling
 * Integration points: ./loop.ts (before the first assignment), ../engine/doctor.ts (repair).
 * Dependencies: ../model.js, ../machines/index.js (types), ./run-lock.js (types).
 */
import type { TaskDefinition, TaskState, WorkerState } from '../model.js';
import type { TransitionRequest } from '../machines/index.js';
import type { RunLockInfo } from './run-lock.js';

export const RUN_WORKER_ID = /^run-[0-9a-f]{8}-w\d+$/;
/** The id of a run's n-th worker (1-based); its run id ends in 8 hex digits. RUN_WORKER_ID matches it. */
export const runWorkerId = (runId: string, n: number): string => `run-${runId.slice(-8)}-w${n}`;

export interface DeadRunInput {
  tasks: Iterable<TaskState>;
  workers: Iterable<WorkerState>;
  defs: ReadonlyMap<string, TaskDefinition>;
  /** The dead run's `.state/run.lock`, when there was one. */
  previous: RunLockInfo | null;
  /** Recorded as metadata.recovered_by (the recovering run's id, or `doctor`). */
  recoveredBy: string;
  timestamp: string;
  /** A worker to leave alone although it looks dead (doctor: its lease names a live pid on this host). */
  spare?: (worker: WorkerState) => boolean;
}

export interface DeadRunRecovery {
  requests: TransitionRequest[];
  /** Tasks given an outcome here (sorted as found). */
  recovered: string[];
  /** Every task assigned to a dead worker (a lease expiry may have timed some out already). */
  deadTasks: Set<string>;
  deadWorkers: string[];
}

export function deadRunRequests(input: DeadRunInput): DeadRunRecovery {
  const { previous, recoveredBy, timestamp: ts } = input;
  const dead = new Set<string>();
  for (const w of input.workers) {
    if (w.status === 'shutdown' || input.spare?.(w)) continue;
    if ((previous?.workers ?? []).includes(w.worker_id) || RUN_WORKER_ID.test(w.worker_id)) dead.add(w.worker_id);
  }
  const requests: TransitionRequest[] = [];
  const recovered: string[] = [];
  const deadTasks = new Set<string>();
  for (const t of input.tasks) {
    if (t.assigned_worker && dead.has(t.assigned_worker)) deadTasks.add(t.task_id);
    if (t.status === 'running' && t.assigned_worker && dead.has(t.assigned_worker)) {
      const def = input.defs.get(t.task_id);
      const retryable = def ? t.retry_count < def.execution.max_retries : false;
      requests.push({
        entity_type: 'task',
        entity_id: t.task_id,
        trigger: 'execution_failed',
        worker_id: t.assigned_worker,
        timestamp: ts,
        error: `worker ${t.assigned_worker} of a previous run${previous ? ` (pid ${previous.pid} on ${previous.hostname})` : ''} died while running it`,
        metadata: { error_type: 'worker_crashed', retryable: true, recovered_by: recoveredBy, ...(retryable && def ? { retry_delay_ms: 0 } : {}) },
      });
      recovered.push(t.task_id);
    } else if (t.status === 'validating') {
      requests.push({ entity_type: 'task', entity_id: t.task_id, trigger: 'validation_failed', timestamp: ts, error: 'the runner died while validating it', metadata: { error_type: 'worker_crashed', recovered_by: recoveredBy } });
      recovered.push(t.task_id);
    }
  }
  const deadWorkers = [...dead].sort();
  for (const id of deadWorkers) {
    requests.push({ entity_type: 'worker', entity_id: id, trigger: 'worker_crashed', timestamp: ts, metadata: { recovered_by: recoveredBy, ...(previous ? { pid: previous.pid, host: previous.hostname } : {}) } });
  }
  return { requests, recovered, deadTasks, deadWorkers };
}
