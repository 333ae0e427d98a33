/**
 * The checks behind rules DAG-VIEW-001..003 and CONC-REG-002: existing
 * `.state/dag_*.json` and `.state/execution_plan_*.json` files compared with
 * the graph built from tasks/ now. Every finding is located in the file at
 * fault (the derived file, or the task file whose entry matters).
 *
 * Public API:
 *   - graphRuleInputs(ctx): Promise<GraphRuleInputs | { skip: string }>   (internal; memoised per run)
 *   - prepareGraphInputs(ctx): void                                       (internal) the rules' Rule.prepare: run history from the shared pass over the log
 *   - checkDagFreshness(inputs): { findings; repairable }                 (stable)  DAG-VIEW-001
 *   - checkDagFiles(inputs): { findings; checked }                        (stable)  DAG-VIEW-002
 *   - checkPlanFiles(inputs): { findings; checked }                       (stable)  DAG-VIEW-003
 *   - checkResources(inputs): { findings; inspected }                     (stable)  CONC-REG-002
 *   - regenerate(inputs): Promise<Finding[]>                              (internal) DAG-VIEW-001 --fix
 * Freshness compares the graph (node ids, names, types; edges with their
 * external mark), not statuses: statuses follow the snapshot and a drift is a
 * notice. Plans are checked against the current dependencies using the
 * plan's own estimates, so a new run in the log does not make a plan "wrong".
 * Rules use the agreed memo keys: 'tasks', 'resources', 'snapshot'; the run history is
 * folded in the shared pass over the event log (../engine/event-pass.js).
 * Integration points: src/compliance/rules/{DAG-VIEW-001,DAG-VIEW-002,DAG-VIEW-003,CONC-REG-002}.ts.
 * Dependencies: node:fs, ../compliance/types.js, ../engine/rule-loaders.js, ../engine/event-pass.js,
 * ../registry/index.js, ../io/located-json.js, ../io/lock.js, ../schema/registry.js, ./files.js, ./plan.js.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RuleContext } from '../compliance/types.js';
import type { Finding, Snapshot } from '../model.js';
import { TASK_ID_PATTERN } from '../model.js';
import { loadConfig } from '../config.js';
import { parsedDerivedFiles, snapshotOf, tasksOf } from '../engine/rule-loaders.js';
import { eventPass, wantEvents, type EventVisitor } from '../engine/event-pass.js';
import { locateInText, parseJsonText } from '../io/located-json.js';
import { loadResources, type ResourceRegistry } from '../registry/index.js';
import type { TaskSet } from '../repo/load-tasks.js';
import { validate } from '../schema/registry.js';
import { RunHistory, runHistoryFrom } from './estimates.js';
import {
  DAG_FILE_PATTERN,
  DAG_VERSION,
  PLAN_FILE_PATTERN,
  PLAN_VERSION,
  analyze,
  buildDagFile,
  buildExecutionPlan,
  dagFileName,
  planFileName,
  writeGraphFiles,
  type Analysis,
  type DagFile,
  type ExecutionPlanFile,
} from './files.js';
import { capacityOf, claimsOf, type PlanTask } from './plan.js';
import { resourcesConflict } from './resources.js';
import { stateDirOf, stateRel } from '../core/state-paths.js';

export interface GraphRuleInputs {
  root: string;
  taskSet: TaskSet;
  registry: ResourceRegistry;
  snapshot: Snapshot | null;
  history: RunHistory;
  analysis: Analysis;
  stateDir: string;
  /** Existing derived files: name → text. */
  dagFiles: Map<string, string>;
  planFiles: Map<string, string>;
  /** Derived files that parsed cleanly, by repo-relative name → value (read-only): each is parsed once per run, not once per rule (parsedDerivedFiles). */
  parsedFiles?: Map<string, unknown>;
}

function listDerived(stateDir: string): { dagFiles: Map<string, string>; planFiles: Map<string, string> } {
  const dagFiles = new Map<string, string>();
  const planFiles = new Map<string, string>();
  if (!existsSync(stateDir)) return { dagFiles, planFiles };
  for (const name of readdirSync(stateDir).sort()) {
    const isDag = DAG_FILE_PATTERN.test(name);
    const isPlan = PLAN_FILE_PATTERN.test(name);
    if (!isDag && !isPlan) continue;
    let text: string;
    try {
      text = readFileSync(join(stateDir, name), 'utf8');
    } catch {
      continue;
    }
    (isDag ? dagFiles : planFiles).set(name, text);
  }
  return { dagFiles, planFiles };
}

const HISTORY = 'graph:run-history';
function historyVisitor(): EventVisitor<RunHistory> {
  const history = new RunHistory();
  return { event: (e) => history.apply(e), end: () => history };
}

/** Register the run history's visitor for the shared pass over the log (the graph rules' Rule.prepare). */
export function prepareGraphInputs(ctx: RuleContext): void {
  wantEvents(ctx, HISTORY, historyVisitor);
}

export async function graphRuleInputs(ctx: RuleContext): Promise<GraphRuleInputs | { skip: string }> {
  let taskSet: TaskSet;
  try {
    taskSet = tasksOf(ctx);
  } catch (error) {
    return { skip: `tasks/ could not be read (${error instanceof Error ? error.message : String(error)})` };
  }
  if (taskSet.tasks.size === 0) return { skip: 'no valid task definitions under tasks/ (TASK-DEF rules report why)' };
  return ctx.once('graph-inputs', async () => {
    const registry = ctx.once('resources', () => loadResources(ctx.root));
    const snapRead = snapshotOf(ctx);
    let history: RunHistory;
    try {
      history = await eventPass(ctx, HISTORY, historyVisitor);
    } catch {
      history = runHistoryFrom([]);
    }
    const config = loadConfig(ctx.root);
    const snapshot = snapRead.snapshot ?? null;
    const analysis = analyze({ taskSet, snapshot, resources: registry.resources, history, maxParallel: config.max_parallelism });
    const stateDir = stateDirOf(ctx.root);
    return { root: ctx.root, taskSet, registry, snapshot, history, analysis, stateDir, ...listDerived(stateDir), parsedFiles: parsedDerivedFiles(ctx) };
  });
}

const F = (requirement: string, severity: Finding['severity'], file: string, at: { line: number; column: number }, message: string, fix: string): Finding => ({
  requirement,
  severity,
  file,
  line: at.line,
  column: at.column,
  message,
  fix,
});

const REGEN = 'run `orc-state plan` (or `orc-state validate --requirement DAG-VIEW-001 --fix`) to regenerate the DAG and plan files';

function parsed<T>(requirement: string, file: string, text: string, memo?: Map<string, unknown>): { value?: T; findings: Finding[] } {
  if (memo?.has(file)) return { value: memo.get(file) as T, findings: [] };
  const read = parseJsonText(text, file, { requirement, maxBytes: Number.MAX_SAFE_INTEGER, maxDepth: 64 });
  if (!read.ok) return { findings: read.findings };
  // With a BOM the located parse strips it where JSON.parse fails: such a value is not kept (parsedDerivedFiles).
  if (text.charCodeAt(0) !== 0xfeff) memo?.set(file, read.value);
  return { value: read.value as T, findings: [] };
}

/** tasks/<ws>/ still holds .json files (maybe all invalid right now). */
function hasTaskFiles(root: string, ws: string): boolean {
  try {
    return readdirSync(join(root, 'tasks', ws)).some((f) => f.endsWith('.json'));
  } catch {
    return false;
  }
}

function workstreamIndex(inputs: GraphRuleInputs): Map<string, number> {
  const m = new Map<string, number>();
  inputs.analysis.graph.workstreams.forEach((ws, k) => m.set(ws, k));
  return m;
}

/** DAG-VIEW-001: a DAG file per workstream, fresh, acyclic (cycles come from analyze()). */
export function checkDagFreshness(inputs: GraphRuleInputs): { findings: Finding[]; repairable: number } {
  const { analysis } = inputs;
  const { graph } = analysis;
  const findings: Finding[] = [...analysis.findings];
  let repairable = 0;
  const now = new Date().toISOString();
  const wsIdx = workstreamIndex(inputs);
  for (let k = 0; k < graph.workstreams.length; k++) {
    const ws = graph.workstreams[k] as string;
    if (!TASK_ID_PATTERN.test(ws)) continue; // TASK-DEF-001 reports unusable workstream ids
    const fresh = buildDagFile(analysis, k, now);
    if (!fresh) continue; // cycle: reported with its path
    const name = dagFileName(ws);
    const file = stateRel(name);
    const text = inputs.dagFiles.get(name);
    const firstTask = graph.ids[(graph.members[k] as Int32Array)[0] as number] as string;
    if (text === undefined) {
      repairable++;
      findings.push(F('DAG-VIEW-001', 'error', analysis.locate(firstTask, ['workstream_id']).file, analysis.locate(firstTask, ['workstream_id']), `workstream ${ws} has no ${file}`, REGEN));
      continue;
    }
    const { value } = parsed<DagFile>('DAG-VIEW-001', file, text, inputs.parsedFiles);
    if (!value || !Array.isArray(value.nodes) || !Array.isArray(value.edges)) continue; // DAG-VIEW-002 reports the shape
    const at = (path: Array<string | number>): { line: number; column: number } => locateInText(text, path);
    const problems: Finding[] = [];
    const oldNodes = new Map<string, { name: unknown; type: unknown; status: unknown; i: number }>();
    value.nodes.forEach((n, i) => {
      if (n && typeof n.task_id === 'string') oldNodes.set(n.task_id, { name: n.name, type: n.type, status: n.status, i });
    });
    for (const node of fresh.nodes) {
      const old = oldNodes.get(node.task_id);
      if (!old) {
        const loc = analysis.locate(node.task_id, ['task_id']);
        problems.push(F('DAG-VIEW-001', 'error', loc.file, loc, `stale ${file}: task ${node.task_id} is missing from it`, REGEN));
        continue;
      }
      oldNodes.delete(node.task_id);
      if (old.name !== node.name || old.type !== node.type) {
        problems.push(F('DAG-VIEW-001', 'error', file, at(['nodes', old.i]), `stale ${file}: node ${node.task_id} shows name/type ${JSON.stringify(old.name)}/${JSON.stringify(old.type)}, the task file now says ${JSON.stringify(node.name)}/${JSON.stringify(node.type)}`, REGEN));
      } else if (old.status !== node.status) {
        findings.push(F('DAG-VIEW-001', 'notice', file, at(['nodes', old.i, 'status']), `node ${node.task_id} shows status ${JSON.stringify(old.status)}, the state now says ${node.status}`, REGEN));
      }
    }
    for (const [id, old] of oldNodes) {
      problems.push(F('DAG-VIEW-001', 'error', file, at(['nodes', old.i]), `stale ${file}: node ${id} has no task definition in workstream ${ws} any more`, REGEN));
    }
    const key = (e: { from: unknown; to: unknown; external?: unknown }): string => `${String(e.from)}\u0000${String(e.to)}\u0000${e.external === true ? 'x' : ''}`;
    const oldEdges = new Map<string, number>();
    value.edges.forEach((e, i) => {
      if (e && typeof e === 'object') oldEdges.set(key(e), i);
    });
    for (const edge of fresh.edges) {
      const k2 = key(edge);
      if (oldEdges.has(k2)) {
        oldEdges.delete(k2);
        continue;
      }
      const task = graph.tasks[graph.index.get(edge.from) as number];
      const pos = Array.isArray(task?.dependencies) ? task.dependencies.indexOf(edge.to) : -1;
      const loc = analysis.locate(edge.from, pos >= 0 ? ['dependencies', pos] : ['dependencies']);
      problems.push(F('DAG-VIEW-001', 'error', loc.file, loc, `stale ${file}: ${edge.from} now depends on ${edge.to}${edge.external ? ` (workstream ${edge.external_workstream})` : ''}, which the DAG file does not show`, REGEN));
    }
    for (const [k2, i] of oldEdges) {
      const [from, to] = k2.split('\u0000');
      problems.push(F('DAG-VIEW-001', 'error', file, at(['edges', i]), `stale ${file}: edge ${from} depends_on ${to} is no longer in the task definitions`, REGEN));
    }
    if (problems.length > 0) repairable++;
    findings.push(...problems);
  }
  // Files of workstreams that have no tasks any more.
  for (const name of inputs.dagFiles.keys()) {
    const ws = DAG_FILE_PATTERN.exec(name)?.[1] as string;
    if (wsIdx.has(ws) || hasTaskFiles(inputs.root, ws)) continue; // invalid task files: TASK-DEF rules report them
    repairable++;
    findings.push(F('DAG-VIEW-001', 'error', stateRel(name), { line: 1, column: 1 }, `stale .state/${name}: workstream ${ws} has no task definitions`, REGEN));
  }
  return { findings, repairable };
}

/** Regenerate every DAG and plan file (DAG-VIEW-001 --fix), under the .state lock. */
export async function regenerate(inputs: GraphRuleInputs): Promise<Finding[]> {
  const { withLock } = await import('../io/lock.js'); // only under --fix: a read-only gate takes no lock
  const result = await withLock(inputs.stateDir, {}, () =>
    writeGraphFiles(inputs.root, inputs.taskSet, inputs.snapshot, { resources: inputs.registry.resources, history: inputs.history }),
  );
  return [...result.written.map((f) => ({ f, what: 'regenerated from tasks/ and the state' })), ...result.removed.map((f) => ({ f, what: 'removed: its workstream has no tasks' }))].map(({ f, what }) =>
    F('DAG-VIEW-001', 'notice', f, { line: 1, column: 1 }, what, 'none needed'),
  );
}

function schemaFindings(requirement: string, kind: string, version: string, file: string, text: string, value: unknown): Finding[] {
  const check = validate(kind, version, value);
  return check.errors.slice(0, 20).map((e) => {
    const path = e.instancePath
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : e.keyword === 'required' ? ` (${String((e.params as { missingProperty?: string }).missingProperty)})` : '';
    return F(requirement, 'error', file, locateInText(text, path), `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${extra} (schema ${kind} v${version})`, REGEN);
  });
}

/** DAG-VIEW-002: each DAG file validates and its topological order is a valid order of exactly its nodes. */
export function checkDagFiles(inputs: Pick<GraphRuleInputs, 'dagFiles' | 'parsedFiles'>): { findings: Finding[]; checked: number } {
  const findings: Finding[] = [];
  let checked = 0;
  for (const [name, text] of inputs.dagFiles) {
    checked++;
    const file = stateRel(name);
    const { value, findings: parseProblems } = parsed<DagFile>('DAG-VIEW-002', file, text, inputs.parsedFiles);
    if (!value) {
      findings.push(...parseProblems);
      continue;
    }
    const schema = schemaFindings('DAG-VIEW-002', 'dag', DAG_VERSION, file, text, value);
    findings.push(...schema);
    if (schema.length > 0) continue;
    const ws = DAG_FILE_PATTERN.exec(name)?.[1];
    if (value.workstream_id !== ws) {
      findings.push(F('DAG-VIEW-002', 'error', file, locateInText(text, ['workstream_id']), `workstream_id ${JSON.stringify(value.workstream_id)} does not match the file name (${ws})`, REGEN));
    }
    const pos = new Map<string, number>();
    value.topological_order.forEach((id, i) => pos.set(id, i));
    const nodeIds = new Set<string>();
    value.nodes.forEach((n, i) => {
      if (nodeIds.has(n.task_id)) findings.push(F('DAG-VIEW-002', 'error', file, locateInText(text, ['nodes', i]), `node ${n.task_id} is listed twice`, REGEN));
      nodeIds.add(n.task_id);
      if (!pos.has(n.task_id)) findings.push(F('DAG-VIEW-002', 'error', file, locateInText(text, ['topological_order']), `topological_order misses node ${n.task_id}`, REGEN));
    });
    value.topological_order.forEach((id, i) => {
      if (!nodeIds.has(id)) findings.push(F('DAG-VIEW-002', 'error', file, locateInText(text, ['topological_order', i]), `topological_order names ${id}, which is not a node`, REGEN));
    });
    value.edges.forEach((e, i) => {
      const inside = nodeIds.has(e.from) && nodeIds.has(e.to);
      if (!inside) {
        if (e.external !== true) findings.push(F('DAG-VIEW-002', 'error', file, locateInText(text, ['edges', i]), `edge ${e.from} -> ${e.to} leaves the workstream but is not marked external`, REGEN));
        return;
      }
      const pf = pos.get(e.from);
      const pt = pos.get(e.to);
      if (pf !== undefined && pt !== undefined && pt >= pf) {
        findings.push(F('DAG-VIEW-002', 'error', file, locateInText(text, ['topological_order', pf]), `topological_order puts ${e.from} (position ${pf + 1}) before its dependency ${e.to} (position ${pt + 1})`, REGEN));
      }
    });
  }
  return { findings, checked };
}

const EPS = 0.01;

/** DAG-VIEW-003: plan present per plannable workstream, valid, complete, ordered, with a longest critical path. */
export function checkPlanFiles(inputs: GraphRuleInputs): { findings: Finding[]; checked: number } {
  const { analysis } = inputs;
  const { graph } = analysis;
  const findings: Finding[] = [];
  let buffers: LongestBuffers | undefined;
  let checked = 0;
  const wsIdx = workstreamIndex(inputs);
  const now = new Date().toISOString();
  for (let k = 0; k < graph.workstreams.length; k++) {
    const ws = graph.workstreams[k] as string;
    if (!TASK_ID_PATTERN.test(ws)) continue;
    const name = planFileName(ws);
    if (inputs.planFiles.has(name)) continue;
    const buildable = buildExecutionPlan(analysis, k, now);
    if (!buildable.plan) continue; // cycle or impossible resources: DAG-VIEW-001 / CONC-REG-002 report why
    checked++;
    const firstTask = graph.ids[(graph.members[k] as Int32Array)[0] as number] as string;
    const loc = analysis.locate(firstTask, ['workstream_id']);
    findings.push(F('DAG-VIEW-003', 'error', loc.file, loc, `workstream ${ws} has no .state/${name}`, REGEN));
  }
  for (const [name, text] of inputs.planFiles) {
    checked++;
    const file = stateRel(name);
    const { value: plan, findings: parseProblems } = parsed<ExecutionPlanFile>('DAG-VIEW-003', file, text, inputs.parsedFiles);
    if (!plan) {
      findings.push(...parseProblems);
      continue;
    }
    const schema = schemaFindings('DAG-VIEW-003', 'execution-plan', PLAN_VERSION, file, text, plan);
    findings.push(...schema);
    if (schema.length > 0) continue;
    const ws = PLAN_FILE_PATTERN.exec(name)?.[1] as string;
    const at = (path: Array<string | number>): { line: number; column: number } => locateInText(text, path);
    if (plan.workstream_id !== ws) findings.push(F('DAG-VIEW-003', 'error', file, at(['workstream_id']), `workstream_id ${JSON.stringify(plan.workstream_id)} does not match the file name (${ws})`, REGEN));
    const k = wsIdx.get(ws);
    if (k === undefined) {
      if (!hasTaskFiles(inputs.root, ws)) findings.push(F('DAG-VIEW-003', 'error', file, { line: 1, column: 1 }, `stale ${file}: workstream ${ws} has no task definitions`, REGEN));
      continue;
    }
    if ([...(graph.members[k] as Int32Array)].some((v) => graph.cyclic[v] === 1)) continue; // no valid plan exists: DAG-VIEW-001 reports the cycle
    // Every task exactly once; stages numbered 1..n.
    const stageOf = new Map<string, number>();
    plan.stages.forEach((s, si) => {
      if (s.stage !== si + 1) findings.push(F('DAG-VIEW-003', 'error', file, at(['stages', si, 'stage']), `stage number ${s.stage} at position ${si + 1}: stages must be numbered 1, 2, 3… in order`, REGEN));
      s.parallel_tasks.forEach((id, ti) => {
        if (stageOf.has(id)) findings.push(F('DAG-VIEW-003', 'error', file, at(['stages', si, 'parallel_tasks', ti]), `task ${id} appears in stage ${stageOf.get(id)} and again in stage ${si + 1}`, REGEN));
        else stageOf.set(id, si + 1);
      });
    });
    const members = graph.members[k] as Int32Array;
    const memberSet = new Set<string>();
    for (const v of members) {
      const id = graph.ids[v] as string;
      memberSet.add(id);
      if (!stageOf.has(id)) {
        const loc = analysis.locate(id, ['task_id']);
        findings.push(F('DAG-VIEW-003', 'error', loc.file, loc, `task ${id} is in no stage of ${file}`, REGEN));
      }
    }
    for (const [id, s] of stageOf) {
      if (!memberSet.has(id)) findings.push(F('DAG-VIEW-003', 'error', file, at(['stages', s - 1]), `stage ${s} lists ${id}, which is not a task of workstream ${ws}`, REGEN));
    }
    // No task before (or beside) one of its dependencies.
    for (const v of members) {
      const id = graph.ids[v] as string;
      const s = stageOf.get(id);
      if (s === undefined) continue;
      for (let e = graph.depStart[v] as number, end = graph.depStart[v + 1] as number; e < end; e++) {
        const d = graph.deps[e] as number;
        if (graph.ws[d] !== k) continue;
        const ds = stageOf.get(graph.ids[d] as string);
        if (ds !== undefined && ds >= s) {
          const ti = plan.stages[s - 1]?.parallel_tasks.indexOf(id) ?? 0;
          findings.push(F('DAG-VIEW-003', 'error', file, at(['stages', s - 1, 'parallel_tasks', ti]), `task ${id} runs in stage ${s} but its dependency ${graph.ids[d]} runs in stage ${ds}`, REGEN));
        }
      }
    }
    // Critical path: a real path inside the workstream, summing the plan's estimates, and a longest one.
    const estOf = (id: string): number | undefined => plan.tasks[id]?.estimated_duration_seconds;
    let missingEstimate = false;
    for (const id of memberSet) {
      if (estOf(id) === undefined) {
        missingEstimate = true;
        findings.push(F('DAG-VIEW-003', 'error', file, at(['tasks']), `tasks has no estimate for ${id}`, REGEN));
      }
    }
    const cp = plan.critical_path_tasks;
    let pathOk = cp.length > 0 || memberSet.size === 0;
    if (!pathOk) findings.push(F('DAG-VIEW-003', 'error', file, at(['critical_path_tasks']), 'critical_path_tasks is empty', REGEN));
    for (let i = 0; i < cp.length; i++) {
      const id = cp[i] as string;
      if (!memberSet.has(id)) {
        pathOk = false;
        findings.push(F('DAG-VIEW-003', 'error', file, at(['critical_path_tasks', i]), `critical path names ${id}, which is not a task of workstream ${ws}`, REGEN));
        continue;
      }
      if (i === 0) continue;
      const prev = cp[i - 1] as string;
      const deps = graph.tasks[graph.index.get(id) as number]?.dependencies ?? [];
      if (!deps.includes(prev)) {
        pathOk = false;
        findings.push(F('DAG-VIEW-003', 'error', file, at(['critical_path_tasks', i]), `critical path is not a path: ${id} does not depend on ${prev}`, REGEN));
      }
    }
    if (pathOk && !missingEstimate && memberSet.size > 0) {
      const sum = cp.reduce((a, id) => a + (estOf(id) ?? 0), 0);
      if (Math.abs(sum - plan.critical_path_duration) > EPS) {
        findings.push(F('DAG-VIEW-003', 'error', file, at(['critical_path_duration']), `critical_path_duration ${plan.critical_path_duration} differs from the summed estimates of critical_path_tasks (${sum})`, REGEN));
      }
      // Longest path by the plan's estimates over the current graph (graph-sized buffers made once per call:
      // each workstream writes its members' entries before it reads them).
      buffers ??= { est: new Float64Array(graph.n), indeg: new Int32Array(graph.n), finish: new Float64Array(graph.n) };
      for (const v of members) buffers.est[v] = estOf(graph.ids[v] as string) ?? 0;
      const longest = longestInWorkstream(analysis, k, buffers);
      if (longest !== null && longest - sum > EPS) {
        findings.push(F('DAG-VIEW-003', 'error', file, at(['critical_path_tasks']), `critical path (${sum}s) is not a longest path: a path of ${longest}s exists by the plan's own estimates`, REGEN));
      }
      const onPath = new Set(cp);
      plan.stages.forEach((s, si) => {
        const has = s.parallel_tasks.some((id) => onPath.has(id));
        if (has !== s.critical_path) findings.push(F('DAG-VIEW-003', 'error', file, at(['stages', si, 'critical_path']), `stage ${s.stage} critical_path is ${s.critical_path} but it ${has ? 'holds' : 'holds no'} critical-path task`, REGEN));
      });
      const total = plan.stages.reduce((a, s) => a + s.estimated_duration_seconds, 0);
      if (Math.abs(total - plan.total_estimated_duration) > EPS) {
        findings.push(F('DAG-VIEW-003', 'error', file, at(['total_estimated_duration']), `total_estimated_duration ${plan.total_estimated_duration} is not the sum of the stage durations (${total})`, REGEN));
      }
    }
  }
  return { findings, checked };
}

interface LongestBuffers {
  /** Per task: the plan's estimate (members of the workstream asked about). */
  est: Float64Array;
  indeg: Int32Array;
  finish: Float64Array;
}

function longestInWorkstream(analysis: Analysis, k: number, buffers: LongestBuffers): number | null {
  const { graph } = analysis;
  const members = graph.members[k] as Int32Array;
  for (const v of members) if (graph.cyclic[v]) return null;
  // Kahn inside the workstream (in-degrees and finish times in graph-sized arrays; only members' entries are
  // written, each before it is read).
  const { est, indeg, finish } = buffers;
  const queue: number[] = [];
  for (const v of members) {
    let d = 0;
    for (let e = graph.depStart[v] as number, end = graph.depStart[v + 1] as number; e < end; e++) if (graph.ws[graph.deps[e] as number] === k) d++;
    indeg[v] = d;
    if (d === 0) queue.push(v);
  }
  let best = 0;
  for (let h = 0; h < queue.length; h++) {
    const v = queue[h] as number;
    let start = 0;
    for (let e = graph.depStart[v] as number, end = graph.depStart[v + 1] as number; e < end; e++) {
      const d = graph.deps[e] as number;
      if (graph.ws[d] === k && (finish[d] as number) > start) start = finish[d] as number;
    }
    finish[v] = start + (est[v] as number);
    if ((finish[v] as number) > best) best = finish[v] as number;
    for (let e = graph.outStart[v] as number, end = graph.outStart[v + 1] as number; e < end; e++) {
      const w = graph.outs[e] as number;
      if (graph.ws[w] !== k) continue;
      const left = (indeg[w] as number) - 1;
      indeg[w] = left;
      if (left === 0) queue.push(w);
    }
  }
  return queue.length === members.length ? best : null;
}

/** CONC-REG-002: claims that can never be met, co-scheduled exclusive holders in plans, current holders. */
export function checkResources(inputs: GraphRuleInputs): { findings: Finding[]; inspected: number } {
  const { analysis, registry } = inputs;
  const { graph } = analysis;
  const resources = registry.resources;
  const unknownOk = new Set([...(registry.invalidIds ?? [])]);
  const findings: Finding[] = [];
  let inspected = 0;
  /** claimsOf each task (pure in the task and the registry), made once: plan stages ask again for the same tasks. */
  const claimsCache: Array<ReturnType<typeof claimsOf> | undefined> = new Array(graph.n);
  const claimsAt = (v: number): ReturnType<typeof claimsOf> => (claimsCache[v] ??= claimsOf(graph.tasks[v] as PlanTask, resources));
  /** Per resource: the units the given tasks claim together, who holds it and who needs it exclusively. */
  const resourceUse = (taskIds: Iterable<string>): Map<string, { units: number; exclusive: string[]; holders: string[] }> => {
    const use = new Map<string, { units: number; exclusive: string[]; holders: string[] }>();
    for (const id of taskIds) {
      const v = graph.index.get(id);
      if (v === undefined) continue;
      for (const c of claimsAt(v).claims) {
        const u = use.get(c.resource) ?? { units: 0, exclusive: [], holders: [] };
        u.units += c.units;
        u.holders.push(id);
        if (c.exclusive) u.exclusive.push(id);
        use.set(c.resource, u);
      }
    }
    return use;
  };
  // 1. Claims that can never be met: the task and everything after it deadlock.
  for (let v = 0; v < graph.n; v++) {
    const task = graph.tasks[v] as PlanTask;
    const req = task.resource_requirements;
    if (!req || typeof req !== 'object' || Object.keys(req).length === 0) continue;
    inspected++;
    const { problems } = claimsAt(v);
    for (const p of problems) {
      if (p.kind === 'unknown-resource') continue; // CONC-REG-001 reports unknown ids
      if (p.kind === 'cycle') continue;
      if (unknownOk.has(p.resource)) continue;
      const downstream = countDownstream(analysis, v);
      const loc = analysis.locate(p.task, ['resource_requirements', p.resource]);
      const blockedText = downstream > 0 ? `; ${downstream} task(s) that depend on it can never start either` : '';
      if (p.kind === 'over-capacity') {
        findings.push(F('CONC-REG-002', 'error', loc.file, loc, `task ${p.task} claims ${p.units} unit(s) of "${p.resource}" whose capacity is ${p.capacity}: the plan can never run (deadlock)${blockedText}`, p.capacity > 0 ? `claim at most ${p.capacity}, or raise MaxHolders of "${p.resource}" in ${registry.file ?? 'the resource registry'}` : `raise MaxHolders of "${p.resource}" above 0 or drop the claim`));
      } else if (p.kind === 'invalid-claim') {
        findings.push(F('CONC-REG-002', 'error', loc.file, loc, `task ${p.task}: claim ${JSON.stringify(p.claim)} on "${p.resource}" is not "exclusive", "shared" or a positive amount`, 'write "exclusive", "shared" or a positive integer'));
      }
    }
  }
  /** Pairs of conflicting resources (ConflictsWith, unless CompatibleWith) held by different tasks of `use`. */
  const conflictPairs = (use: Map<string, { holders: string[] }>): Array<{ a: string; b: string; holdersA: string[]; holdersB: string[] }> => {
    const out: Array<{ a: string; b: string; holdersA: string[]; holdersB: string[] }> = [];
    const ids = [...use.keys()].sort();
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        const a = ids[i] as string;
        const b = ids[j] as string;
        const da = resources.get(a);
        const db = resources.get(b);
        if (!da || !db || !resourcesConflict(da, db)) continue;
        const ha = use.get(a)?.holders ?? [];
        const hb = use.get(b)?.holders ?? [];
        if (ha.some((x) => hb.some((y) => y !== x))) out.push({ a, b, holdersA: ha, holdersB: hb });
      }
    }
    return out;
  };
  // 2. Plan files: no stage co-schedules two holders of an exclusive resource, conflicting resources, or exceeds a capacity.
  const byStage = (planText: string, plan: ExecutionPlanFile, file: string): void => {
    plan.stages.forEach((stage, si) => {
      const stageUse = resourceUse(stage.parallel_tasks);
      for (const p of conflictPairs(stageUse)) {
        findings.push(F('CONC-REG-002', 'error', file, locateInText(planText, ['stages', si, 'parallel_tasks']), `stage ${stage.stage} co-schedules ${p.holdersA.join(', ')} (holding "${p.a}") with ${p.holdersB.join(', ')} (holding "${p.b}"), and these resources conflict (ConflictsWith)`, REGEN));
      }
      for (const [rid, u] of stageUse) {
        inspected++;
        const def = resources.get(rid);
        if (!def) continue;
        const cap = capacityOf(def);
        // Locating parses the plan text: only when there is a finding.
        const loc = () => locateInText(planText, ['stages', si, 'parallel_tasks']);
        if (u.exclusive.length > 0 && u.holders.length > 1) {
          findings.push(F('CONC-REG-002', 'error', file, loc(), `stage ${stage.stage} co-schedules ${u.holders.join(', ')} although ${u.exclusive.join(', ')} need${u.exclusive.length === 1 ? 's' : ''} "${rid}" exclusively`, REGEN));
        } else if (cap >= 0 && u.units > cap) {
          findings.push(F('CONC-REG-002', 'error', file, loc(), `stage ${stage.stage} draws ${u.units} unit(s) of "${rid}" (capacity ${cap}) from ${u.holders.join(', ')}`, REGEN));
        } else if (def.Type === 'rate_limited' && typeof def.RefillRate === 'number' && def.RefillRate > 0 && typeof stage.estimated_duration_seconds === 'number') {
          const floor = u.units / def.RefillRate;
          if (stage.estimated_duration_seconds + EPS < floor) {
            findings.push(F('CONC-REG-002', 'error', file, locateInText(planText, ['stages', si, 'estimated_duration_seconds']), `stage ${stage.stage} draws ${u.units} unit(s) of rate-limited "${rid}" in ${stage.estimated_duration_seconds}s, faster than its refill rate allows (${def.RefillRate}/s needs at least ${Math.round(floor * 1000) / 1000}s)`, REGEN));
          }
        }
      }
    });
  };
  for (const [name, text] of inputs.planFiles) {
    let plan: ExecutionPlanFile;
    const file = stateRel(name);
    // Parsed once for both rules (DAG-VIEW-003 finds it in parsedFiles): a text the located parse refuses
    // (a BOM, duplicate keys, ...) is taken as JSON.parse takes it, as it always was here.
    const once = text.charCodeAt(0) === 0xfeff ? undefined : parsed<ExecutionPlanFile>('DAG-VIEW-003', file, text, inputs.parsedFiles).value;
    if (once !== undefined) plan = once;
    else {
      try {
        plan = JSON.parse(text) as ExecutionPlanFile;
      } catch {
        continue; // DAG-VIEW-003 reports it
      }
    }
    if (!plan || !Array.isArray(plan.stages) || !plan.stages.every((s) => s && Array.isArray(s.parallel_tasks))) continue;
    byStage(text, plan, file);
  }
  // 3. Current holders (tasks running or validating) never exceed what a resource allows.
  if (inputs.snapshot) {
    const holding = inputs.snapshot.tasks.filter((t) => t.status === 'running' || t.status === 'validating').map((t) => t.task_id);
    const holdingUse = resourceUse(holding);
    for (const p of conflictPairs(holdingUse)) {
      const loc = analysis.locate(p.holdersB[p.holdersB.length - 1] as string, ['resource_requirements', p.b]);
      findings.push(F('CONC-REG-002', 'error', loc.file, loc, `resources "${p.a}" (held by ${p.holdersA.join(', ')}) and "${p.b}" (held by ${p.holdersB.join(', ')}) conflict (ConflictsWith) but are held at the same time (running/validating in .state/current.json)`, 'let one holder finish or cancel it (`orc-state task cancel`), and check why the scheduler admitted both'));
    }
    for (const [rid, u] of holdingUse) {
      inspected++;
      const def = resources.get(rid);
      if (!def) continue;
      const cap = capacityOf(def);
      const over = (u.exclusive.length > 0 && u.holders.length > 1) || (cap >= 0 && u.units > cap);
      if (!over) continue;
      const loc = analysis.locate(u.holders[u.holders.length - 1] as string, ['resource_requirements', rid]);
      findings.push(F('CONC-REG-002', 'error', loc.file, loc, `resource "${rid}" is held right now by ${u.holders.join(', ')} (running/validating in .state/current.json), beyond what it allows (${u.exclusive.length > 0 ? 'exclusive' : `capacity ${cap}`})`, 'let one holder finish or cancel it (`orc-state task cancel`), and check why the scheduler admitted both'));
    }
  }
  return { findings, inspected };
}

function countDownstream(analysis: Analysis, start: number): number {
  const { graph } = analysis;
  const seen = new Uint8Array(graph.n);
  const stack = [start];
  seen[start] = 1;
  let count = 0;
  while (stack.length > 0) {
    const v = stack.pop() as number;
    for (let e = graph.outStart[v] as number, end = graph.outStart[v + 1] as number; e < end; e++) {
      const w = graph.outs[e] as number;
      if (seen[w]) continue;
      seen[w] = 1;
      count++;
      stack.push(w);
    }
  }
  return count;
}
