/**
 * The part of a task definition that the loader's cross-file checks, the
 * registry checks and the grouping by workstream read, and the one way to get
 * it from a loaded task. A module of its own without imports so the registry
 * and graph code can use it without loading the task loader.
 *
 * Public API (stable): TaskSummary, summaryOf(loaded), someSummary(tasks, test) (stops at the first match).
 * Integration points: src/repo/load-tasks.ts (definitions 'on-demand' keeps only this),
 * src/registry/index.ts, the CAP-REG/CONC-REG rules.
 * Dependencies: ../model.js (types only).
 */
import type { TaskDefinition } from '../model.js';

export interface TaskSummary {
  task_id: string;
  workstream_id: string;
  dependencies: string[];
  blocks: string[];
  worker_requirements?: { capabilities?: string[] };
  resource_requirements?: TaskDefinition['resource_requirements'];
  context_requirements?: { required_files?: string[]; optional_files?: string[] };
  execution: { working_directory?: string };
}

/**
 * What the cross-file checks read of a loaded task: the summary when only that was kept (the loader's
 * definitions 'on-demand'), else the definition itself (a TaskDefinition is a TaskSummary). Asking a
 * summary-only task for `task` reads its file again, which these checks must not pay for.
 */
export function summaryOf(loaded: { task: TaskDefinition; summary?: TaskSummary }): TaskSummary {
  return loaded.summary ?? loaded.task;
}

/** Whether any loaded task's summary passes `test`, stopping at the first (no copy of the task list). */
export function someSummary(tasks: Iterable<{ task: TaskDefinition; summary?: TaskSummary }>, test: (s: TaskSummary) => boolean): boolean {
  for (const t of tasks) if (test(summaryOf(t))) return true;
  return false;
}
