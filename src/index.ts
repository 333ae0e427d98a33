/**
 * orc-state public library API: the same operations as the CLI, typed.
 *
 * Public API (stability per group):
 *   - Engine (stable): openStore, applyTransitions (batch = group commit),
 *     syncDefinitions, initStore, readSnapshot, readEvents, replay,
 *     explainTask, doctor, checkStore, rotateLog, pruneArchives,
 *     compareWithReplay, and their option/result types.
 *   - Durable IO (stable): writeFileDurable, appendDurable, withLock, readLockInfo.
 *   - Machines (stable): planTransition, applyEvent, checkInvariants,
 *     emptyState, fromSnapshot, toSnapshot, MACHINES, LiveState, TransitionRequest.
 *   - Definitions and registries (stable): loadTasks, loadTaskFile, loadCapabilities, loadResources, loadConfig.
 *   - Derived views (stable): buildIndices, writeIndices, computeMetrics, writeMetrics, toOpenMetrics, writeGraphFiles.
 *   - Graph (stable, C): analyze, reanalyze, writeAnalysisFiles, buildGraph, planWorkstream, scheduleWorkstream,
 *     criticalPath, criticalPathTaskIds, computeReady, startWatch, loadGraphInputs, renderers, RunHistory.
 *   - Compliance (stable): runCompliance, formatReport.
 *   - Migration (stable): migrateFiles, rollbackMigration, upgradeInMemory, migrateValue,
 *     MigrationRegistry, DEFAULT_REGISTRY, reconcileJson, applyJsonEdits, unifiedDiff, migrateEventLog.
 *   - Workers (stable): createWorker, ShellWorker, AiderWorker, runProcess, selectContext,
 *     matchesGlob, validateWorkerOutput, writeWorkerOutput, triggerFor and the Worker/WorkerOutput types;
 *     executeTask (experimental: one attempt through the commit path).
 *   - Model and errors (stable): every type of ./model.js, OrcError, EXIT, exitCodeFor.
 * Integration points: package.json "exports" → dist/src/index.js. Each part
 * owner may add re-export lines here; nothing else lives in this file.
 * Dependencies: the modules re-exported below.
 */
export * from './model.js';
export { OrcError, EXIT, exitCodeFor, type ErrorCode, type ErrorLocation } from './errors.js';

// Engine (B2)
export {
  openStore,
  applyTransitions,
  syncDefinitions,
  defaultActor,
  type Store,
  type StoreOptions,
  type CommitOptions,
  type CommitResult,
  type CommitNotice,
  type SyncResult,
} from './engine/commit.js';
export { initStore, type InitResult } from './engine/init.js';
export { readSnapshot, loadSnapshotFile, type SnapshotRead } from './engine/snapshot.js';
export { readEvents, eventBatches, readLocatedEvents, listLogSources, lastLoggedSeq, type LogProblem, type LogSource, type LocatedEvent, type LocatedEvents } from './engine/log.js';
export { replay, type ReplayOptions } from './engine/replay.js';
export { explainTask, type WhyReport, type WhyEvent, type Attempt } from './engine/why.js';
export { doctor, checkStore, type DoctorReport, type DoctorIssue, type DoctorOptions } from './engine/doctor.js';
export { rotateLog, pruneArchives, MIN_RETENTION_DAYS, type RotateResult, type PruneResult } from './engine/rotate.js';
export { compareWithReplay, describeDifference, type StateDifference } from './engine/compare.js';
export { statePaths, type StatePaths } from './engine/paths.js';
export { snapshotOf, eventsOf, tasksOf } from './engine/rule-loaders.js';

// Durable IO (B2)
export { writeFileDurable, writeFileDurableSync } from './io/atomic-write.js';
export { appendDurable, readLineBatches, repairTornTail } from './io/jsonl-log.js';
export { withLock, acquireLock, readLockInfo, type LockInfo, type LockOptions } from './io/lock.js';

// Machines (B1)
export {
  planTransition,
  applyEvent,
  checkInvariants,
  emptyState,
  fromSnapshot,
  toSnapshot,
  MACHINES,
  type LiveState,
  type TransitionRequest,
  type PendingEvent,
} from './machines/index.js';

// Definitions, registries, config (A, C)
export { loadTasks, loadTaskFile, crossCheckTasks, type TaskSet, type LoadedTask } from './repo/load-tasks.js';
export { loadCapabilities, loadResources, checkTaskCapabilities, checkTaskResources, type Capability, type ResourceDef, type CapabilityRegistry, type ResourceRegistry } from './registry/index.js';
export { loadConfig } from './config.js';

// Derived views (B1, C)
export { buildIndices, writeIndices } from './derive/indices.js';
export { computeMetrics, writeMetrics } from './derive/metrics.js';
export { toOpenMetrics } from './derive/openmetrics.js';
export { writeGraphFiles, buildDagFile, buildExecutionPlan } from './graph/files.js';
export { analyze, reanalyze, writeAnalysisFiles, serializeDerived, criticalPathTaskIds, dagFileName, planFileName, type Analysis, type DagFile, type ExecutionPlanFile } from './graph/files.js';
export { buildGraph, formatCycle, type TaskGraph, type GraphIssue, type CycleIssue } from './graph/graph.js';
export { planWorkstream, scheduleWorkstream, criticalPath, claimsOf, type PlanData, type PlanStage, type PlanProblem } from './graph/plan.js';
export { resourcesConflict, type ResourceLike } from './graph/resources.js';
export { RunHistory, estimateTask, type Estimate, type EstimateSource } from './graph/estimates.js';
export { computeReady, type ReadyReport, type ReadyTask, type BlockedTask } from './graph/ready.js';
export { startWatch, type Watcher, type WatchUpdate, type WatchOptions } from './graph/watch.js';
export { loadGraphInputs, type GraphInputs } from './graph/repo.js';
export { renderPlanText, renderMermaid, renderDot } from './graph/render.js';

// Compliance (D) and migration (E)
export { runCompliance } from './compliance/runner.js';
export { formatReport } from './compliance/formatters/index.js';
export { migrateFiles, rollbackMigration } from './migrate/run.js';
export { upgradeInMemory, migrateValue, MigrationRegistry, DEFAULT_REGISTRY, FILE_KINDS, type FileKind, type MigrationStep } from './migrate/chain.js';
export { reconcileJson, applyJsonEdits, detectStyle, type JsonEdit, type JsonStyle } from './migrate/json-edit.js';
export { unifiedDiff } from './migrate/diff.js';
export { migrateEventLog, type EventLogMigration } from './migrate/event-log.js';

// Workers (E)
export {
  createWorker,
  ShellWorker,
  AiderWorker,
  runProcess,
  selectContext,
  matchesGlob,
  validateWorkerOutput,
  writeWorkerOutput,
  triggerFor,
  WORKER_OUTPUT_FIELDS,
  type Worker,
  type RunContext,
  type WorkerOutput,
  type WorkerOutputStatus,
  type WorkerErrorType,
} from './runner/index.js';
export { executeTask, type ExecuteResult } from './runner/execute.js';
