/**
 * Types of the in-memory state the machines operate on.
 *
 * Public API (stable, re-exported by src/machines/index.ts): LiveState,
 * TransitionRequest, PendingEvent, PlanContext.
 * Integration points: src/engine (B2) holds a LiveState per commit and per
 * replay; src/derive reads snapshots built from it.
 * Dependencies: ../model.js (types only).
 */
import type { OrcEvent, TaskDefinition, TaskState, WorkerState, WorkstreamState } from '../model.js';

export interface LiveState {
  tasks: Map<string, TaskState>;
  workstreams: Map<string, WorkstreamState>;
  workers: Map<string, WorkerState>;
  last_seq: number;
  timestamp: string;
}

export interface TransitionRequest {
  entity_type: 'task' | 'workstream' | 'worker';
  entity_id: string;
  trigger: string;
  /** ISO-8601 UTC with milliseconds. */
  timestamp: string;
  worker_id?: string | null;
  error?: string | null;
  caused_by?: string | null;
  actor?: string;
  metadata?: Record<string, unknown>;
}

/** An event before the commit path numbers it. */
export type PendingEvent = Omit<OrcEvent, 'seq' | 'event_id'>;

export interface PlanContext {
  defs: ReadonlyMap<string, TaskDefinition>;
  /** Tasks on a critical path (Decision 7), in addition to definitions with `critical: true`. */
  criticalTasks?: Pick<ReadonlySet<string>, 'has'>;
}
