/**
 * The canonical list of requirement ids the compliance gate checks, copied
 * from the project's requirement catalog (REQUIREMENTS.md, mirrored in
 * specifications/content/orchestration/spec.md).
 *
 * Public API (stable): REQUIREMENTS, RequirementInfo, requirementInfo(id),
 * REQUIREMENT_IDS.
 * Integration points: the runner checks each discovered rule's level against
 * this list and resolves `--requirement` ids with it; COMPLIANCE-001 checks
 * that every id here has exactly one rule module and that the spec names it.
 * Dependencies: ../model.js (Level), ./types.js (Section).
 */
import type { Level } from '../model.js';
import type { Section } from './types.js';

export interface RequirementInfo {
  id: string;
  level: Level;
  /** The section the rule declares (checked at discovery: rule files are selected by it before they are imported). */
  section: Section;
  title: string;
}

export const REQUIREMENTS: readonly RequirementInfo[] = [
  { id: 'STATE-OBS-001', level: 'MUST', section: 'state', title: 'current.json holds the complete current state' },
  { id: 'STATE-OBS-002', level: 'MUST', section: 'state', title: 'transitions.jsonl is append-only and replays to the snapshot' },
  { id: 'STATE-OBS-003', level: 'MUST', section: 'state', title: 'Atomic update order: snapshot rename, then append' },
  { id: 'STATE-OBS-004', level: 'MUST', section: 'state', title: 'Events follow the event schema and severities' },
  { id: 'STATE-OBS-005', level: 'SHOULD', section: 'state', title: 'Derived indices group task ids and are derivable' },
  { id: 'STATE-OBS-006', level: 'MUST', section: 'state', title: 'Indices record their source and are regenerated when stale' },
  { id: 'EXEC-DOC-001', level: 'MUST', section: 'docs', title: 'Execution model documents exist and are non-trivial' },
  { id: 'EXEC-DOC-002', level: 'MUST', section: 'docs', title: 'OVERVIEW.md covers architecture, components, data flow, dependencies, performance' },
  { id: 'EXEC-DOC-003', level: 'MUST', section: 'docs', title: 'STATE_MACHINE.md covers states, transitions, triggers, invariants' },
  { id: 'EXEC-DOC-004', level: 'MUST', section: 'docs', title: 'SCHEDULING.md covers DAG construction, scheduling, parallelism, critical path' },
  { id: 'EXEC-DOC-005', level: 'MUST', section: 'docs', title: 'WORKERS.md covers registration, capabilities, assignment, health' },
  { id: 'EXEC-DOC-006', level: 'MUST', section: 'docs', title: 'RECOVERY.md covers checkpoints, partial failure, manual steps, decision trees' },
  { id: 'TASK-DEF-001', level: 'MUST', section: 'tasks', title: 'One task per file at tasks/{workstream_id}/{task_id}.json' },
  { id: 'TASK-DEF-002', level: 'MUST', section: 'tasks', title: 'Task files validate against the task schema v2.0.0' },
  { id: 'DAG-VIEW-001', level: 'MUST', section: 'dag', title: 'Per-workstream DAG files are present, fresh and acyclic' },
  { id: 'DAG-VIEW-002', level: 'MUST', section: 'dag', title: 'DAG files follow the DAG schema with a valid topological order' },
  { id: 'DAG-VIEW-003', level: 'MUST', section: 'dag', title: 'Execution plans stage every task after its dependencies' },
  { id: 'CAP-REG-001', level: 'MUST', section: 'registry', title: 'Capability registry parses and names every required capability' },
  { id: 'CAP-REG-002', level: 'MUST', section: 'registry', title: 'Capabilities carry version, deprecation and stability fields' },
  { id: 'ERR-FM-001', level: 'MUST', section: 'failure-modes', title: 'Each failure mode file has every required section' },
  { id: 'ERR-FM-002', level: 'MUST', section: 'failure-modes', title: 'CATALOG.md lists every failure mode and each has its file' },
  { id: 'ERR-FM-003', level: 'SHOULD', section: 'failure-modes', title: 'Each failure mode has a decision tree' },
  { id: 'AIDER-INT-001', level: 'MUST', section: 'machines', title: 'Aider is one worker behind a generic worker interface' },
  { id: 'AIDER-INT-002', level: 'MUST', section: 'machines', title: 'The adapter passes only the task\'s context files' },
  { id: 'AIDER-INT-003', level: 'MUST', section: 'machines', title: 'Worker output follows the worker-output contract' },
  { id: 'SM-DEF-001', level: 'MUST', section: 'machines', title: 'Task state machine' },
  { id: 'SM-DEF-002', level: 'MUST', section: 'machines', title: 'Workstream state machine' },
  { id: 'SM-DEF-003', level: 'SHOULD', section: 'machines', title: 'Worker state machine' },
  { id: 'MOD-IDX-001', level: 'MUST', section: 'docs', title: 'Every source module opens with a module index header' },
  { id: 'CONC-REG-001', level: 'MUST', section: 'registry', title: 'Resource registry declares typed resources' },
  { id: 'CONC-REG-002', level: 'MUST', section: 'dag', title: 'Resource requirements are known and schedulable' },
  { id: 'AUDIT-001', level: 'MUST', section: 'audit', title: 'The log alone answers state, why and who' },
  { id: 'AUDIT-002', level: 'MUST', section: 'audit', title: 'Events are retained 90 days and rotation is documented' },
  { id: 'SCHEMA-VER-001', level: 'MUST', section: 'state', title: 'Engine files carry schema_version and schema_url' },
  { id: 'SCHEMA-VER-002', level: 'MUST', section: 'tasks', title: 'Schema migrations are documented and tooled' },
  { id: 'OBS-001', level: 'MUST', section: 'metrics', title: 'metrics.json is present, valid and fresh' },
  { id: 'OBS-002', level: 'MUST', section: 'metrics', title: 'Metrics export as Prometheus/OpenMetrics text' },
  { id: 'COMPLIANCE-001', level: 'MUST', section: 'docs', title: 'Every requirement id has one validator rule and a drop-in' },
];

export const REQUIREMENT_IDS: readonly string[] = REQUIREMENTS.map((r) => r.id);

const BY_ID = new Map(REQUIREMENTS.map((r) => [r.id, r]));

export function requirementInfo(id: string): RequirementInfo | undefined {
  return BY_ID.get(id);
}
