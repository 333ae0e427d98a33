/**
 * `orc-state run --dry-run`: what a run would do, without executing or
 * committing anything — per workstream the stages (tasks that may run
 * together), their parallelism and resources, the critical path; the global
 * start order (least slack, then priority); -j; and the tasks that could not run.
 *
 * Public API (experimental): planRun(options) → Promise<DryRunReport>; DryRunReport.
 * Reads tasks/, the registries, the config and (when present) .state/current.json
 * for statuses; writes nothing (not even derived files).
 * Integration points: src/cli/commands/run.ts, src/index.ts, bench/run.ts (10,000 tasks).
 * Dependencies: ../graph/repo.js, ../graph/files.js, ../graph/plan.js, ./loop.js (defaultJobs), ./admission.js.
 */
import { resolve } from 'node:path';
import { OrcError } from '../errors.js';
import type { TaskDefinition } from '../model.js';
import { loadGraphInputs } from '../graph/repo.js';
import { buildExecutionPlan } from '../graph/files.js';
import { claimsOf, criticalPath, type PlanStage, type PlanTask } from '../graph/plan.js';
import { loadCapabilities } from '../registry/index.js';
import { selfConflict, type RuntimeResource } from './admission.js';
import { defaultJobs } from './loop.js';

export interface DryRunReport {
  ok: true;
  dry_run: true;
  jobs: number;
  capabilities: string[];
  workstreams: Array<{
    workstream_id: string;
    max_parallelism: number;
    stages: PlanStage[];
    critical_path_tasks: string[];
    critical_path_duration: number;
    total_estimated_duration: number;
  }>;
  /** Tasks that would start, in the order the scheduler considers them (least slack, then priority). */
  order: Array<{ task_id: string; workstream_id: string; status: string; slack_seconds: number; priority: number; estimated_duration_seconds: number }>;
  already_completed: number;
  unassignable: Array<{ task_id: string; reason: string }>;
  problems: string[];
  resources: Array<{ id: string; type: string; max_holders: number; refill_rate?: number; conflicts_with?: string[] }>;
}

export async function planRun(options: { root: string; workstreams?: string[]; jobs?: number; capabilities?: string[] }): Promise<DryRunReport> {
  const root = resolve(options.root);
  const inputs = await loadGraphInputs(root);
  const { analysis, taskSet } = inputs;
  const { graph } = analysis;
  const wanted = options.workstreams && options.workstreams.length ? new Set(options.workstreams) : null;
  if (wanted) {
    const unknown = [...wanted].filter((w) => !graph.workstreams.includes(w));
    if (unknown.length) throw new OrcError('USAGE', `no workstream ${unknown.map((u) => `"${u}"`).join(', ')} (known: ${graph.workstreams.join(', ') || 'none'})`, { fix: 'name directories under tasks/, or give no workstream to run all' });
  }
  const resources = inputs.registry.resources as ReadonlyMap<string, RuntimeResource>;
  const offered = options.capabilities ?? [...new Set([...loadCapabilities(root).capabilities.keys(), 'shell'])];
  const generatedAt = new Date().toISOString();
  const workstreams: DryRunReport['workstreams'] = [];
  const problems: string[] = [];
  for (let k = 0; k < graph.workstreams.length; k++) {
    const ws = graph.workstreams[k] as string;
    if (wanted && !wanted.has(ws)) continue;
    const built = buildExecutionPlan(analysis, k, generatedAt);
    for (const f of built.findings) problems.push(`${f.file}:${f.line}:${f.column}: ${f.message}`);
    if (!built.plan) continue;
    const p = built.plan;
    workstreams.push({ workstream_id: ws, max_parallelism: p.max_parallelism, stages: p.stages, critical_path_tasks: p.critical_path_tasks, critical_path_duration: p.critical_path_duration, total_estimated_duration: p.total_estimated_duration });
  }
  const remaining = new Float64Array(graph.n);
  const status: string[] = new Array(graph.n);
  for (let v = 0; v < graph.n; v++) {
    status[v] = analysis.status(v);
    remaining[v] = status[v] === 'completed' || status[v] === 'cancelled' ? 0 : (analysis.est[v] as number);
  }
  const inOrder = new Uint8Array(graph.n);
  for (const v of graph.order) inOrder[v] = 1;
  const cpm = criticalPath(graph, graph.order, (v) => inOrder[v] === 1, remaining);
  const order: DryRunReport['order'] = [];
  const unassignable: DryRunReport['unassignable'] = [];
  let completed = 0;
  const idx: number[] = [];
  for (let v = 0; v < graph.n; v++) {
    const ws = graph.workstreams[graph.ws[v] as number] as string;
    if (wanted && !wanted.has(ws)) continue;
    if (status[v] === 'completed') {
      completed++;
      continue;
    }
    if (status[v] === 'failed' || status[v] === 'cancelled') continue;
    const def = graph.tasks[v] as TaskDefinition;
    const missing = (def.worker_requirements?.capabilities ?? []).filter((c) => !offered.includes(c));
    const claims = claimsOf(def as unknown as PlanTask, resources);
    const pair = selfConflict(claims.claims, resources);
    if (missing.length) unassignable.push({ task_id: def.task_id, reason: `no worker offers ${missing.join(', ')}` });
    else if (claims.problems.length) unassignable.push({ task_id: def.task_id, reason: `resource claims can never be met (${claims.problems.map((p) => p.kind).join(', ')})` });
    else if (pair) unassignable.push({ task_id: def.task_id, reason: `its own claims conflict (${pair.join(' × ')})` });
    else if (graph.cyclic[v]) unassignable.push({ task_id: def.task_id, reason: 'on a dependency cycle' });
    else idx.push(v);
  }
  const prio = (v: number) => {
    const p = (graph.tasks[v] as TaskDefinition).priority;
    return typeof p === 'number' ? p : 0;
  };
  idx.sort((a, b) => (cpm.slack[a] as number) - (cpm.slack[b] as number) || prio(b) - prio(a) || ((graph.ids[a] as string) < (graph.ids[b] as string) ? -1 : 1));
  for (const v of idx) {
    order.push({ task_id: graph.ids[v] as string, workstream_id: graph.workstreams[graph.ws[v] as number] as string, status: status[v] as string, slack_seconds: Math.round((cpm.slack[v] as number) * 1000) / 1000, priority: prio(v), estimated_duration_seconds: analysis.est[v] as number });
  }
  void taskSet;
  return {
    ok: true,
    dry_run: true,
    jobs: Math.max(1, Math.floor(options.jobs ?? defaultJobs(root))),
    capabilities: offered,
    workstreams,
    order,
    already_completed: completed,
    unassignable,
    problems,
    resources: [...resources.values()].map((r) => ({ id: r.ResourceId, type: r.Type, max_holders: r.MaxHolders, ...(r.RefillRate !== undefined ? { refill_rate: r.RefillRate } : {}), ...(r.ConflictsWith ? { conflicts_with: r.ConflictsWith } : {}) })),
  };
}
