/**
 * Checking, storing and interpreting worker outputs (AIDER-INT-003).
 *
 * Public API (stable):
 *   - validateWorkerOutput(value) → { valid, errors }   against schemas/worker-output.v1.0.0
 *   - workerOutputPath(root, taskId, attempt) → `.state/outputs/<task>.attempt-<n>.worker-output.json`
 *   - writeWorkerOutput(root, output) → the repo-relative path written (durable, atomic);
 *     refuses (OrcError INTERNAL) an output that does not validate
 *   - triggerFor(output) → the task-machine trigger the engine applies:
 *     success → execution_completed, timeout → task_timeout, failed → execution_failed
 * Integration points: the engine/worker pool records outputs; rule AIDER-INT-003
 * validates every `*.worker-output.json` under .state/.
 * Dependencies: node:fs, node:path, ../schema/registry.js, ../io/atomic-write.js, ./types.js.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { OrcError } from '../errors.js';
import { writeFileDurable } from '../io/atomic-write.js';
import { validate, type SchemaCheck } from '../schema/registry.js';
import { WORKER_OUTPUT_SCHEMA_VERSION, type WorkerOutput } from './types.js';
import { OUTPUTS_DIR } from '../core/state-paths.js';

export { OUTPUTS_DIR };

export function validateWorkerOutput(value: unknown): SchemaCheck {
  return validate('worker-output', WORKER_OUTPUT_SCHEMA_VERSION, value);
}

function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function workerOutputPath(taskId: string, attempt: number): string {
  return `${OUTPUTS_DIR}/${safeName(taskId)}.attempt-${attempt}.worker-output.json`;
}

export async function writeWorkerOutput(root: string, output: WorkerOutput): Promise<string> {
  const check = validateWorkerOutput(output);
  if (!check.valid) {
    throw new OrcError('INTERNAL', `worker output for ${output.task_id} does not match schemas/worker-output: ${check.errors.map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('; ')}`);
  }
  const rel = workerOutputPath(output.task_id, output.metadata.attempt ?? 1);
  mkdirSync(join(root, OUTPUTS_DIR), { recursive: true });
  await writeFileDurable(join(root, rel), `${JSON.stringify(output, null, 2)}\n`);
  return rel;
}

export function triggerFor(output: WorkerOutput): 'execution_completed' | 'execution_failed' | 'task_timeout' {
  if (output.status === 'success') return 'execution_completed';
  if (output.status === 'timeout') return 'task_timeout';
  return 'execution_failed';
}
