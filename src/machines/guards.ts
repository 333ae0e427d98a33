/**
 * Implementations of the guards named in docs/state_machines/*.yaml.
 *
 * Public API (internal): GUARDS (name -> { test, explain }), GuardEnv, isInterruptedAttempt(request or event).
 * Each guard is a pure predicate over the current LiveState, the task
 * definitions and the request; `explain` says in words why it failed, for the
 * ILLEGAL_TRANSITION message. A YAML guard without an implementation here is a
 * load error (src/machines/build.ts); tests check that every implementation is used.
 * Integration points: src/machines/build.ts passes them to xstate `setup({ guards })`.
 * Dependencies: ../model.js, ./types.js, ./workstream.js.
 */
import type { TaskDefinition, TaskState, WorkerState, WorkstreamStatus } from '../model.js';
import type { LiveState, TransitionRequest } from './types.js';
import type { DerivedStatus } from './workstream.js';

export interface GuardEnv {
  state: LiveState;
  defs: ReadonlyMap<string, TaskDefinition>;
  req: TransitionRequest;
  /** The task the request is about (task requests). */
  task?: TaskState;
  /** The worker the request is about (worker requests). */
  worker?: WorkerState;
  /** Decision 7 derivation for the workstream (workstream requests). */
  derived?: DerivedStatus | null;
}

export interface GuardImpl {
  test(env: GuardEnv): boolean;
  explain(env: GuardEnv): string;
}

function missingDependencies(env: GuardEnv): string[] {
  const def = env.defs.get(env.req.entity_id);
  const deps = def?.dependencies ?? [];
  return deps.filter((d) => env.state.tasks.get(d)?.status !== 'completed');
}

function requiredCapabilities(env: GuardEnv): string[] {
  return env.defs.get(env.req.entity_id)?.worker_requirements?.capabilities ?? [];
}

function workerProblem(env: GuardEnv): string | null {
  const id = env.req.worker_id;
  if (!id) return 'the request names no worker (pass worker_id / --worker)';
  const worker = env.state.workers.get(id);
  if (!worker) return `worker ${id} is not registered`;
  if (worker.status !== 'idle') return `worker ${id} is ${worker.status}, not idle`;
  const have = new Set(worker.capabilities);
  const missing = requiredCapabilities(env).filter((c) => !have.has(c));
  if (missing.length) return `worker ${id} lacks capabilities ${missing.join(', ')} (has: ${worker.capabilities.join(', ') || 'none'})`;
  return null;
}

function exitCode(env: GuardEnv): unknown {
  return env.req.metadata?.['exit_code'];
}

function retriesLeft(env: GuardEnv): boolean {
  const t = env.task;
  return t !== undefined && (t.retry_count < t.max_retries || isInterruptedAttempt(env.req));
}

/**
 * An attempt the runner stopped itself while draining on SIGINT/SIGTERM (a request or event
 * execution_failed with metadata.interrupted: true): it goes back to retrying without using a
 * retry (retries_remaining holds, retry_count stays; see ./index.ts nextTask).
 */
export function isInterruptedAttempt(r: { trigger: string; metadata?: Readonly<Record<string, unknown>> | null }): boolean {
  return r.trigger === 'execution_failed' && r.metadata?.['interrupted'] === true;
}

/** A failure the worker reported as not worth retrying (metadata.retryable: false, e.g. insufficient_context). */
function notRetryable(env: GuardEnv): boolean {
  return env.req.metadata?.['retryable'] === false;
}

function derivedIs(status: WorkstreamStatus): GuardImpl {
  return {
    test: (env) => env.derived?.status === status,
    explain: (env) =>
      `the workstream's tasks derive ${env.derived ? env.derived.status : 'no status change'} (Decision 7), not ${status}`,
  };
}

export const GUARDS: Record<string, GuardImpl> = {
  dependencies_completed: {
    test: (env) => missingDependencies(env).length === 0,
    explain: (env) => `dependencies not completed: ${missingDependencies(env).join(', ')}`,
  },
  worker_has_capabilities: {
    test: (env) => workerProblem(env) === null,
    explain: (env) => workerProblem(env) ?? 'worker is suitable',
  },
  exit_code_zero: {
    test: (env) => {
      const code = exitCode(env);
      return code === undefined || code === null || code === 0;
    },
    explain: (env) => `exit code is ${String(exitCode(env))}; use execution_failed for a non-zero exit`,
  },
  retries_remaining: {
    test: (env) => retriesLeft(env) && !notRetryable(env),
    explain: (env) =>
      notRetryable(env)
        ? 'the failure is marked not retryable (metadata.retryable: false)'
        : `retry_count ${env.task?.retry_count} has reached max_retries ${env.task?.max_retries}`,
  },
  retries_exhausted: {
    test: (env) => env.task !== undefined && (!retriesLeft(env) || notRetryable(env)),
    explain: (env) => `retries remain (${env.task?.retry_count} of ${env.task?.max_retries} used) and the failure is retryable`,
  },
  has_current_task: {
    test: (env) => env.worker?.current_task != null,
    explain: () => 'the worker holds no task',
  },
  derived_ready: derivedIs('ready'),
  derived_executing: derivedIs('executing'),
  derived_validating: derivedIs('validating'),
  derived_failed: derivedIs('failed'),
};
