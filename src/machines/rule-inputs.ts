/**
 * Memoised inputs shared by B1's compliance rules (SM-DEF-*, STATE-OBS-005/006,
 * OBS-001/002), loaded through RuleContext.once with the agreed keys so no
 * file is read twice in one run.
 *
 * Public API (internal): snapshotRead(ctx), taskDefinitions(ctx), machineInputs(ctx).
 * Integration points: 'snapshot' -> B2's loadSnapshotFile(root); 'tasks' -> A's loadTasks(root);
 * 'tasks:definitions' -> the definitions by id, built once for SM-DEF-001..003.
 * Dependencies: ../engine/snapshot.js, ../repo/load-tasks.js, ../compliance/types.js (types).
 */
import type { RuleContext } from '../compliance/types.js';
import { loadSnapshotFile, type SnapshotRead } from '../engine/snapshot.js';
import type { TaskDefinition } from '../model.js';
import { loadTasks, type TaskSet } from '../repo/load-tasks.js';
import type { MachineCheckInputs } from './conformance.js';

export function snapshotRead(ctx: RuleContext): SnapshotRead {
  return ctx.once('snapshot', () => loadSnapshotFile(ctx.root));
}

/**
 * Task definitions by id (read-only; one map per run, memo key 'tasks:definitions'); an unreadable tasks/
 * tree yields an empty map (TASK-DEF rules report it).
 */
export function taskDefinitions(ctx: RuleContext): Map<string, TaskDefinition> {
  return ctx.once('tasks:definitions', () => {
    let set: TaskSet;
    try {
      set = ctx.once('tasks', () => loadTasks(ctx.root, { texts: 'on-demand' }));
    } catch {
      return new Map<string, TaskDefinition>();
    }
    const defs = new Map<string, TaskDefinition>();
    set.tasks.forEach((t, id) => defs.set(id, t.task));
    return defs;
  });
}

export function machineInputs(ctx: RuleContext): MachineCheckInputs {
  let snapshot: SnapshotRead | null = null;
  try {
    snapshot = snapshotRead(ctx);
  } catch {
    snapshot = null; // an unreadable .state/ is reported by STATE-OBS-001
  }
  return { snapshot: snapshot && snapshot.snapshot ? snapshot : null, defs: taskDefinitions(ctx), fix: ctx.fix, documents: ctx.profile !== 'runtime' };
}
