/**
 * Stages, weighted critical path and resource-aware packing for one
 * workstream (DAG-VIEW-003, CONC-REG-002). Pure: data in, data out.
 *
 * Public API:
 *   - estimateAll(graph, history): { seconds: Float64Array; info: Estimate[] }   (stable)
 *   - criticalPath(graph, order, included, est): CpmResult                       (stable; CPM, iterative, linear)
 *   - planWorkstream(graph, k, options): { plan?: PlanData; problems: PlanProblem[] } (stable)
 *   - scheduleWorkstream(graph, k, options): Schedule (stable; the same computation without output objects)
 *   - claimsOf(task, resources): { claims; problems }                            (stable)
 *   - lptMakespan(durations, slots)                                              (stable)
 *   - types PlanData, PlanStage, StageResource, PlanProblem, ResourceLike, PlanTask (stable)
 * Rules (also written into the plan schema's descriptions):
 *   - Stages follow the longest-path level inside the workstream (dependencies
 *     outside it are preconditions listed in `external_dependencies`). A level
 *     is split into consecutive stages, first-fit in order of least slack,
 *     higher `priority`, longer estimate, id, so that no stage has more than
 *     `max_parallelism` tasks, two holders of an exclusive resource (a resource
 *     of Type exclusive, or any claim written "exclusive"), or more units of a
 *     shared/rate-limited/pooled resource than its MaxHolders (-1 = unlimited),
 *     or holders of two resources that conflict (ConflictsWith, unless
 *     CompatibleWith; see ./resources.ts). Ties after `priority` go to the
 *     task whose claimed resources have the higher registry Priority.
 *     A claim "shared" is 1 unit; a number is that many units.
 *   - Stage duration = the tasks' estimates packed into min(max_parallelism,
 *     tasks) slots, longest first (LPT); then, for each rate-limited resource,
 *     at least units ÷ RefillRate seconds: a stage never draws units faster
 *     than the resource refills (`rate_limit_wait_seconds` says when that
 *     stretched the stage).
 *   - Critical path = a longest path by estimated duration (weights on
 *     nodes), ties broken by smaller id; `critical_path_duration` is its sum;
 *     `total_estimated_duration` is the sum of the stage durations (stages run
 *     one after another), so it is never below the critical path.
 *   - A plan that can never run (unknown resource, a claim above a resource's
 *     capacity, a cycle) yields problems and no plan.
 * Integration points: src/graph/files.ts, `orc-state plan|ready`, rules.
 * Dependencies: ./graph.js, ./estimates.js, ../model.js (types).
 */
import type { ResourceClaim } from '../model.js';
import { estimateTask, round3, type Estimate, type RunHistory } from './estimates.js';
import { workstreamOrder, type GraphTask, type TaskGraph } from './graph.js';
import { claimPriority, resourcesConflict, type ResourceLike } from './resources.js';

export interface PlanTask extends GraphTask {
  name?: unknown;
  type?: unknown;
  status?: unknown;
  priority?: unknown;
  execution?: { estimated_duration_seconds?: unknown; timeout_seconds?: unknown };
  resource_requirements?: unknown;
}

export type { ResourceLike } from './resources.js';

export interface StageResource {
  type: string;
  /** MaxHolders of the resource (-1 = unlimited; exclusive resources: 1). */
  capacity: number;
  /** Units this stage draws (exclusive holds count 1). */
  units: number;
  holders: Array<{ task_id: string; claim: ResourceClaim }>;
}

export interface PlanStage {
  stage: number;
  parallel_tasks: string[];
  max_parallelism: number;
  estimated_duration_seconds: number;
  critical_path: boolean;
  resource_requirements: Record<string, StageResource>;
  rate_limit_wait_seconds?: number;
}

export interface PlanTaskInfo {
  stage: number;
  estimated_duration_seconds: number;
  estimate_source: Estimate['source'];
  estimate_runs?: number;
  earliest_start_seconds: number;
  slack_seconds: number;
}

export interface PlanData {
  workstream_id: string;
  max_parallelism: number;
  stages: PlanStage[];
  total_estimated_duration: number;
  critical_path_duration: number;
  critical_path_tasks: string[];
  tasks: Record<string, PlanTaskInfo>;
  external_dependencies: Array<{ task_id: string; depends_on: string; workstream_id: string }>;
}

export type PlanProblem =
  | { kind: 'cycle'; workstream: string; tasks: string[] }
  | { kind: 'unknown-resource'; task: string; resource: string; known: string[] }
  | { kind: 'over-capacity'; task: string; resource: string; units: number; capacity: number }
  | { kind: 'invalid-claim'; task: string; resource: string; claim: unknown };

export interface NormalClaim {
  resource: string;
  claim: ResourceClaim;
  /** Needs the resource alone in its stage. */
  exclusive: boolean;
  units: number;
  def: ResourceLike;
}

/** Normalise a task's `resource_requirements` against the registry. */
export function claimsOf(
  task: PlanTask,
  resources: ReadonlyMap<string, ResourceLike>,
): { claims: NormalClaim[]; problems: PlanProblem[] } {
  const claims: NormalClaim[] = [];
  const problems: PlanProblem[] = [];
  const req = task.resource_requirements;
  if (req === undefined || req === null || typeof req !== 'object' || Array.isArray(req)) return { claims, problems };
  for (const resource of Object.keys(req).sort()) {
    const claim = (req as Record<string, unknown>)[resource];
    const def = resources.get(resource);
    if (!def) {
      problems.push({ kind: 'unknown-resource', task: task.task_id, resource, known: [...resources.keys()].sort() });
      continue;
    }
    let units: number;
    let exclusive: boolean;
    if (claim === 'exclusive') {
      exclusive = true;
      units = 1;
    } else if (claim === 'shared') {
      exclusive = def.Type === 'exclusive';
      units = 1;
    } else if (typeof claim === 'number' && Number.isFinite(claim) && claim > 0) {
      exclusive = def.Type === 'exclusive';
      units = exclusive ? 1 : claim;
    } else {
      problems.push({ kind: 'invalid-claim', task: task.task_id, resource, claim });
      continue;
    }
    const capacity = capacityOf(def);
    if (capacity === 0 || (capacity > 0 && units > capacity)) {
      problems.push({ kind: 'over-capacity', task: task.task_id, resource, units, capacity });
      continue;
    }
    claims.push({ resource, claim: claim as ResourceClaim, exclusive, units, def });
  }
  return { claims, problems };
}

export function capacityOf(def: ResourceLike): number {
  if (def.Type === 'exclusive') return def.MaxHolders === 0 ? 0 : 1;
  return typeof def.MaxHolders === 'number' && Number.isFinite(def.MaxHolders) ? def.MaxHolders : -1;
}

export function estimateAll(graph: TaskGraph<PlanTask>, history?: RunHistory): { seconds: Float64Array; info: Estimate[] } {
  const seconds = new Float64Array(graph.n);
  const info: Estimate[] = new Array(graph.n);
  for (let i = 0; i < graph.n; i++) {
    const e = estimateTask(graph.tasks[i] as PlanTask, history);
    info[i] = e;
    seconds[i] = e.seconds;
  }
  return { seconds, info };
}

export interface CpmResult {
  /** Earliest finish per node (only meaningful for included nodes). */
  ef: Float64Array;
  slack: Float64Array;
  length: number;
  /** Node numbers from the first task to the last (execution order). */
  path: number[];
}

/**
 * Critical path method over `order` (a topological order, dependencies first)
 * using only edges whose both ends satisfy `included`. Linear, iterative.
 */
export function criticalPath(graph: TaskGraph, order: ArrayLike<number>, included: (v: number) => boolean, est: Float64Array): CpmResult {
  const { depStart, deps, outStart, outs } = graph;
  const ef = new Float64Array(graph.n);
  const pred = new Int32Array(graph.n).fill(-1);
  let endNode = -1;
  let best = -1;
  for (let j = 0; j < order.length; j++) {
    const v = order[j] as number;
    let start = 0;
    let p = -1;
    for (let e = depStart[v] as number, end = depStart[v + 1] as number; e < end; e++) {
      const d = deps[e] as number;
      if (!included(d)) continue;
      const f = ef[d] as number;
      if (f > start || (f === start && (p === -1 || d < p))) {
        start = f;
        p = d;
      }
    }
    const f = start + (est[v] as number);
    ef[v] = f;
    pred[v] = p;
    if (f > best || (f === best && v < endNode)) {
      best = f;
      endNode = v;
    }
  }
  const length = best < 0 ? 0 : best;
  const lf = new Float64Array(graph.n);
  const slack = new Float64Array(graph.n);
  for (let j = order.length - 1; j >= 0; j--) {
    const v = order[j] as number;
    let latest = length;
    for (let e = outStart[v] as number, end = outStart[v + 1] as number; e < end; e++) {
      const w = outs[e] as number;
      if (!included(w)) continue;
      const s = (lf[w] as number) - (est[w] as number);
      if (s < latest) latest = s;
    }
    lf[v] = latest;
    slack[v] = round3(latest - (ef[v] as number));
  }
  const path: number[] = [];
  for (let v = endNode; v !== -1; v = pred[v] as number) path.push(v);
  path.reverse();
  return { ef, slack, length, path };
}

/** Longest-processing-time-first packing of durations into `slots` parallel slots. */
export function lptMakespan(durations: readonly number[], slots: number): number {
  if (durations.length === 0) return 0;
  if (durations.length <= slots) {
    let max = 0;
    for (const d of durations) if (d > max) max = d;
    return max;
  }
  const sorted = [...durations].sort((a, b) => b - a);
  const k = Math.max(1, Math.min(slots, sorted.length));
  // Binary min-heap of slot loads.
  const heap = new Float64Array(k);
  for (const d of sorted) {
    heap[0] = (heap[0] as number) + d;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < k && (heap[l] as number) < (heap[m] as number)) m = l;
      if (r < k && (heap[r] as number) < (heap[m] as number)) m = r;
      if (m === i) break;
      const t = heap[i] as number;
      heap[i] = heap[m] as number;
      heap[m] = t;
      i = m;
    }
  }
  let max = 0;
  for (let i = 0; i < k; i++) if ((heap[i] as number) > max) max = heap[i] as number;
  return max;
}

const NO_CLAIMS: NormalClaim[] = [];
const NO_KEYS: string[] = [];

interface OpenStage {
  tasks: number[];
  use: Map<string, { units: number; exclusive: boolean; holders: number }>;
  /** Definitions of the resources held in this stage that conflict with something (ConflictsWith set). */
  defs?: Map<string, ResourceLike>;
}

const hasConflictRules = (def: ResourceLike): boolean => (def.ConflictsWith?.length ?? 0) > 0;

function fits(stage: OpenStage, claims: NormalClaim[], maxParallel: number, anyConflicts: boolean): boolean {
  if (stage.tasks.length >= maxParallel) return false;
  if (anyConflicts && stage.use.size > 0) {
    for (const c of claims) {
      for (const [rid, u] of stage.use) {
        if (u.holders === 0 || rid === c.resource) continue;
        const other = stage.defs?.get(rid);
        if (other && resourcesConflict(c.def, other)) return false;
      }
    }
  }
  for (const c of claims) {
    const u = stage.use.get(c.resource);
    if (!u || u.holders === 0) continue;
    if (u.exclusive || c.exclusive) return false;
    const cap = capacityOf(c.def);
    if (cap >= 0 && u.units + c.units > cap) return false;
  }
  return true;
}

function saturated(stage: OpenStage, resource: string, def: ResourceLike): boolean {
  const u = stage.use.get(resource);
  if (!u || u.holders === 0) return false;
  if (u.exclusive) return true;
  const cap = capacityOf(def);
  return cap >= 0 && u.units >= cap;
}

export interface PlanOptions {
  maxParallel: number;
  resources: ReadonlyMap<string, ResourceLike>;
  est: Float64Array;
  info: Estimate[];
  /** Reused buffers for workstreamOrder (graph-sized). */
  scratch?: { indeg: Int32Array; level: Int32Array };
}

/** Plan one workstream (index k into graph.workstreams). */
export interface Schedule {
  problems: PlanProblem[];
  order?: Int32Array;
  level?: Int32Array;
  cpm?: CpmResult;
  onPath?: Uint8Array;
  maxParallel: number;
  /** Stages in order: node numbers (ascending), duration (s), LPT makespan (s), rate-limit floor (s). */
  stages?: Array<{ tasks: number[]; duration: number; makespan: number; wait: number; use: OpenStage['use'] }>;
  claimsByNode?: Map<number, NormalClaim[]>;
}

/**
 * The scheduling itself, without building any output object: order, levels,
 * critical path, and the packing of each level into stages. Linear apart
 * from the per-level sort.
 */
export function scheduleWorkstream(graph: TaskGraph<PlanTask>, k: number, options: PlanOptions): Schedule {
  const wsName = graph.workstreams[k] as string;
  const members = graph.members[k] as Int32Array;
  const problems: PlanProblem[] = [];
  const maxParallel = Math.max(1, Math.floor(options.maxParallel));
  const cyclicMembers: string[] = [];
  for (const v of members) if (graph.cyclic[v]) cyclicMembers.push(graph.ids[v] as string);
  if (cyclicMembers.length > 0) return { problems: [{ kind: 'cycle', workstream: wsName, tasks: cyclicMembers }], maxParallel };
  const wo = workstreamOrder(graph, k, options.scratch);
  if (!wo.acyclic) {
    return { problems: [{ kind: 'cycle', workstream: wsName, tasks: members.length ? [graph.ids[members[0] as number] as string] : [] }], maxParallel };
  }

  const claimsByNode = new Map<number, NormalClaim[]>();
  for (const v of members) {
    if ((graph.tasks[v] as PlanTask).resource_requirements === undefined) continue;
    const { claims, problems: p } = claimsOf(graph.tasks[v] as PlanTask, options.resources);
    if (claims.length > 0) claimsByNode.set(v, claims);
    problems.push(...p);
  }
  if (problems.length > 0) return { problems, order: wo.order, level: wo.level, maxParallel };
  let anyConflicts = false;
  for (const def of options.resources.values()) if (hasConflictRules(def)) anyConflicts = true;

  const { ws } = graph;
  const est = options.est;
  const inWs = (v: number): boolean => ws[v] === k;
  const cpm = criticalPath(graph, wo.order, inWs, est);
  const onPath = new Uint8Array(graph.n);
  for (const v of cpm.path) onPath[v] = 1;

  const stages: NonNullable<Schedule['stages']> = [];
  const priorityOf = (v: number): number => {
    const p = (graph.tasks[v] as PlanTask).priority;
    return typeof p === 'number' && Number.isFinite(p) ? p : 0;
  };
  // Level buckets are contiguous in wo.order.
  let i = 0;
  const order = wo.order;
  while (i < order.length) {
    const lv = wo.level[order[i] as number] as number;
    let j = i;
    while (j < order.length && wo.level[order[j] as number] === lv) j++;
    const bucket = Array.from(order.subarray(i, j));
    i = j;
    if (bucket.length > 1) {
      bucket.sort(
        (a, b) =>
          (cpm.slack[a] as number) - (cpm.slack[b] as number) ||
          priorityOf(b) - priorityOf(a) ||
          claimPriority(claimsByNode.get(b) ?? NO_CLAIMS) - claimPriority(claimsByNode.get(a) ?? NO_CLAIMS) ||
          (est[b] as number) - (est[a] as number) ||
          a - b,
      );
    }
    const open: OpenStage[] = [];
    let firstOpen = 0;
    let firstFree: Map<string, number> | undefined;
    for (const v of bucket) {
      const claims = claimsByNode.get(v) ?? NO_CLAIMS;
      let s = firstOpen;
      if (claims.length > 0) firstFree ??= new Map();
      for (const c of claims) s = Math.max(s, firstFree?.get(c.resource) ?? 0);
      while (s < open.length && !fits(open[s] as OpenStage, claims, maxParallel, anyConflicts)) s++;
      if (s === open.length) open.push({ tasks: [], use: new Map() });
      const stage = open[s] as OpenStage;
      stage.tasks.push(v);
      for (const c of claims) {
        const u = stage.use.get(c.resource) ?? { units: 0, exclusive: false, holders: 0 };
        u.units += c.units;
        u.holders += 1;
        u.exclusive = u.exclusive || c.exclusive;
        stage.use.set(c.resource, u);
        if (anyConflicts) (stage.defs ??= new Map()).set(c.resource, c.def);
        let p = firstFree?.get(c.resource) ?? 0;
        while (p < open.length && saturated(open[p] as OpenStage, c.resource, c.def)) p++;
        firstFree?.set(c.resource, p);
      }
      while (firstOpen < open.length && (open[firstOpen] as OpenStage).tasks.length >= maxParallel) firstOpen++;
    }
    for (const stage of open) {
      const tasks = stage.tasks.length > 1 ? stage.tasks.sort((a, b) => a - b) : stage.tasks;
      let wait = 0;
      for (const resource of stage.use.keys()) {
        let units = 0;
        let def: ResourceLike | undefined;
        for (const v of tasks) {
          for (const c of claimsByNode.get(v) ?? NO_CLAIMS) {
            if (c.resource !== resource) continue;
            units += c.units;
            def = c.def;
          }
        }
        if (def && def.Type === 'rate_limited' && typeof def.RefillRate === 'number' && def.RefillRate > 0) wait = Math.max(wait, units / def.RefillRate);
      }
      let makespan: number;
      if (tasks.length <= maxParallel) {
        makespan = 0;
        for (const v of tasks) if ((est[v] as number) > makespan) makespan = est[v] as number;
      } else {
        makespan = lptMakespan(
          tasks.map((v) => est[v] as number),
          maxParallel,
        );
      }
      stages.push({ tasks, duration: round3(Math.max(makespan, wait)), makespan, wait, use: stage.use });
    }
  }
  return { problems, order: wo.order, level: wo.level, cpm, onPath, maxParallel, stages, claimsByNode };
}

/** Plan one workstream (index k into graph.workstreams): the schedule, then the plan object. */
export function planWorkstream(
  graph: TaskGraph<PlanTask>,
  k: number,
  options: PlanOptions,
): { plan?: PlanData; problems: PlanProblem[]; order?: Int32Array; level?: Int32Array } {
  const sched = scheduleWorkstream(graph, k, options);
  const { problems, order, level } = sched;
  const base = { problems, ...(order ? { order } : {}), ...(level ? { level } : {}) };
  if (!sched.stages || !sched.cpm || !sched.onPath || !sched.claimsByNode) return base;
  const { cpm, onPath, claimsByNode, maxParallel } = sched;
  const est = options.est;
  const ws = graph.ws;
  const wsName = graph.workstreams[k] as string;
  const members = graph.members[k] as Int32Array;
  const stages: PlanStage[] = [];
  const stageOf = new Int32Array(graph.n);
  for (const raw of sched.stages) {
    const number = stages.length + 1;
    const tasks = raw.tasks;
    const resourceReq: Record<string, StageResource> = {};
    for (const resource of raw.use.size > 0 ? [...raw.use.keys()].sort() : NO_KEYS) {
      const holders: StageResource['holders'] = [];
      let def: ResourceLike | undefined;
      let units = 0;
      for (const v of tasks) {
        for (const c of claimsByNode.get(v) ?? NO_CLAIMS) {
          if (c.resource !== resource) continue;
          holders.push({ task_id: graph.ids[v] as string, claim: c.claim });
          units += c.units;
          def = c.def;
        }
      }
      if (!def) continue;
      resourceReq[resource] = { type: def.Type, capacity: capacityOf(def), units, holders };
    }
    let critical = false;
    const ids: string[] = new Array(tasks.length);
    for (let t = 0; t < tasks.length; t++) {
      const v = tasks[t] as number;
      ids[t] = graph.ids[v] as string;
      if (onPath[v] === 1) critical = true;
      stageOf[v] = number;
    }
    const entry: PlanStage = {
      stage: number,
      parallel_tasks: ids,
      max_parallelism: maxParallel,
      estimated_duration_seconds: raw.duration,
      critical_path: critical,
      resource_requirements: resourceReq,
    };
    if (raw.wait > raw.makespan) entry.rate_limit_wait_seconds = round3(raw.wait - raw.makespan);
    stages.push(entry);
  }

  const taskInfo: Record<string, PlanTaskInfo> = {};
  const external: PlanData['external_dependencies'] = [];
  for (const v of members) {
    const e = options.info[v] as Estimate;
    const info: PlanTaskInfo = {
      stage: stageOf[v] as number,
      estimated_duration_seconds: e.seconds,
      estimate_source: e.source,
      earliest_start_seconds: round3((cpm.ef[v] as number) - (est[v] as number)),
      slack_seconds: cpm.slack[v] as number,
    };
    if (e.runs !== undefined) info.estimate_runs = e.runs;
    taskInfo[graph.ids[v] as string] = info;
    for (let e2 = graph.depStart[v] as number, end = graph.depStart[v + 1] as number; e2 < end; e2++) {
      const d = graph.deps[e2] as number;
      if (ws[d] !== k) {
        external.push({ task_id: graph.ids[v] as string, depends_on: graph.ids[d] as string, workstream_id: graph.workstreams[ws[d] as number] as string });
      }
    }
  }
  external.sort((a, b) => (a.task_id < b.task_id ? -1 : a.task_id > b.task_id ? 1 : a.depends_on < b.depends_on ? -1 : a.depends_on > b.depends_on ? 1 : 0));
  let total = 0;
  for (const s2 of stages) total += s2.estimated_duration_seconds;
  return {
    ...base,
    plan: {
      workstream_id: wsName,
      max_parallelism: maxParallel,
      stages,
      total_estimated_duration: round3(total),
      critical_path_duration: round3(cpm.length),
      critical_path_tasks: cpm.path.map((v) => graph.ids[v] as string),
      tasks: taskInfo,
      external_dependencies: external,
    },
  };
}
