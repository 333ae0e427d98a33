/**
 * Workers: the generic interface, the shell and Aider adapters, context
 * selection and the worker output contract (AIDER-INT-001..003).
 *
 * Public API (entry module; stability as in each module):
 *   - types: Worker, RunContext, WorkerOutput, WORKER_OUTPUT_FIELDS, WORKER_ERROR_TYPES (stable)
 *   - ShellWorker, runProcess (stable) from ./shell.js
 *   - AiderWorker, buildAiderCommand, parseAiderOutput (stable) from ./aider.js
 *   - selectContext, estimateTokens (stable) from ./context.js
 *   - matchesGlob, globToRegExp, matchesAny (stable) from ./glob.js
 *   - validateWorkerOutput, writeWorkerOutput, workerOutputPath, triggerFor (stable) from ./output.js
 *   - ClaudeWorker, buildClaudeCommand, parseClaudeStream (stable) from ./claude.js
 *   - createWorker(type, id, capabilities?) → Worker (stable): 'shell' | 'aider' | 'claude'; WORKER_TYPES
 * (executeTask lives in ./execute.ts and is exported from src/index.ts, not
 * here, so the compliance rules that import this module do not load the engine.)
 * Integration points: the engine schedules a task, picks a Worker whose
 * capabilities cover the task (canRun), awaits run(), records the output and
 * applies triggerFor(output) through the commit path; retries are the task
 * machine's decision (retry_count < max_retries).
 * Dependencies: ./types.js, ./shell.js, ./aider.js, ./context.js, ./glob.js, ./output.js.
 */
import { AiderWorker } from './aider.js';
import { ClaudeWorker } from './claude.js';
import { ShellWorker } from './shell.js';
import type { Worker } from './types.js';

export * from './types.js';
export { ShellWorker, runProcess } from './shell.js';
export { AiderWorker, buildAiderCommand, parseAiderOutput, splitCommandLine } from './aider.js';
export { ClaudeWorker, buildClaudeCommand, parseClaudeStream, type ClaudeResult } from './claude.js';
export { selectContext, estimateTokens, type ContextSelection } from './context.js';
export { matchesGlob, globToRegExp, matchesAny } from './glob.js';
export { validateWorkerOutput, writeWorkerOutput, workerOutputPath, triggerFor } from './output.js';

export const WORKER_TYPES = ['shell', 'aider', 'claude'] as const;
export type WorkerType = (typeof WORKER_TYPES)[number];

export function createWorker(type: WorkerType, id: string, capabilities?: readonly string[]): Worker {
  if (type === 'aider') return new AiderWorker(id, capabilities);
  if (type === 'claude') return new ClaudeWorker(id, capabilities);
  return new ShellWorker(id, capabilities);
}
