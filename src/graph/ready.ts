/**
 * What can be scheduled now, most critical first, and why the rest waits.
 *
 * Public API:
 *   - computeReady(analysis, options?): ReadyReport   (stable, pure; options.reasons false: blocked tasks without reasons)
 *   - ReadyTask, BlockedTask, ReadyReport            (stable types)
 * Rules: a task is a candidate when its status (snapshot, else definition)
 * is pending or queued, it is on no cycle, and every dependency exists and
 * is completed. Candidates are taken in order of least slack on the global
 * critical path (remaining work only: completed/cancelled tasks weigh 0;
 * cross-workstream edges count), then higher `priority`, then id; each is
 * admitted if its resource claims fit next to the current holders (tasks
 * running or validating) and the candidates admitted before it, so the ready
 * list can start together; a claim on a resource that conflicts with one held
 * (ConflictsWith, unless CompatibleWith: ./resources.ts) does not fit either.
 * Ties after `priority` go to the higher registry Priority of the claimed
 * resources. The others get reasons: unfinished or failed
 * dependencies, unknown dependencies, cycles, held resources, impossible claims.
 * Integration points: `orc-state ready`, watch (future), the runner.
 * Dependencies: ./files.js (Analysis), ./plan.js.
 */
import type { TaskDefinition } from '../model.js';
import type { Analysis } from './files.js';
import { capacityOf, claimsOf, criticalPath, type NormalClaim, type PlanTask } from './plan.js';
import { claimPriority, resourcesConflict } from './resources.js';

export interface ReadyTask {
  task_id: string;
  workstream_id: string;
  name: string;
  status: string;
  estimated_duration_seconds: number;
  estimate_source: string;
  slack_seconds: number;
  critical: boolean;
  priority: number;
  resources: Record<string, unknown>;
}

export interface BlockedTask {
  task_id: string;
  workstream_id: string;
  status: string;
  reasons: string[];
}

export interface ReadyReport {
  ready: ReadyTask[];
  blocked: BlockedTask[];
  /** Tasks currently holding resources (running or validating). */
  holders: Array<{ task_id: string; resources: string[] }>;
}

const HOLDING = new Set(['running', 'validating']);
const WAITING = new Set(['pending', 'queued']);

interface Use {
  units: number;
  exclusive: boolean;
  holders: string[];
}

/** The reasons a task waits, when they are not wanted (options.reasons false): shared, never filled in. */
const UNSAID: string[] = [];

export function computeReady(analysis: Analysis, options: { workstream?: string; /** false: blocked tasks carry no reasons (counting them is cheaper). */ reasons?: boolean } = {}): ReadyReport {
  const say = options.reasons !== false;
  const { graph } = analysis;
  const resources = analysis.input.resources;
  const status: string[] = new Array(graph.n);
  for (let v = 0; v < graph.n; v++) status[v] = analysis.status(v);

  // Remaining-work critical path over the acyclic part of the whole graph.
  const remaining = new Float64Array(graph.n);
  for (let v = 0; v < graph.n; v++) remaining[v] = status[v] === 'completed' || status[v] === 'cancelled' ? 0 : (analysis.est[v] as number);
  const inOrder = new Uint8Array(graph.n);
  for (const v of graph.order) inOrder[v] = 1;
  const cpm = criticalPath(graph, graph.order, (v) => inOrder[v] === 1, remaining);

  const use = new Map<string, Use>();
  const holders: ReadyReport['holders'] = [];
  const claimCache = new Map<number, { claims: NormalClaim[]; problems: number }>();
  const claimsFor = (v: number): { claims: NormalClaim[]; problems: number } => {
    let c = claimCache.get(v);
    if (!c) {
      const r = claimsOf(graph.tasks[v] as PlanTask, resources);
      c = { claims: r.claims, problems: r.problems.length };
      claimCache.set(v, c);
    }
    return c;
  };
  const take = (v: number, claims: NormalClaim[]): void => {
    for (const c of claims) {
      const u = use.get(c.resource) ?? { units: 0, exclusive: false, holders: [] };
      u.units += c.units;
      u.exclusive ||= c.exclusive;
      u.holders.push(graph.ids[v] as string);
      use.set(c.resource, u);
    }
  };
  for (let v = 0; v < graph.n; v++) {
    if (!HOLDING.has(status[v] as string)) continue;
    const { claims } = claimsFor(v);
    if (claims.length === 0) continue;
    take(v, claims);
    holders.push({ task_id: graph.ids[v] as string, resources: claims.map((c) => c.resource) });
  }

  const missing = new Map<string, string[]>();
  for (const issue of graph.issues) {
    if (issue.kind === 'missing') missing.set(issue.task, [...(missing.get(issue.task) ?? []), issue.target]);
  }
  const wsFilter = options.workstream;
  const candidates: number[] = [];
  const blocked: BlockedTask[] = [];
  const priorityOf = (v: number): number => {
    const p = (graph.tasks[v] as TaskDefinition).priority;
    return typeof p === 'number' && Number.isFinite(p) ? p : 0;
  };
  const wsOf = (v: number): string => graph.workstreams[graph.ws[v] as number] as string;
  const reasonsFor = new Map<number, string[]>();
  for (let v = 0; v < graph.n; v++) {
    if (!WAITING.has(status[v] as string)) continue;
    if (!say) {
      let waits = graph.cyclic[v] === 1 || missing.has(graph.ids[v] as string);
      for (let e = graph.depStart[v] as number, end = graph.depStart[v + 1] as number; !waits && e < end; e++) waits = status[graph.deps[e] as number] !== 'completed';
      // Claims last: most waiting tasks wait for a dependency, and their claims need not be read.
      if (!waits) waits = claimsFor(v).problems > 0;
      if (waits) reasonsFor.set(v, UNSAID);
      else candidates.push(v);
      continue;
    }
    const reasons: string[] = [];
    const id = graph.ids[v] as string;
    if (graph.cyclic[v]) reasons.push('on a dependency cycle: it can never start until the cycle is broken (see `orc-state plan`)');
    for (const target of missing.get(id) ?? []) reasons.push(`depends on unknown task ${target}`);
    for (let e = graph.depStart[v] as number, end = graph.depStart[v + 1] as number; e < end; e++) {
      const d = graph.deps[e] as number;
      const s = status[d] as string;
      if (s === 'completed') continue;
      if (s === 'failed' || s === 'cancelled') reasons.push(`dependency ${graph.ids[d]} is ${s}: it will not complete unless it is retried or the dependency removed`);
      else reasons.push(`waiting for ${graph.ids[d]} (${s})`);
    }
    if (claimsFor(v).problems > 0) reasons.push('its resource claims can never be met (unknown resource or above capacity; see `orc-state plan`)');
    if (reasons.length > 0) reasonsFor.set(v, reasons);
    else candidates.push(v);
  }
  candidates.sort(
    (a, b) =>
      (cpm.slack[a] as number) - (cpm.slack[b] as number) ||
      priorityOf(b) - priorityOf(a) ||
      claimPriority(claimsFor(b).claims) - claimPriority(claimsFor(a).claims) ||
      a - b,
  );

  const ready: ReadyTask[] = [];
  for (const v of candidates) {
    const { claims } = claimsFor(v);
    const conflicts: string[] = [];
    for (const c of claims) {
      const u = use.get(c.resource);
      const cap = capacityOf(c.def);
      if (u && u.holders.length > 0 && (u.exclusive || c.exclusive || (cap >= 0 && u.units + c.units > cap))) {
        const by = u.holders.map((h) => `${h} (${status[graph.index.get(h) as number]})`).join(', ');
        conflicts.push(`resource ${c.resource} is taken by ${by}${cap >= 0 && !u.exclusive && !c.exclusive ? ` (${u.units}/${cap} units in use, needs ${c.units})` : ''}`);
      }
      for (const [rid, other] of use) {
        if (rid === c.resource || other.holders.length === 0) continue;
        const def = resources.get(rid);
        if (!def || !resourcesConflict(c.def, def)) continue;
        const by = other.holders.map((h) => `${h} (${status[graph.index.get(h) as number]})`).join(', ');
        conflicts.push(`resource ${c.resource} conflicts with ${rid} (ConflictsWith in the resource registry), held by ${by}`);
      }
    }
    if (conflicts.length > 0) {
      reasonsFor.set(v, say ? conflicts : UNSAID);
      continue;
    }
    take(v, claims);
    if (wsFilter !== undefined && wsOf(v) !== wsFilter) continue;
    const t = graph.tasks[v] as TaskDefinition;
    const info = analysis.info[v];
    ready.push({
      task_id: t.task_id,
      workstream_id: wsOf(v),
      name: String(t.name ?? ''),
      status: status[v] as string,
      estimated_duration_seconds: analysis.est[v] as number,
      estimate_source: info?.source ?? 'none',
      slack_seconds: cpm.slack[v] as number,
      critical: (cpm.slack[v] as number) === 0,
      priority: priorityOf(v),
      resources: (t.resource_requirements ?? {}) as Record<string, unknown>,
    });
  }
  // In node order (= id order), without sorting the map's entries.
  for (let v = 0; v < graph.n; v++) {
    const reasons = reasonsFor.get(v);
    if (reasons === undefined || (wsFilter !== undefined && wsOf(v) !== wsFilter)) continue;
    blocked.push({ task_id: graph.ids[v] as string, workstream_id: wsOf(v), status: status[v] as string, reasons });
  }
  return { ready, blocked, holders };
}
