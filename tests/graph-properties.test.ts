// Property tests over hundreds of seeded random DAGs: stages, critical path, resources, cycles.
import { describe, expect, it } from 'vitest';
import { buildGraph, workstreamOrder, type CycleIssue } from '../src/graph/graph.js';
import { criticalPath, estimateAll, lptMakespan, planWorkstream, type PlanTask, type ResourceLike } from '../src/graph/plan.js';
import { RunHistory } from '../src/graph/estimates.js';
import { rng } from '../src/util/random.js';

const RESOURCES: ResourceLike[] = [
  { ResourceId: 'db', Type: 'exclusive', MaxHolders: 1 },
  { ResourceId: 'gpu', Type: 'shared', MaxHolders: 3 },
  { ResourceId: 'api', Type: 'rate_limited', MaxHolders: 5, RefillRate: 0.5 },
  { ResourceId: 'cache', Type: 'shared', MaxHolders: -1 },
];
const RES = new Map(RESOURCES.map((r) => [r.ResourceId, r]));

function randomDag(seed: number, n: number, wsCount = 1): PlanTask[] {
  const r = rng(seed);
  const tasks: PlanTask[] = [];
  for (let i = 0; i < n; i++) {
    const deps: string[] = [];
    for (let j = 0; j < i; j++) if (r() < 3 / (i + 1)) deps.push(`t${String(j).padStart(3, '0')}`);
    const req: Record<string, unknown> = {};
    const x = r();
    if (x < 0.2) req.db = 'exclusive';
    else if (x < 0.35) req.gpu = r() < 0.5 ? 'shared' : 2;
    else if (x < 0.45) req.api = Math.ceil(r() * 4);
    else if (x < 0.5) req.cache = 'shared';
    else if (x < 0.55) req.gpu = 'exclusive';
    tasks.push({
      task_id: `t${String(i).padStart(3, '0')}`,
      workstream_id: `ws${Math.floor(r() * wsCount)}`,
      dependencies: deps,
      execution: r() < 0.7 ? { estimated_duration_seconds: Math.floor(r() * 100), timeout_seconds: 600 } : { timeout_seconds: Math.ceil(r() * 300) },
      resource_requirements: req,
      priority: Math.floor(r() * 3),
    });
  }
  // Shuffle so input order does not matter.
  for (let i = tasks.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [tasks[i], tasks[j]] = [tasks[j] as PlanTask, tasks[i] as PlanTask];
  }
  return tasks;
}

function longestBruteForce(tasks: Map<string, PlanTask>, est: (id: string) => number, members: Set<string>): number {
  // Enumerate every path by DFS from each node (small graphs only).
  let best = 0;
  const walk = (id: string, acc: number): void => {
    const total = acc + est(id);
    if (total > best) best = total;
    for (const d of tasks.get(id)?.dependencies as string[]) if (members.has(d)) walk(d, total);
  };
  for (const id of members) walk(id, 0);
  return best;
}

describe('plan properties on random DAGs', () => {
  it('holds for 300 seeded graphs (stages, critical path, resources)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const n = 1 + (seed % 13) + (seed % 7 === 0 ? 30 : 0);
      const wsCount = 1 + (seed % 3);
      const maxParallel = 1 + (seed % 5);
      const input = randomDag(seed, n, wsCount);
      const graph = buildGraph(input);
      expect(graph.issues).toEqual([]);
      const { seconds: est, info } = estimateAll(graph, new RunHistory());
      const byId = new Map(input.map((t) => [t.task_id, t]));
      const seen = new Set<string>();
      for (let k = 0; k < graph.workstreams.length; k++) {
        const ws = graph.workstreams[k] as string;
        const result = planWorkstream(graph, k, { maxParallel, resources: RES, est, info });
        expect(result.problems, `seed ${seed}`).toEqual([]);
        const plan = result.plan!;
        const members = new Set(input.filter((t) => t.workstream_id === ws).map((t) => t.task_id));
        // Each task exactly once.
        const stageOf = new Map<string, number>();
        for (const s of plan.stages) {
          expect(s.parallel_tasks.length).toBeGreaterThan(0);
          expect(s.parallel_tasks.length).toBeLessThanOrEqual(maxParallel);
          for (const id of s.parallel_tasks) {
            expect(stageOf.has(id), `seed ${seed}: ${id} twice`).toBe(false);
            stageOf.set(id, s.stage);
            seen.add(id);
          }
          // Resources: never two holders of an exclusive hold, counted capacity respected.
          const units = new Map<string, { units: number; exclusive: number; holders: number }>();
          for (const id of s.parallel_tasks) {
            for (const [rid, claim] of Object.entries((byId.get(id)!.resource_requirements ?? {}) as Record<string, unknown>)) {
              const def = RES.get(rid)!;
              const u = units.get(rid) ?? { units: 0, exclusive: 0, holders: 0 };
              u.holders++;
              if (claim === 'exclusive' || def.Type === 'exclusive') u.exclusive++;
              else u.units += claim === 'shared' ? 1 : (claim as number);
              units.set(rid, u);
            }
          }
          for (const [rid, u] of units) {
            const def = RES.get(rid)!;
            if (u.exclusive > 0) expect(u.holders, `seed ${seed} stage ${s.stage} ${rid}`).toBe(1);
            if (def.MaxHolders >= 0) expect(u.units).toBeLessThanOrEqual(def.MaxHolders);
            if (def.Type === 'rate_limited' && def.RefillRate) {
              expect(s.estimated_duration_seconds + 1e-6).toBeGreaterThanOrEqual(u.units / def.RefillRate);
            }
          }
        }
        expect(new Set(stageOf.keys())).toEqual(members);
        // Dependencies in earlier stages.
        for (const id of members) {
          for (const d of byId.get(id)!.dependencies as string[]) {
            if (members.has(d)) expect(stageOf.get(d)!, `seed ${seed}: ${d} before ${id}`).toBeLessThan(stageOf.get(id)!);
          }
        }
        // Critical path: a real path, its duration the sum, equal to brute force (a longest path).
        const estOf = (id: string): number => est[graph.index.get(id)!] as number;
        const cp = plan.critical_path_tasks;
        expect(cp.length).toBeGreaterThan(0);
        for (let i = 1; i < cp.length; i++) expect(byId.get(cp[i]!)!.dependencies).toContain(cp[i - 1]);
        const sum = cp.reduce((a, id) => a + estOf(id), 0);
        expect(plan.critical_path_duration).toBeCloseTo(sum, 6);
        if (members.size <= 14) expect(plan.critical_path_duration).toBeCloseTo(longestBruteForce(byId, estOf, members), 6);
        expect(plan.total_estimated_duration + 1e-6).toBeGreaterThanOrEqual(plan.critical_path_duration);
        expect(plan.stages.some((s) => s.critical_path)).toBe(true);
        // Slack: zero on the critical path, never negative.
        for (const id of cp) expect(plan.tasks[id]!.slack_seconds).toBe(0);
        for (const id of members) expect(plan.tasks[id]!.slack_seconds).toBeGreaterThanOrEqual(0);
      }
      expect(seen.size).toBe(n);
    }
  });

  it('critical path is at least as long as any path on larger graphs (DP check)', () => {
    for (let seed = 1000; seed < 1100; seed++) {
      const input = randomDag(seed, 60, 1);
      const graph = buildGraph(input);
      const { seconds: est } = estimateAll(graph);
      const wo = workstreamOrder(graph, 0);
      const cpm = criticalPath(graph, wo.order, () => true, est);
      // Independent DP in the other direction (from sinks).
      const memo = new Map<number, number>();
      const tail = (v: number): number => {
        const hit = memo.get(v);
        if (hit !== undefined) return hit;
        let best = 0;
        for (let e = graph.outStart[v]!; e < graph.outStart[v + 1]!; e++) best = Math.max(best, tail(graph.outs[e]!));
        const r = best + est[v]!;
        memo.set(v, r);
        return r;
      };
      let longest = 0;
      for (let v = 0; v < graph.n; v++) longest = Math.max(longest, tail(v));
      expect(cpm.length).toBeCloseTo(longest, 6);
    }
  });

  it('topological order per workstream is (level, id) sorted and valid', () => {
    for (let seed = 2000; seed < 2100; seed++) {
      const input = randomDag(seed, 40, 3);
      const graph = buildGraph(input);
      for (let k = 0; k < graph.workstreams.length; k++) {
        const wo = workstreamOrder(graph, k);
        const pos = new Map<number, number>();
        wo.order.forEach((v, i) => pos.set(v, i));
        expect(pos.size).toBe(graph.members[k]!.length);
        for (const v of wo.order) {
          for (let e = graph.depStart[v]!; e < graph.depStart[v + 1]!; e++) {
            const d = graph.deps[e]!;
            if (graph.ws[d] === k) {
              expect(pos.get(d)!).toBeLessThan(pos.get(v)!);
              expect(wo.level[d]!).toBeLessThan(wo.level[v]!);
            }
          }
        }
      }
    }
  });
});

describe('cycles', () => {
  it('reports a full closing path with the entry positions, for 200 random cyclic graphs', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const input = randomDag(seed, 5 + (seed % 20), 2);
      const r = rng(seed * 7);
      const sorted = [...input].sort((a, b) => (a.task_id < b.task_id ? -1 : 1));
      const lo = sorted[Math.floor(r() * (sorted.length - 1))]!;
      const hi = sorted[sorted.length - 1]!;
      // hi already may depend on lo; make lo depend on hi, closing a cycle via a chain hi -> ... -> lo.
      (hi.dependencies as string[]).push(lo.task_id);
      (lo.dependencies as string[]).push(hi.task_id);
      const graph = buildGraph(input);
      const cycles = graph.issues.filter((i): i is CycleIssue => i.kind === 'cycle');
      expect(cycles.length, `seed ${seed}`).toBeGreaterThan(0);
      const byId = new Map(input.map((t) => [t.task_id, t]));
      for (const c of cycles) {
        expect(c.path[0]).toBe(c.path[c.path.length - 1]);
        expect(c.edges.length).toBe(c.path.length - 1);
        for (const e of c.edges) expect((byId.get(e.task)!.dependencies as string[])[e.position]).toBe(e.target);
        expect(new Set(c.path.slice(0, -1)).size).toBe(c.path.length - 1);
      }
      expect(graph.cyclic[graph.index.get(lo.task_id)!]).toBe(1);
      expect(graph.order.length).toBeLessThan(graph.n);
    }
  });

  it('reports self-dependencies and missing targets, and plans refuse cyclic workstreams', () => {
    const tasks: PlanTask[] = [
      { task_id: 'a', workstream_id: 'w', dependencies: ['c'] },
      { task_id: 'b', workstream_id: 'w', dependencies: ['a', 'ghost'] },
      { task_id: 'c', workstream_id: 'w', dependencies: ['b'] },
      { task_id: 'd', workstream_id: 'v', dependencies: ['d'] },
    ];
    const graph = buildGraph(tasks);
    const cycle = graph.issues.find((i): i is CycleIssue => i.kind === 'cycle')!;
    expect(cycle.path).toEqual(['a', 'c', 'b', 'a']);
    expect(cycle.edges.at(-1)).toEqual({ task: 'b', position: 0, target: 'a' });
    expect(graph.issues).toContainEqual({ kind: 'self', task: 'd', position: 0 });
    expect(graph.issues).toContainEqual({ kind: 'missing', task: 'b', position: 1, target: 'ghost' });
    const { seconds: est, info } = estimateAll(graph);
    for (let k = 0; k < 2; k++) {
      const r = planWorkstream(graph, k, { maxParallel: 2, resources: RES, est, info });
      expect(r.plan).toBeUndefined();
      expect(r.problems[0]?.kind).toBe('cycle');
    }
  });
});

describe('scale without recursion', () => {
  it('plans a 100,000-task chain', () => {
    const n = 100_000;
    const tasks: PlanTask[] = [];
    for (let i = 0; i < n; i++) tasks.push({ task_id: `c${i}`, workstream_id: 'w', dependencies: i ? [`c${i - 1}`] : [], execution: { estimated_duration_seconds: 1, timeout_seconds: 1 } });
    const graph = buildGraph(tasks);
    expect(graph.issues).toEqual([]);
    const { seconds: est, info } = estimateAll(graph);
    const r = planWorkstream(graph, 0, { maxParallel: 4, resources: RES, est, info });
    expect(r.plan!.stages.length).toBe(n);
    expect(r.plan!.critical_path_tasks.length).toBe(n);
    expect(r.plan!.critical_path_duration).toBe(n);
  });

  it('finds a 100,000-task cycle iteratively', () => {
    const n = 100_000;
    const tasks: PlanTask[] = [];
    for (let i = 0; i < n; i++) tasks.push({ task_id: `c${String(i).padStart(6, '0')}`, workstream_id: 'w', dependencies: [`c${String((i + 1) % n).padStart(6, '0')}`] });
    const graph = buildGraph(tasks);
    const cycle = graph.issues.find((i): i is CycleIssue => i.kind === 'cycle')!;
    expect(cycle.path.length).toBe(n + 1);
    expect(cycle.path[0]).toBe('c000000');
  });

  it('plans a 10,000-task / 50,000-edge DAG', () => {
    const n = 10_000;
    const r = rng(42);
    const tasks: PlanTask[] = [];
    let edges = 0;
    for (let i = 0; i < n; i++) {
      const deps = new Set<string>();
      if (i > 0) while (deps.size < Math.min(i, 5)) deps.add(`n${Math.floor(r() * i)}`);
      edges += deps.size;
      tasks.push({ task_id: `n${i}`, workstream_id: `w${i % 10}`, dependencies: [...deps], execution: { estimated_duration_seconds: 1 + Math.floor(r() * 60), timeout_seconds: 60 } });
    }
    expect(edges).toBeGreaterThan(49_900);
    const graph = buildGraph(tasks);
    expect(graph.edgeCount).toBe(edges);
    expect(graph.order.length).toBe(n);
    const { seconds: est, info } = estimateAll(graph);
    let staged = 0;
    for (let k = 0; k < graph.workstreams.length; k++) {
      const p = planWorkstream(graph, k, { maxParallel: 8, resources: RES, est, info }).plan!;
      staged += p.stages.reduce((a, s) => a + s.parallel_tasks.length, 0);
    }
    expect(staged).toBe(n);
  });
});

describe('resources and packing', () => {
  it('refuses unknown resources and claims above capacity', () => {
    const graph = buildGraph<PlanTask>([
      { task_id: 'a', workstream_id: 'w', dependencies: [], resource_requirements: { nope: 'shared' } },
      { task_id: 'b', workstream_id: 'w', dependencies: [], resource_requirements: { gpu: 4 } },
      { task_id: 'c', workstream_id: 'w', dependencies: [], resource_requirements: { gpu: -1 } },
    ]);
    const { seconds: est, info } = estimateAll(graph);
    const r = planWorkstream(graph, 0, { maxParallel: 2, resources: RES, est, info });
    expect(r.plan).toBeUndefined();
    expect(r.problems.map((p) => p.kind).sort()).toEqual(['invalid-claim', 'over-capacity', 'unknown-resource']);
  });

  it('stretches a stage to the refill time of a rate-limited resource', () => {
    const graph = buildGraph<PlanTask>([
      { task_id: 'a', workstream_id: 'w', dependencies: [], resource_requirements: { api: 4 }, execution: { estimated_duration_seconds: 2, timeout_seconds: 9 } },
    ]);
    const { seconds: est, info } = estimateAll(graph);
    const plan = planWorkstream(graph, 0, { maxParallel: 2, resources: RES, est, info }).plan!;
    expect(plan.stages[0]!.estimated_duration_seconds).toBe(8);
    expect(plan.stages[0]!.rate_limit_wait_seconds).toBe(6);
  });

  it('LPT packs into slots', () => {
    expect(lptMakespan([5, 4, 3, 3, 3], 2)).toBe(10);
    expect(lptMakespan([5, 4, 3], 5)).toBe(5);
    expect(lptMakespan([], 3)).toBe(0);
  });
});
