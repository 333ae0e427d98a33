/**
 * CONC-REG-001 (MUST): the resource registry (capabilities/resources.psd1, or
 * resources.yaml/.yml/.json) parses and each resource has ResourceId (unique),
 * Type (exclusive/shared/rate_limited), Description, MaxHolders (integer ≥ -1,
 * -1 unlimited, exactly 1 for exclusive) and, for rate_limited ones, RefillRate
 * > 0; every resource id a task names in resource_requirements exists.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner; shares loads
 * through ctx.once('tasks') and ctx.once('resources'). Plan-level checks
 * (capacity, deadlock) are CONC-REG-002 (C).
 * Dependencies: ../../registry/index.js, ../../repo/load-tasks.js, ../../repo/task-summary.js, ../types.js.
 */
import { checkTaskResources, loadResources } from '../../registry/index.js';
import { loadTasks } from '../../repo/load-tasks.js';
import { someSummary, type TaskSummary } from '../../repo/task-summary.js';
import type { Rule } from '../types.js';

export const rule: Rule = {
  id: 'CONC-REG-001',
  level: 'MUST',
  section: 'registry',
  title: 'Resource registry declares typed resources',
  tasks: 'summary', // reads only summaryOf(task), file, sourceVersion and locate
  check(ctx) {
    const res = ctx.once('resources', () => loadResources(ctx.root));
    const set = ctx.once('tasks', () => loadTasks(ctx.root, { texts: 'on-demand' }));
    if (res.file === null && !someSummary(set.tasks.values(), claimsResource)) return { skip: 'no resource registry (capabilities/resources.psd1) and no task claims a resource' };
    return { findings: [...res.findings, ...checkTaskResources(set.tasks.values(), res)].filter((f) => f.requirement === 'CONC-REG-001') };
  },
};

/** The task claims at least one resource (no key array built). */
function claimsResource(s: TaskSummary): boolean {
  if (s.resource_requirements) for (const _ in s.resource_requirements) return true;
  return false;
}
