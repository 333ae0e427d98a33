/**
 * An agent's report of one attempt: a worker output (the contract of
 * src/runner/types.ts, schemas/worker-output.v1.0.0.schema.json) turned into
 * the task's transition, under the worker's lease.
 *
 * Public API (stable): reportOutput(root, options): Promise<ReportResult>; ReportOptions, ReportResult.
 * Steps: the output must validate against the contract and name this task and
 * worker (INVALID_INPUT / USAGE otherwise, nothing committed); under the lock the
 * lease token is checked (leases.ts: LEASE_REFUSED when stale or another
 * worker's) and the batch committed: success → execution_completed (exit_code 0)
 * then validation_passed, or validation_failed when validation_status is
 * "failed"; failed → execution_failed; timeout → task_timeout (the machine picks
 * retrying or failed; error.retryable false fails at once). The output is then
 * recorded as `.state/outputs/<task>.attempt-<n>.worker-output.json` (n = the
 * attempt the commit closed) and named by metadata.worker_output of the event.
 * Integration points: CLI `report`, the MCP `report` tool.
 * Dependencies: ./commit.js, ./leases.js, ../runner/output.js, ../runner/types.js, ../errors.js.
 */
import { OrcError } from '../errors.js';
import type { OrcEvent } from '../model.js';
import type { LiveState, TransitionRequest } from '../machines/index.js';
import { triggerFor, validateWorkerOutput, workerOutputPath, writeWorkerOutput } from '../runner/output.js';
import type { WorkerOutput } from '../runner/types.js';
import { openStore, type CommitNotice, type Store } from './commit.js';
import { clockOf, LEASE_TOKEN_KEY } from './leases.js';

export interface ReportOptions {
  task_id: string;
  worker_id: string;
  token: string;
  /** The worker output (validated here). */
  output: unknown;
  now?: Date;
  lockTimeoutMs?: number;
  store?: Store;
}

export interface ReportResult {
  ok: true;
  task_id: string;
  worker_id: string;
  trigger: string;
  /** The task's status after the report (validating, completed, retrying, failed ...). */
  status: string;
  attempt: number;
  output_file: string;
  events: OrcEvent[];
  expired: OrcEvent[];
  last_seq: number;
  notices: CommitNotice[];
}

export async function reportOutput(root: string, options: ReportOptions): Promise<ReportResult> {
  const check = validateWorkerOutput(options.output);
  if (!check.valid) {
    throw new OrcError('INVALID_INPUT', `the worker output does not follow schemas/worker-output.v1.0.0.schema.json: ${check.errors.slice(0, 5).map((e) => `${e.instancePath || '(output)'} ${e.message ?? 'is invalid'}`).join('; ')}`, {
      fix: 'send the worker output contract (src/runner/types.ts WorkerOutput): schema_version, schema_url, task_id, worker_id, status, files_modified, diff_summary, validation_status, commit_message, error, metadata',
      data: { errors: check.errors.slice(0, 20) },
    });
  }
  const output = options.output as WorkerOutput;
  if (output.task_id !== options.task_id || output.worker_id !== options.worker_id) {
    throw new OrcError('USAGE', `the worker output is for task ${output.task_id} on worker ${output.worker_id}, but the report is for task ${options.task_id} on worker ${options.worker_id}`, {
      fix: 'report each output for the task and worker it names',
    });
  }
  const now = clockOf(options);
  const timestamp = now.toISOString();
  const trigger = triggerFor(output);
  let attempt = 1;
  const planner = (state: Readonly<LiveState>): TransitionRequest[] => {
    attempt = (state.tasks.get(options.task_id)?.retry_count ?? 0) + 1;
    const base = { entity_type: 'task' as const, entity_id: options.task_id, worker_id: options.worker_id, timestamp, actor: options.worker_id };
    const requests: TransitionRequest[] = [
      {
        ...base,
        trigger,
        ...(output.error ? { error: output.error.message } : {}),
        metadata: {
          [LEASE_TOKEN_KEY]: options.token,
          exit_code: output.metadata.exit_code ?? null,
          tokens_used: output.metadata.tokens_used,
          worker_output: workerOutputPath(options.task_id, attempt),
          ...(output.error ? { error_type: output.error.error_type, retryable: output.error.retryable } : {}),
        },
      },
    ];
    // The lease ends with the attempt: the validation step that follows carries no token.
    if (trigger === 'execution_completed') {
      requests.push({ ...base, trigger: output.validation_status === 'failed' ? 'validation_failed' : 'validation_passed', metadata: { validation_status: output.validation_status } });
    }
    return requests;
  };
  const store = options.store ?? openStore(root, { cacheDefinitions: false });
  const r = await store.applyTransitions(planner, { now, actor: options.worker_id, ...(options.lockTimeoutMs !== undefined ? { lockTimeoutMs: options.lockTimeoutMs } : {}) });
  const output_file = await writeWorkerOutput(root, { ...output, metadata: { ...output.metadata, attempt } });
  return {
    ok: true,
    task_id: options.task_id,
    worker_id: options.worker_id,
    trigger,
    status: r.snapshot.tasks.find((t) => t.task_id === options.task_id)?.status ?? 'unknown',
    attempt,
    output_file,
    events: r.events,
    expired: r.expired ?? [],
    last_seq: r.snapshot.last_seq,
    notices: r.notices,
  };
}
