/**
 * Runtime resource admission: may this task start now, next to the tasks that
 * hold resources at this moment? (CONC-REG-002 at run time; the planner in
 * src/graph/plan.ts packs the same claims into stages ahead of time.)
 *
 * Public API (stable):
 *   - RuntimeResource: the registry entry (ResourceDef) with the optional
 *     upstream fields Type 'pooled', RefillRate, Priority, ConflictsWith, CompatibleWith
 *   - ResourceLedger(resources, now): check(task, claims, now) → Admission;
 *     acquire(task, claims, now); release(task); holders()
 *   - conflictsBetween(a, b, resources) → boolean
 *   - selfConflict(claims, resources) → the first pair of a task's own claims that conflict, or null
 * Rules:
 *   - exclusive (a resource of Type exclusive, or a claim written "exclusive"): no other holder at all.
 *   - shared / pooled: units in use + the claim's units ≤ MaxHolders (-1 = unlimited); units go back on release.
 *   - rate_limited: a token bucket of MaxHolders tokens (full at the start), refilled at RefillRate
 *     units per second; a start draws the claim's units, which never come back; `retry_at` says when
 *     enough tokens will be there.
 *   - conflicting: resources A and B conflict when A's ConflictsWith names B (or "*") or B's names A,
 *     unless either lists the other in CompatibleWith; a task may not start while a holder of a
 *     resource conflicting with one of its claims runs.
 * Integration points: ./loop.ts (one ledger per run). `conflictsBetween` delegates to graph/resources.ts
 * resourcesConflict, the one conflict rule of the planner, ready and the runtime.
 * Dependencies: ../graph/plan.js (claimsOf/capacityOf types).
 */
import { capacityOf, type NormalClaim, type ResourceLike } from '../graph/plan.js';
import { resourcesConflict } from '../graph/resources.js';

export interface RuntimeResource extends ResourceLike {
  Type: string;
  RefillRate?: number;
  Priority?: number;
  ConflictsWith?: string[];
  CompatibleWith?: string[];
}

export type Admission = { ok: true } | { ok: false; reason: string; retry_at?: number };

interface Holding {
  units: number;
  exclusive: boolean;
  holders: Map<string, number>;
}

/** Conflicts are one rule for the planner, `ready` and the runtime: graph/resources.ts. */
export function conflictsBetween(a: string, b: string, resources: ReadonlyMap<string, RuntimeResource>): boolean {
  const ra = resources.get(a);
  const rb = resources.get(b);
  if (!ra || !rb) return false;
  return resourcesConflict(ra, rb);
}

export function selfConflict(claims: readonly NormalClaim[], resources: ReadonlyMap<string, RuntimeResource>): [string, string] | null {
  for (let i = 0; i < claims.length; i++) {
    for (let j = i + 1; j < claims.length; j++) {
      const a = (claims[i] as NormalClaim).resource;
      const b = (claims[j] as NormalClaim).resource;
      if (conflictsBetween(a, b, resources)) return [a, b];
    }
  }
  return null;
}

export class ResourceLedger {
  private readonly use = new Map<string, Holding>();
  private readonly tokens = new Map<string, { level: number; at: number }>();
  private readonly held = new Map<string, NormalClaim[]>();
  private readonly anyConflicts: boolean;

  constructor(
    private readonly resources: ReadonlyMap<string, RuntimeResource>,
    now: number,
  ) {
    this.anyConflicts = [...resources.values()].some((r) => Array.isArray(r.ConflictsWith) && r.ConflictsWith.length > 0);
    for (const r of resources.values()) {
      if (r.Type === 'rate_limited') this.tokens.set(r.ResourceId, { level: r.MaxHolders < 0 ? Infinity : r.MaxHolders, at: now });
    }
  }

  private bucket(id: string, now: number): { level: number; at: number } | undefined {
    const b = this.tokens.get(id);
    const def = this.resources.get(id);
    if (!b || !def) return b;
    const cap = def.MaxHolders < 0 ? Infinity : def.MaxHolders;
    const rate = typeof def.RefillRate === 'number' && def.RefillRate > 0 ? def.RefillRate : 0;
    if (now > b.at && b.level < cap) b.level = Math.min(cap, b.level + ((now - b.at) / 1000) * rate);
    b.at = Math.max(b.at, now);
    return b;
  }

  check(taskId: string, claims: readonly NormalClaim[], now: number): Admission {
    for (const c of claims) {
      const u = this.use.get(c.resource);
      const others = u ? [...u.holders.keys()].filter((h) => h !== taskId) : [];
      if (c.def.Type === 'rate_limited' && !c.exclusive) {
        const b = this.bucket(c.resource, now);
        if (b && b.level + 1e-9 < c.units) {
          const rate = c.def.RefillRate ?? 0;
          const at = rate > 0 ? now + Math.ceil(((c.units - b.level) / rate) * 1000) : undefined;
          return { ok: false, reason: `rate-limited resource ${c.resource} has ${b.level.toFixed(2)} of the ${c.units} unit(s) needed (refills at ${rate}/s)`, ...(at !== undefined ? { retry_at: at } : {}) };
        }
        continue;
      }
      if (others.length > 0 && u) {
        const cap = capacityOf(c.def);
        if (u.exclusive || c.exclusive) return { ok: false, reason: `resource ${c.resource} is held by ${others.join(', ')}${c.exclusive ? ' and this task needs it alone' : ' (exclusively)'}` };
        if (cap >= 0 && u.units + c.units > cap) return { ok: false, reason: `resource ${c.resource} has ${u.units}/${cap} unit(s) in use by ${others.join(', ')}; this task needs ${c.units}` };
      }
      if (this.anyConflicts) {
        for (const [other, h] of this.use) {
          if (h.holders.size === 0 || !conflictsBetween(c.resource, other, this.resources)) continue;
          const by = [...h.holders.keys()].filter((x) => x !== taskId);
          if (by.length) return { ok: false, reason: `resource ${c.resource} conflicts with ${other}, held by ${by.join(', ')}` };
        }
      }
    }
    return { ok: true };
  }

  acquire(taskId: string, claims: readonly NormalClaim[], now: number): void {
    if (!claims.length) return;
    this.held.set(taskId, [...claims]);
    for (const c of claims) {
      if (c.def.Type === 'rate_limited' && !c.exclusive) {
        const b = this.bucket(c.resource, now);
        if (b) b.level -= c.units;
        continue;
      }
      const u = this.use.get(c.resource) ?? { units: 0, exclusive: false, holders: new Map<string, number>() };
      u.units += c.units;
      u.exclusive ||= c.exclusive;
      u.holders.set(taskId, c.units);
      this.use.set(c.resource, u);
    }
  }

  release(taskId: string): void {
    const claims = this.held.get(taskId);
    if (!claims) return;
    this.held.delete(taskId);
    for (const c of claims) {
      const u = this.use.get(c.resource);
      if (!u) continue;
      const units = u.holders.get(taskId);
      if (units === undefined) continue;
      u.holders.delete(taskId);
      u.units -= units;
      if (u.holders.size === 0) this.use.delete(c.resource);
      else u.exclusive = [...u.holders.keys()].some((h) => (this.held.get(h) ?? []).some((x) => x.resource === c.resource && x.exclusive));
    }
  }

  /** Current holders by resource (for the live view and the summary). */
  holders(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [id, u] of this.use) out[id] = [...u.holders.keys()];
    return out;
  }
}
