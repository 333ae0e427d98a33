/**
 * The generic worker interface and the worker output contract (AIDER-INT-001, -003).
 *
 * Public API (stable): Worker, RunContext, WorkerOutput, WorkerOutputStatus,
 * WorkerErrorType, WORKER_ERROR_TYPES, ValidationStatus, WORKER_OUTPUT_FIELDS,
 * WORKER_OUTPUT_SCHEMA_VERSION, WORKER_OUTPUT_SCHEMA_URL, RETRYABLE_ERRORS.
 * Contract: `run(task, ctx)` runs one attempt within `execution.timeout_seconds`
 * and resolves (never rejects for task problems) with a WorkerOutput that
 * validates against schemas/worker-output.v1.0.0.schema.json. Retries are the
 * engine's business (task machine: execution_failed/task_timeout → retrying);
 * the output says what happened and whether a retry may help.
 * Integration points: ./shell.ts and ./aider.ts implement Worker; rule
 * AIDER-INT-003 checks WORKER_OUTPUT_FIELDS against the schema.
 * Dependencies: ../model.js, ./spawner.js (types).
 */
import type { TaskDefinition } from '../model.js';
import type { LogTarget } from './spawner.js';
import { WORKER_OUTPUT_VERSION } from '../core/versions.js';

export const WORKER_OUTPUT_SCHEMA_VERSION = WORKER_OUTPUT_VERSION;
export const WORKER_OUTPUT_SCHEMA_URL = 'https://orc-state.dev/schemas/worker-output/1.0.0.json';

/** The top-level fields of the contract, in order (AIDER-INT-003 lists the first seven after the ids). */
export const WORKER_OUTPUT_FIELDS = [
  'schema_version',
  'schema_url',
  'task_id',
  'worker_id',
  'status',
  'files_modified',
  'diff_summary',
  'validation_status',
  'commit_message',
  'error',
  'metadata',
] as const;

export const WORKER_ERROR_TYPES = [
  'insufficient_context',
  'context_overflow',
  'timeout',
  'nonzero_exit',
  'spawn_failed',
  'validation_failed',
  'invalid_task',
  'cancelled',
  'permission_denied',
  'budget_exceeded',
] as const;
export type WorkerErrorType = (typeof WORKER_ERROR_TYPES)[number];

/** Errors another attempt may fix; the others need a change to the task or the repo. */
export const RETRYABLE_ERRORS: ReadonlySet<WorkerErrorType> = new Set(['timeout', 'nonzero_exit', 'spawn_failed', 'validation_failed']);

export type WorkerOutputStatus = 'success' | 'failed' | 'timeout';
export type ValidationStatus = 'passed' | 'failed' | 'skipped';

export interface WorkerOutput {
  schema_version: string;
  schema_url: string;
  task_id: string;
  worker_id: string;
  worker_type?: string;
  status: WorkerOutputStatus;
  files_modified: string[];
  diff_summary: { files_changed: number; insertions: number | null; deletions: number | null; text?: string };
  validation_status: ValidationStatus;
  commit_message: string | null;
  error: null | { error_type: WorkerErrorType; message: string; exit_code?: number | null; signal?: string | null; retryable?: boolean };
  metadata: {
    tokens_used: number | null;
    duration_seconds: number;
    exit_code?: number | null;
    signal?: string | null;
    started_at?: string;
    finished_at?: string;
    attempt?: number;
    max_retries?: number;
    command?: string[];
    working_directory?: string;
    context?: { files: string[]; estimated_tokens: number; max_context_tokens: number; skipped: Array<{ file: string; reason: string }> };
    validation?: { passed: string[]; failed: string[]; skipped: string[] };
    output_tail?: string;
    [extra: string]: unknown;
  };
}

export interface RunContext {
  /** Absolute repo root; working directories and files are resolved inside it. */
  root: string;
  /** 1-based attempt number (retry_count + 1), reported in metadata. */
  attempt?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Time between SIGTERM and SIGKILL of the process group on timeout/cancel (default 2000 ms). */
  killGraceMs?: number;
  /** Live output (e.g. to a log); the output contract keeps only a tail. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /**
   * The attempt's log as the command's stdout and stderr (runner/spawner.ts LogTarget), for a
   * worker whose `logsDirectly` is true: the output goes straight to the file, not through Node
   * (onOutput is not called) and the tail is read back from it. Other workers ignore it.
   */
  logFile?: LogTarget;
  /** Called with the pid of the process-group leader once it is spawned (the scheduler probes it for heartbeats). */
  onSpawn?: (pid: number) => void;
  /** Record files_modified from git/a tree scan around the run (default true; `orc-state run` limits it to git work trees). */
  trackChanges?: boolean;
  /** Spend limit for this attempt in USD (adapters that can enforce one, e.g. Claude Code's --max-budget-usd). */
  budgetUsd?: number;
}

/** AIDER-INT-001: every worker implementation sits behind this interface. */
export interface Worker {
  readonly id: string;
  /** Adapter kind (shell, aider, ...). */
  readonly type: string;
  readonly capabilities: readonly string[];
  /** True when run() honours RunContext.logFile (the shell worker: it does not parse the output). */
  readonly logsDirectly?: boolean;
  /** True when the worker has every capability the task requires. */
  canRun(task: TaskDefinition): boolean;
  run(task: TaskDefinition, ctx: RunContext): Promise<WorkerOutput>;
}
