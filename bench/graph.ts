/**
 * Benchmark of the dependency graph (issue 4): build graph, detect cycles,
 * stages + critical path, write every DAG and plan file, next to a bare Kahn
 * topological sort of the same edge list measured in the same run; then the
 * watch latency from a file save to updated plan files.
 *
 * Usage: npm run bench:graph -- [tasks] [--edges-per-task K] [--watch-saves N] [--no-watch]
 *   default: 10,000 tasks × 5 deps (50,000 edges) and 100,000 tasks × 3 deps; watch at 10,000 tasks.
 *   `npm run bench:graph -- 2000` is a quick run (2,000 tasks, watch at 2,000).
 * Public API: none (script). Dependencies: ../src/graph/*, ../src/repo/load-tasks.js, ../src/util/random.js.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze, buildExecutionPlan, buildDagFile, writeAnalysisFiles } from '../src/graph/files.js';
import { buildGraph } from '../src/graph/graph.js';
import { estimateAll, scheduleWorkstream } from '../src/graph/plan.js';
import { RunHistory } from '../src/graph/estimates.js';
import { startWatch, type WatchUpdate } from '../src/graph/watch.js';
import type { TaskDefinition } from '../src/model.js';
import { rng } from '../src/util/random.js';

interface Args {
  sizes: Array<{ tasks: number; deps: number }>;
  watchTasks: number;
  watchSaves: number;
  watch: boolean;
}

function parseArgs(argv: string[]): Args {
  const positional = argv.filter((a, i) => /^\d+$/.test(a) && !(argv[i - 1] ?? '').startsWith('--')).map(Number);
  const flag = (name: string): number | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] ? Number(argv[i + 1]) : undefined;
  };
  const deps = flag('--edges-per-task');
  const sizes = positional.length > 0 ? positional.map((n) => ({ tasks: n, deps: deps ?? 5 })) : [{ tasks: 10_000, deps: 5 }, { tasks: 100_000, deps: deps ?? 3 }];
  return { sizes, watchTasks: positional[0] ?? 10_000, watchSaves: flag('--watch-saves') ?? 60, watch: !argv.includes('--no-watch') };
}

/** n tasks in n/1000 workstreams (at least 1); each task depends on `deps` random earlier tasks (10% in other workstreams). */
function generate(n: number, deps: number, seed = 7): TaskDefinition[] {
  const r = rng(seed);
  const wsCount = Math.max(1, Math.round(n / 1000));
  const id = (i: number): string => `t${String(i).padStart(6, '0')}`;
  const tasks: TaskDefinition[] = [];
  for (let i = 0; i < n; i++) {
    const ws = i % wsCount;
    const set = new Set<string>();
    const want = Math.min(deps, Math.floor(i / wsCount));
    let guard = 0;
    while (set.size < want && guard++ < deps * 10) {
      const cross = r() < 0.1;
      const j = Math.floor(r() * i);
      if (!cross && j % wsCount !== ws) continue;
      set.add(id(j));
    }
    tasks.push({
      schema_version: '2.0.0',
      schema_url: 'https://orc-state.dev/schemas/task/2.0.0.json',
      task_id: id(i),
      workstream_id: `ws${String(ws).padStart(3, '0')}`,
      name: `Task ${i}`,
      description: `Generated task ${i}.`,
      type: 'custom',
      status: 'pending',
      dependencies: [...set],
      blocks: [],
      worker_requirements: { capabilities: [] },
      execution: { command: 'true', timeout_seconds: 600, max_retries: 0, estimated_duration_seconds: 1 + Math.floor(r() * 600) },
      context_requirements: { max_context_tokens: 8000, required_files: [], exclude_patterns: [] },
      validation_rules: { pre_execution: [], post_execution: [] },
      state: { created_at: '2026-11-20T09:00:00Z', retry_count: 0 },
    });
  }
  const blocks = new Map<string, string[]>();
  for (const t of tasks) for (const d of t.dependencies) (blocks.get(d) ?? blocks.set(d, []).get(d)!).push(t.task_id);
  for (const t of tasks) t.blocks = (blocks.get(t.task_id) ?? []).sort();
  return tasks;
}

/** The baseline: the bare minimum any topological sort of this edge list must do. */
function bareKahn(tasks: TaskDefinition[]): number {
  const n = tasks.length;
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) index.set((tasks[i] as TaskDefinition).task_id, i);
  const indeg = new Int32Array(n);
  const outs: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    for (const d of (tasks[i] as TaskDefinition).dependencies) {
      const j = index.get(d);
      if (j === undefined) continue;
      outs[j]!.push(i);
      indeg[i]!++;
    }
  }
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let i = 0; i < n; i++) if (indeg[i] === 0) queue[tail++] = i;
  while (head < tail) {
    const v = queue[head++] as number;
    for (const w of outs[v] as number[]) if (--indeg[w]! === 0) queue[tail++] = w;
  }
  return tail;
}

const ms = (x: number): string => `${x.toFixed(1)} ms`;
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)] as number) : 0;
}
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number) : 0;
}
function time<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const v = fn();
  return [v, performance.now() - t];
}

async function planning(n: number, deps: number): Promise<void> {
  const tasks = generate(n, deps);
  const edges = tasks.reduce((a, t) => a + t.dependencies.length, 0);
  console.log(`\n== ${n.toLocaleString('en')} tasks, ${edges.toLocaleString('en')} edges, ${Math.max(1, Math.round(n / 1000))} workstreams ==`);
  // Warm-up (JIT) on both sides, then best of 3.
  bareKahn(tasks);
  buildGraph(tasks);
  const kahnRuns: number[] = [];
  for (let i = 0; i < 3; i++) kahnRuns.push(time(() => bareKahn(tasks))[1]);
  const kahn = Math.min(...kahnRuns);

  const fakeSet = { tasks: new Map(tasks.map((t) => [t.task_id, { task: t, file: `tasks/${t.workstream_id}/${t.task_id}.json`, locate: () => ({ line: 1, column: 1 }) }])) };
  const runs: Array<{ build: number; cycles: number; schedule: number; plan: number; total: number }> = [];
  let cycleInfo = '';
  for (let rep = 0; rep < 3; rep++) {
    const [graph, build] = time(() => buildGraph(tasks));
    if (graph.order.length !== n) throw new Error('generated graph has a cycle');
    // Cycle detection cost: the same graph with one back edge (Kahn leftovers → iterative Tarjan → path).
    const cyclic = tasks.slice();
    const last = cyclic[n - 1] as TaskDefinition;
    // Walk from the last task down its first dependencies to a root, and make that root depend on the last
    // task: a long cycle, and most of the graph downstream of it left for Tarjan.
    const byId = new Map(cyclic.map((t) => [t.task_id, t]));
    let firstDep: string | undefined = last.task_id;
    for (let guard = 0; guard < n; guard++) {
      const next: string | undefined = byId.get(firstDep as string)?.dependencies[0];
      if (!next) break;
      firstDep = next;
    }
    let cycles = 0;
    if (firstDep && firstDep !== last.task_id) {
      const root = cyclic.findIndex((t) => t.task_id === firstDep);
      cyclic[root] = { ...(cyclic[root] as TaskDefinition), dependencies: [...(cyclic[root] as TaskDefinition).dependencies, last.task_id] };
      const [cg, c] = time(() => buildGraph(cyclic));
      const cycle = cg.issues.find((i) => i.kind === 'cycle');
      if (!cycle || cycle.kind !== 'cycle') throw new Error('cycle not found');
      cycles = c;
      cycleInfo = `${cg.n - cg.order.length} tasks left by Kahn, reported cycle of ${cycle.path.length - 1}`;
    }
    // Graph + cycle check + estimates + per-workstream order, levels, critical path and stage packing (no output objects).
    const [, schedule] = time(() => {
      const g = buildGraph(tasks);
      const { seconds: est, info } = estimateAll(g);
      const scratch = { indeg: new Int32Array(g.n), level: new Int32Array(g.n) };
      for (let k = 0; k < g.workstreams.length; k++) scheduleWorkstream(g, k, { maxParallel: 8, resources: new Map(), est, info, scratch });
    });
    const [, plan] = time(() => {
      const analysis = analyze({ taskSet: fakeSet, snapshot: null, resources: new Map(), history: new RunHistory(), maxParallel: 8 });
      for (let k = 0; k < analysis.graph.workstreams.length; k++) {
        buildDagFile(analysis, k, '2026-11-21T00:00:00.000Z');
        buildExecutionPlan(analysis, k, '2026-11-21T00:00:00.000Z');
      }
    });
    runs.push({ build, cycles, schedule, plan, total: plan });
  }
  const best = runs.reduce((a, b) => (b.total < a.total ? b : a));
  console.log(`baseline bare Kahn sort of the edge list : ${ms(kahn)}  (${Math.round((n / kahn) * 1000).toLocaleString('en')} tasks/s)`);
  console.log(`build graph (CSR, Kahn order, cycle check): ${ms(best.build)}  = ${(best.build / kahn).toFixed(2)}x baseline`);
  const bestBuild = Math.min(...runs.map((r) => r.build));
  const bestCyclic = Math.min(...runs.map((r) => r.cycles));
  console.log(`build graph with one back edge (Kahn, then iterative Tarjan + BFS path): ${ms(bestCyclic)}  (+${ms(Math.max(0, bestCyclic - bestBuild))}; ${cycleInfo})`);
  const bestSchedule = Math.min(...runs.map((r) => r.schedule));
  console.log(`planning (graph, cycle check, estimates, order, levels, critical path, stages): ${ms(bestSchedule)}  = ${(bestSchedule / kahn).toFixed(2)}x baseline`);
  console.log(`  + building the DAG and plan objects for every workstream: ${ms(best.total)}  = ${(best.total / kahn).toFixed(2)}x baseline`);

  const dir = mkdtempSync(join(tmpdir(), 'orc-bench-graph-'));
  try {
    mkdirSync(join(dir, '.state'));
    const analysis = analyze({ taskSet: fakeSet, snapshot: null, resources: new Map(), history: new RunHistory(), maxParallel: 8 });
    const t = performance.now();
    const result = await writeAnalysisFiles(dir, analysis);
    const write = performance.now() - t;
    let bytes = 0;
    for (const f of result.written) bytes += readFileSync(join(dir, f)).length;
    console.log(`write all DAG + plan files (${result.written.length} files, ${(bytes / 1e6).toFixed(1)} MB, durable: fsync + rename + dir fsync): ${ms(write)}`);
    console.log(`end to end (planning, objects, serialising, durable writes): ${ms(best.total + write)}  = ${((best.total + write) / kahn).toFixed(2)}x baseline`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function watchLatency(n: number, saves: number): Promise<void> {
  const tasks = generate(n, 5, 11);
  const dir = mkdtempSync(join(tmpdir(), 'orc-bench-watch-'));
  try {
    for (const t of tasks) {
      mkdirSync(join(dir, 'tasks', t.workstream_id), { recursive: true });
      writeFileSync(join(dir, 'tasks', t.workstream_id, `${t.task_id}.json`), `${JSON.stringify(t, null, 2)}\n`);
    }
    mkdirSync(join(dir, '.state'));
    const debounceMs = 20;
    const t0 = performance.now();
    const watcher = startWatch(dir, { debounceMs, retryMs: 50, metricsIntervalMs: 0 });
    let waiting: { file: string; resolve: (u: WatchUpdate) => void } | undefined;
    watcher.on('update', (u) => {
      if (waiting && u.files.includes(waiting.file) && u.written.some((w) => w.includes('execution_plan_'))) waiting.resolve(u);
    });
    await watcher.ready;
    console.log(`\n== watch at ${n.toLocaleString('en')} task files (debounce ${debounceMs} ms) ==`);
    console.log(`initial load + derive of every file: ${ms(performance.now() - t0)}`);
    const r = rng(3);
    const endToEnd: number[] = [];
    const processing: number[] = [];
    const phaseRuns: Array<WatchUpdate['phases']> = [];
    for (let i = 0; i < saves; i++) {
      const t = tasks[Math.floor(r() * n)] as TaskDefinition;
      t.execution.estimated_duration_seconds = 1 + ((t.execution.estimated_duration_seconds ?? 0) + 97) % 900;
      const rel = `tasks/${t.workstream_id}/${t.task_id}.json`;
      const done = new Promise<WatchUpdate>((resolve) => (waiting = { file: rel, resolve }));
      const start = performance.now();
      writeFileSync(join(dir, rel), `${JSON.stringify(t, null, 2)}\n`);
      const timeout = new Promise<undefined>((res) => setTimeout(() => res(undefined), 10_000));
      const u = await Promise.race([done, timeout]);
      waiting = undefined;
      if (!u) {
        console.log(`save ${i}: no plan update within 10 s (estimate change may not alter the plan bytes)`);
        continue;
      }
      endToEnd.push(performance.now() - start);
      processing.push(u.elapsedMs);
      phaseRuns.push(u.phases);
      await new Promise((res) => setTimeout(res, 5));
    }
    await watcher.close();
    console.log(`save → plan file rewritten (end to end, includes the ${debounceMs} ms debounce and fs event delivery): median ${ms(median(endToEnd))}, p95 ${ms(pct(endToEnd, 95))}  (${endToEnd.length} saves)`);
    console.log(`processing only (re-read, cross-checks, graph, affected plan, durable writes): median ${ms(median(processing))}, p95 ${ms(pct(processing, 95))}`);
    const phase = (k: keyof WatchUpdate['phases']): string => `${k} ${ms(median(phaseRuns.map((p) => p[k])))}`;
    console.log(`  median by phase: ${phase('read')}, ${phase('derive')} (graph + affected plans), ${phase('write')} (durable, under the lock), ${phase('checks')} (cross-file)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const args = parseArgs(process.argv.slice(2));
for (const s of args.sizes) await planning(s.tasks, s.deps);
if (args.watch) await watchLatency(args.watchTasks, args.watchSaves);
