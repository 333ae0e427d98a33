/**
 * Which resources may be held at the same time (CONC-REG-002): the pure
 * conflict relation the planner, `ready`, the plan checks and the scheduler share.
 *
 * Public API (stable):
 *   - ResourceLike: the registry entry shape the graph code needs (src/registry's ResourceDef satisfies it).
 *   - resourcesConflict(a, b): boolean. Symmetric. Two different resources
 *     conflict when either names the other (or '*') in ConflictsWith, unless
 *     either names the other (or '*') in CompatibleWith: CompatibleWith wins.
 *     A resource never conflicts with itself (capacity rules cover that).
 *   - claimPriority(defs): the highest Priority among the resources a task
 *     claims (0 when none sets one): the tie-break after the task's own priority.
 * Integration points: src/graph/plan.ts (stage packing), src/graph/ready.ts,
 * src/graph/checks.ts (CONC-REG-002 on plan files and current holders), the runner.
 * Dependencies: none.
 */

export interface ResourceLike {
  ResourceId: string;
  Type: string;
  MaxHolders: number;
  RefillRate?: number;
  Priority?: number;
  ConflictsWith?: readonly string[];
  CompatibleWith?: readonly string[];
}

const names = (list: readonly string[] | undefined, id: string): boolean => list !== undefined && (list.includes(id) || list.includes('*'));

export function resourcesConflict(a: ResourceLike, b: ResourceLike): boolean {
  if (a.ResourceId === b.ResourceId) return false;
  if (names(a.CompatibleWith, b.ResourceId) || names(b.CompatibleWith, a.ResourceId)) return false;
  return names(a.ConflictsWith, b.ResourceId) || names(b.ConflictsWith, a.ResourceId);
}

export function claimPriority(defs: Iterable<{ def: ResourceLike }>): number {
  let best = 0;
  let any = false;
  for (const { def } of defs) {
    const p = def.Priority;
    if (typeof p !== 'number' || !Number.isFinite(p)) continue;
    if (!any || p > best) best = p;
    any = true;
  }
  return best;
}
