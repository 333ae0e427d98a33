/**
 * The data model shared by every module: task definitions (schema v2.0.0),
 * runtime state (snapshot), events, and located findings.
 *
 * Public API (stable): TaskStatus, TaskType, TaskDefinition, TaskState,
 * WorkstreamState, WorkerState, Snapshot, OrcEvent, Severity, Finding, Level.
 * Integration points: schemas/*.json describe the same shapes; ajv validates
 * files against them before values are trusted as these types.
 * Dependencies: none.
 */

export const TASK_STATUSES = [
  'pending',
  'queued',
  'running',
  'validating',
  'retrying',
  'completed',
  'failed',
  'cancelled',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const WORKSTREAM_STATUSES = [
  'planned',
  'ready',
  'executing',
  'validating',
  'completed',
  'failed',
  'cancelled',
] as const;
export type WorkstreamStatus = (typeof WORKSTREAM_STATUSES)[number];

export const WORKER_STATUSES = ['initializing', 'idle', 'busy', 'unresponsive', 'shutdown'] as const;
export type WorkerStatus = (typeof WORKER_STATUSES)[number];

export const TASK_TYPES = ['aider', 'pytest', 'lint', 'custom'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** Task ids (Decision 5): safe file names, unique across the repo. */
export const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export type ResourceClaim = 'exclusive' | 'shared' | number;

/** A task file, schema v2.0.0 (`tasks/{workstream_id}/{task_id}.json`). */
export interface TaskDefinition {
  $schema?: string;
  schema_version: string;
  schema_url: string;
  task_id: string;
  workstream_id: string;
  name: string;
  description: string;
  type: TaskType;
  status: TaskStatus;
  critical?: boolean;
  priority?: number;
  dependencies: string[];
  blocks: string[];
  worker_requirements: { capabilities: string[]; min_version?: string };
  execution: {
    command: string;
    working_directory?: string;
    timeout_seconds: number;
    max_retries: number;
    retry_delay_seconds?: number;
    estimated_duration_seconds?: number;
    /** Schema 2.1.0: commands tried in order when `command` fails (the seeds' fallback strategy). */
    fallback_commands?: string[];
    /** Schema 2.1.0: backoff of the retry delays (Temporal-style). */
    retry_policy?: { backoff_coefficient?: number; max_delay_seconds?: number; non_retryable_exit_codes?: number[] };
    /** Schema 2.1.0: expected cost of one attempt in USD (used when the adapter reports none, and by --budget-usd). */
    cost_estimate_usd?: number;
    /** Schema 2.1.0: variables added to the environment of the command. */
    env?: Record<string, string>;
  };
  /** Schema 2.1.0: files (repo-relative) the task must produce; checked by post-execution validation. */
  outputs?: string[];
  context_requirements: {
    max_context_tokens: number;
    required_files: string[];
    optional_files?: string[];
    exclude_patterns: string[];
  };
  validation_rules: { pre_execution: string[]; post_execution: string[] };
  resource_requirements?: Record<string, ResourceClaim>;
  state: {
    created_at: string;
    started_at?: string | null;
    completed_at?: string | null;
    assigned_worker?: string | null;
    retry_count: number;
    last_error?: string | null;
  };
  [extra: string]: unknown;
}

/** Runtime state of one task, owned by `.state/` (Decision 1). */
export interface TaskState {
  task_id: string;
  workstream_id: string;
  status: TaskStatus;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  assigned_worker: string | null;
  retry_count: number;
  max_retries: number;
  last_error: string | null;
  updated_at: string;
  /** A task present in the snapshot whose definition file is gone. */
  orphaned?: boolean;
}

export interface WorkstreamState {
  workstream_id: string;
  status: WorkstreamStatus;
  updated_at: string;
}

export interface WorkerState {
  worker_id: string;
  status: WorkerStatus;
  capabilities: string[];
  current_task: string | null;
  registered_at: string;
  updated_at: string;
  /** The lease under which a busy worker holds current_task (src/engine/leases.ts); absent when unleased. */
  lease?: WorkerLease;
}

/**
 * A claim's lease (src/engine/leases.ts): set by the task_assigned event that
 * follows a worker_started carrying metadata.lease, moved forward by
 * `lease_renewed` system events (heartbeats), removed when the worker no longer
 * holds the task. A commit after expires_at expires it through the machines.
 */
export interface WorkerLease {
  /** Fencing token, `<seq>-<16 hex>`: unique per claim; the seq part grows with every claim. */
  token: string;
  task_id: string;
  acquired_at: string;
  expires_at: string;
  /** Length of the lease (and of each renewal), seconds. */
  seconds: number;
  /** The claiming process (the agent) and its host, for people reading the state. */
  pid: number | null;
  host: string | null;
}

export type Severity = 'info' | 'warning' | 'error' | 'critical';
export type EntityType = 'task' | 'workstream' | 'worker' | 'system';

/** One line of `.state/transitions.jsonl` (Decision 3). */
export interface OrcEvent {
  schema_version: string;
  seq: number;
  event_id: string;
  timestamp: string;
  event: string;
  trigger: string;
  entity_type: EntityType;
  entity_id: string;
  workstream_id?: string | null;
  from_state: string | null;
  to_state: string | null;
  severity: Severity;
  caused_by: string | null;
  actor?: string;
  metadata: {
    worker_id?: string | null;
    retry_count?: number;
    duration_seconds?: number | null;
    error?: string | null;
    [extra: string]: unknown;
  };
}

/** `.state/current.json`. */
export interface Snapshot {
  schema_version: string;
  schema_url: string;
  timestamp: string;
  last_seq: number;
  /** The event that produced this snapshot, so a lost append can be redone (Decision 4). */
  last_events: OrcEvent[];
  workstreams: WorkstreamState[];
  tasks: TaskState[];
  workers: WorkerState[];
}

export type Level = 'MUST' | 'SHOULD';

/** A located problem in a user's file. Lines and columns are 1-based. */
export interface Finding {
  requirement: string;
  severity: 'error' | 'warning' | 'notice';
  file: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  message: string;
  fix: string;
}
