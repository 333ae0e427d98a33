/**
 * Which tasks count as critical when the workstream machine derives its
 * status (Decision 7): a task that sets `critical: true`, or one that lies on
 * its workstream's critical path as the last derived execution plan shows it.
 *
 * Public API (internal): criticalTasks(root, defs, flagged) → { has(id) }.
 * Integration points: src/engine/commit.ts passes the result to the machines'
 * planTransition as `criticalTasks`; reads `.state/execution_plan_{ws}.json`
 * written by src/graph/files.ts.
 * Why lazy: the machines ask only about failed tasks, so a plan file is read
 * (once per workstream per commit) only when a task of that workstream has failed.
 * Dependencies: node:fs, ../graph/files.js (file naming), ./paths.js.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskDefinition } from '../model.js';
import { planFileName } from '../graph/files.js';
import { statePaths } from './paths.js';

export type CriticalSet = Pick<ReadonlySet<string>, 'has'>;

export function criticalTasks(root: string, defs: ReadonlyMap<string, TaskDefinition>, flagged: CriticalSet): CriticalSet {
  const onPath = new Map<string, ReadonlySet<string>>();
  return {
    has(id: string): boolean {
      if (flagged.has(id)) return true;
      const ws = defs.get(id)?.workstream_id;
      if (ws === undefined) return false;
      let set = onPath.get(ws);
      if (!set) {
        set = criticalPathOfPlan(join(statePaths(root).stateDir, planFileName(ws)));
        onPath.set(ws, set);
      }
      return set.has(id);
    },
  };
}

/** The plan's critical_path_tasks; empty when the plan is missing or unreadable (only flagged tasks count then). */
function criticalPathOfPlan(file: string): ReadonlySet<string> {
  try {
    const plan = JSON.parse(readFileSync(file, 'utf8')) as { critical_path_tasks?: unknown };
    const ids = Array.isArray(plan.critical_path_tasks) ? plan.critical_path_tasks : [];
    return new Set(ids.filter((x): x is string => typeof x === 'string'));
  } catch {
    return new Set();
  }
}
