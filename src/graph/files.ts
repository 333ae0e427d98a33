/**
 * The derived graph files: `.state/dag_{ws}.json` (DAG-VIEW-001/002) and
 * `.state/execution_plan_{ws}.json` (DAG-VIEW-003, CONC-REG-002), and the
 * located findings that go with them.
 *
 * Public API:
 *   - analyze(input): Analysis                          (stable) graph + estimates + statuses + graph findings
 *   - reanalyze(prev, input, changed): Analysis         (stable) reuses the graph when no id/workstream/dependency changed
 *   - buildDagFile(analysis, k, generatedAt): DagFile | null       (stable, pure; null when the workstream has a cycle)
 *   - buildExecutionPlan(analysis, k, generatedAt): { plan?, problems, findings } (stable, pure)
 *   - writeGraphFiles(root, taskSet, snapshot, options?): Promise<{ written; removed; findings }> (stable)
 *   - writeAnalysisFiles(root, analysis, options?): same, from an analysis already made (stable; watch)
 *   - serializeDerived(value): string                   (stable) the exact bytes written
 *   - criticalPathTaskIds(analysis): Set<string>        (stable) Decision 7's "lies on the critical path"
 *   - dagFileName(ws), planFileName(ws), DAG_VERSION, DAG_URL, PLAN_VERSION, PLAN_URL (stable)
 *   - historyFor(root, snapshot): Promise<RunHistory>   (internal; incremental per process)
 * Determinism: same tasks/statuses/estimates → same bytes apart from
 * `generated_at`; a file whose content would not change is not rewritten.
 * The engine's derive step after a commit is incremental: when definitions,
 * registry and config are unchanged since the previous derive in this
 * process, the graph is reused and only the workstreams of tasks whose
 * runtime state changed are re-derived.
 * A workstream with a cycle gets no DAG and no plan (findings instead); a
 * plan that can never run (unknown resource, claim above capacity) is not
 * written either. Files of workstreams whose tasks/<ws>/ holds no .json file any more are removed.
 * Writes go through writeFileDurable; this module takes no lock: the engine
 * calls writeGraphFiles inside its commit lock, `orc-state plan` and `watch`
 * wrap it in withLock when .state/ exists.
 * Integration points: B2's engine derive step, `orc-state plan|watch`, the
 * DAG-VIEW-001..003 and CONC-REG-002 rules (freshness via the pure builders).
 * Dependencies: node:fs, node:path, ./graph.js, ./plan.js, ./estimates.js,
 * ../config.js, ../io/atomic-write.js, ../registry/index.js, ../registry/cache.js (loadResourcesCached),
 * ../engine/log.js (readEvents), ../schema/registry.js, ../model.js.
 */
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding, Snapshot, TaskDefinition, TaskState } from '../model.js';
import { TASK_ID_PATTERN } from '../model.js';
import { schemaId } from '../schema/registry.js';
import { withDeriveLock, writeDerivedFile } from '../derive/guard.js';
import { CONFIG_FILE, loadConfig } from '../config.js';
import { readEvents } from '../engine/log.js';
import { REGISTRY_FILES } from '../registry/index.js';
import { loadResourcesCached } from '../registry/cache.js';
import { RunHistory, estimateTask } from './estimates.js';
import { loadCachedHistory, saveCachedHistory } from './history-cache.js';
import type { Estimate } from './estimates.js';
import { buildGraph, formatCycle, workstreamOrder, type CycleIssue, type TaskGraph } from './graph.js';
import { estimateAll, planWorkstream, type PlanData, type PlanProblem, type ResourceLike } from './plan.js';
import { DAG_VERSION, PLAN_VERSION } from '../core/versions.js';
import { stateDirOf, stateRel, statePaths } from '../core/state-paths.js';

export { DAG_VERSION, PLAN_VERSION };
export const DAG_URL = schemaId('dag', DAG_VERSION);
export const PLAN_URL = schemaId('execution-plan', PLAN_VERSION);

export const dagFileName = (ws: string): string => `dag_${ws}.json`;
export const planFileName = (ws: string): string => `execution_plan_${ws}.json`;
export const DAG_FILE_PATTERN = /^dag_(.+)\.json$/;
export const PLAN_FILE_PATTERN = /^execution_plan_(.+)\.json$/;

/** What the graph needs from A's LoadedTask (structural, so TaskSet fits). */
export interface LoadedTaskLike {
  task: TaskDefinition;
  file: string;
  /** The file's text (A's LoadedTask has it): lets the engine's derive step skip unchanged definitions. */
  text?: string;
  locate(path: ReadonlyArray<string | number>, opts?: { key?: boolean }): { line: number; column: number };
}
export interface TaskSetLike {
  tasks: ReadonlyMap<string, LoadedTaskLike>;
  /** Set when `tasks` is only part of the graph (src/engine/definitions-cache.ts graphDefinitions): facts of the whole one. */
  graphHints?: GraphHints;
  /** buildGraph of exactly these tasks, already made (src/engine/definitions-cache.ts loadPlanTasksCached); read-only. */
  graph?: TaskGraph<TaskDefinition>;
}

/** What a partial task set knows about the whole graph: the ids on a cycle, and the whole graph's cycle findings. */
export interface GraphHints {
  cyclic: ReadonlySet<string>;
  findings: Finding[];
}

export interface DagNode {
  task_id: string;
  name: string;
  type: string;
  status: string;
  level: number;
}
export interface DagEdge {
  from: string;
  to: string;
  type: 'depends_on';
  external?: true;
  external_workstream?: string;
}
export interface DagFile {
  schema_version: string;
  schema_url: string;
  workstream_id: string;
  generated_at: string;
  /** last_seq of the snapshot it was derived from (absent when derived without a snapshot). */
  source_last_seq?: number;
  nodes: DagNode[];
  edges: DagEdge[];
  topological_order: string[];
}
export type ExecutionPlanFile = { schema_version: string; schema_url: string } & Pick<PlanData, 'workstream_id'> & {
    generated_at: string;
    source_last_seq?: number;
  } & Omit<PlanData, 'workstream_id'>;

export interface AnalysisInput {
  taskSet: TaskSetLike;
  snapshot: Snapshot | null;
  resources: ReadonlyMap<string, ResourceLike>;
  history?: RunHistory;
  maxParallel: number;
}

export interface Analysis {
  input: AnalysisInput;
  graph: TaskGraph<TaskDefinition>;
  est: Float64Array;
  info: Estimate[];
  status: (v: number) => string;
  /** Cycle and self-dependency findings (DAG-VIEW-001), located. */
  findings: Finding[];
  /** Graph-sized buffers shared by the per-workstream computations. */
  scratch: { indeg: Int32Array; level: Int32Array };
  /** Locate a path inside a task's file. */
  locate(taskId: string, path: ReadonlyArray<string | number>, key?: boolean): { file: string; line: number; column: number };
}

export function analyze(input: AnalysisInput): Analysis {
  // A set read from the plan-fields cache carries its graph, built when the cache was made from the same definitions.
  const prebuilt = input.taskSet.graph;
  if (prebuilt) return fromGraph(input, prebuilt);
  const defs: TaskDefinition[] = [];
  for (const loaded of input.taskSet.tasks.values()) defs.push(loaded.task);
  return fromGraph(input, buildGraph(defs));
}

/**
 * A new analysis after some task files changed. When none of them changed
 * identity (id, workstream) or dependency lists, the graph structure is
 * reused (only the changed definitions and their estimates are swapped in:
 * O(changes) instead of O(tasks + edges)); otherwise the graph is rebuilt.
 */
export function reanalyze(prev: Analysis | undefined, input: AnalysisInput, changed: ReadonlyArray<{ before?: TaskDefinition; after?: TaskDefinition }>): Analysis {
  const sameShape =
    prev !== undefined &&
    prev.input.history === input.history &&
    prev.input.resources === input.resources &&
    prev.input.snapshot === input.snapshot &&
    prev.input.maxParallel === input.maxParallel &&
    changed.every(({ before, after }) => {
      if (!before || !after || before.task_id !== after.task_id || before.workstream_id !== after.workstream_id) return false;
      const a = before.dependencies;
      const b = after.dependencies;
      return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i]);
    });
  if (!sameShape || !prev) return analyze(input);
  const graph = prev.graph;
  const est = prev.est;
  const info = prev.info;
  for (const { after } of changed) {
    const v = graph.index.get((after as TaskDefinition).task_id) as number;
    graph.tasks[v] = after as TaskDefinition;
    const e = estimateTask(after as TaskDefinition, input.history);
    info[v] = e;
    est[v] = e.seconds;
  }
  return fromGraph(input, graph, { est, info });
}

function fromGraph(input: AnalysisInput, graph: TaskGraph<TaskDefinition>, estimates?: { est: Float64Array; info: Estimate[] }): Analysis {
  const { seconds: est, info } = estimates ? { seconds: estimates.est, info: estimates.info } : estimateAll(graph, input.history);
  const snapStatus = new Map<string, string>();
  for (const t of input.snapshot?.tasks ?? []) snapStatus.set(t.task_id, t.status);
  const status = (v: number): string => snapStatus.get(graph.ids[v] as string) ?? String((graph.tasks[v] as TaskDefinition).status ?? 'pending');
  const locate = (taskId: string, path: ReadonlyArray<string | number>, key = false): { file: string; line: number; column: number } => {
    const loaded = input.taskSet.tasks.get(taskId);
    if (!loaded) return { file: 'tasks', line: 1, column: 1 };
    const at = loaded.locate(path, key ? { key: true } : undefined);
    return { file: loaded.file, line: at.line, column: at.column };
  };
  const findings: Finding[] = [];
  const hints = input.taskSet.graphHints;
  if (hints) {
    // Part of the graph: a cycle through tasks left out is invisible here, so the whole graph's facts are used.
    for (const id of hints.cyclic) {
      const v = graph.index.get(id);
      if (v !== undefined) graph.cyclic[v] = 1;
    }
    findings.push(...hints.findings);
  }
  for (const issue of hints ? [] : graph.issues) {
    if (issue.kind === 'cycle') findings.push(cycleFinding(issue, locate));
    else if (issue.kind === 'self') {
      const at = locate(issue.task, ['dependencies', issue.position]);
      findings.push({
        requirement: 'DAG-VIEW-001',
        severity: 'error',
        ...at,
        message: `dependency cycle: ${issue.task} -> ${issue.task} (the task depends on itself)`,
        fix: `remove "${issue.task}" from its own dependencies (and from its blocks)`,
      });
    }
  }
  const scratch = { indeg: new Int32Array(graph.n), level: new Int32Array(graph.n) };
  return { input, graph, est, info, status, findings, locate, scratch };
}

function cycleFinding(issue: CycleIssue, locate: Analysis['locate']): Finding {
  const closing = issue.edges[issue.edges.length - 1] as CycleIssue['edges'][number];
  const at = locate(closing.task, ['dependencies', closing.position]);
  const where = issue.edges.map((e) => {
    const l = locate(e.task, ['dependencies', e.position]);
    return `${e.task} -> ${e.target} at ${l.file}:${l.line}:${l.column}`;
  });
  const more = issue.componentSize > issue.path.length - 1 ? ` (${issue.componentSize} tasks are caught in cycles together)` : '';
  return {
    requirement: 'DAG-VIEW-001',
    severity: 'error',
    ...at,
    message: `dependency cycle: ${formatCycle(issue)}${more}; edges: ${where.join('; ')}`,
    fix: `remove one of these dependencies, e.g. "${closing.target}" from the dependencies of ${closing.task} (and the matching blocks entry)`,
  };
}

export function problemFinding(problem: PlanProblem, analysis: Analysis): Finding | null {
  switch (problem.kind) {
    case 'cycle':
      return null; // reported once by analyze() with the full path
    case 'unknown-resource': {
      const at = analysis.locate(problem.task, ['resource_requirements', problem.resource], true);
      return {
        requirement: 'CONC-REG-002',
        severity: 'error',
        ...at,
        message: `task ${problem.task} requires unknown resource "${problem.resource}"${problem.known.length ? ` (known: ${problem.known.join(', ')})` : ' (the resource registry defines none)'}; its plan can never run`,
        fix: `declare "${problem.resource}" in capabilities/resources.psd1 (ResourceId, Type, MaxHolders) or correct the id`,
      };
    }
    case 'over-capacity': {
      const at = analysis.locate(problem.task, ['resource_requirements', problem.resource]);
      return {
        requirement: 'CONC-REG-002',
        severity: 'error',
        ...at,
        message: `task ${problem.task} claims ${problem.units} unit(s) of "${problem.resource}", which has capacity ${problem.capacity}; the plan can never run`,
        fix: problem.capacity > 0 ? `claim at most ${problem.capacity} or raise MaxHolders of "${problem.resource}"` : `raise MaxHolders of "${problem.resource}" above 0 or drop the claim`,
      };
    }
    case 'invalid-claim': {
      const at = analysis.locate(problem.task, ['resource_requirements', problem.resource]);
      return {
        requirement: 'CONC-REG-002',
        severity: 'error',
        ...at,
        message: `task ${problem.task}: resource claim ${JSON.stringify(problem.claim)} for "${problem.resource}" is not "exclusive", "shared" or a positive number`,
        fix: 'write "exclusive", "shared" or a positive amount',
      };
    }
  }
}

/** The DAG file of workstream k, or null when it has a cycle. */
export function buildDagFile(analysis: Analysis, k: number, generatedAt: string): DagFile | null {
  const { graph } = analysis;
  const ws = graph.workstreams[k] as string;
  const members = graph.members[k] as Int32Array;
  for (const v of members) if (graph.cyclic[v]) return null;
  const levels = dagLevels(analysis, k);
  if (!levels) return null;
  const level = levels.level;
  const nodes: DagNode[] = [];
  const edges: DagEdge[] = [];
  for (const v of members) {
    const t = graph.tasks[v] as TaskDefinition;
    nodes.push({ task_id: t.task_id, name: String(t.name ?? ''), type: String(t.type ?? ''), status: analysis.status(v), level: level[v] as number });
  }
  // Edges sorted by (from, to): node numbers follow id order, so sort numeric keys from*n+to.
  const n = graph.n;
  let count = 0;
  for (const v of members) {
    count += (graph.depStart[v + 1] as number) - (graph.depStart[v] as number);
    for (let e = graph.outStart[v] as number, end = graph.outStart[v + 1] as number; e < end; e++) if (graph.ws[graph.outs[e] as number] !== k) count++;
  }
  const keys = new Float64Array(count);
  let c = 0;
  for (const v of members) {
    for (let e = graph.depStart[v] as number, end = graph.depStart[v + 1] as number; e < end; e++) keys[c++] = v * n + (graph.deps[e] as number);
    for (let e = graph.outStart[v] as number, end = graph.outStart[v + 1] as number; e < end; e++) {
      const w = graph.outs[e] as number;
      if (graph.ws[w] !== k) keys[c++] = w * n + v;
    }
  }
  keys.sort();
  for (let i = 0; i < count; i++) {
    const key = keys[i] as number;
    const from = Math.floor(key / n);
    const to = key - from * n;
    const edge: DagEdge = { from: graph.ids[from] as string, to: graph.ids[to] as string, type: 'depends_on' };
    const other = graph.ws[from] !== k ? from : graph.ws[to] !== k ? to : -1;
    if (other >= 0) {
      edge.external = true;
      edge.external_workstream = graph.workstreams[graph.ws[other] as number] as string;
    }
    edges.push(edge);
  }
  return {
    schema_version: DAG_VERSION,
    schema_url: DAG_URL,
    workstream_id: ws,
    generated_at: generatedAt,
    ...sourceSeq(analysis),
    nodes,
    edges,
    topological_order: Array.from(levels.order, (v) => graph.ids[v] as string),
  };
}

const sourceSeq = (analysis: Analysis): { source_last_seq?: number } =>
  analysis.input.snapshot ? { source_last_seq: analysis.input.snapshot.last_seq } : {};

type WsComputed = ReturnType<typeof planWorkstream>;
const computedCache = new WeakMap<Analysis, Map<number, WsComputed>>();

/** Plan + order of workstream k, computed once per analysis (the DAG file and the plan share the order). */
/**
 * Order and levels of workstream k (no member on a cycle): the ones its plan used when the plan was
 * computed already, else Kahn alone (planWorkstream takes exactly these before scheduling, so a DAG
 * file needs no plan); null when the workstream is not acyclic.
 */
function dagLevels(analysis: Analysis, k: number): { order: Int32Array; level: Int32Array } | null {
  const planned = computedCache.get(analysis)?.get(k);
  if (planned) return planned.order && planned.level ? { order: planned.order, level: planned.level } : null;
  const wo = workstreamOrder(analysis.graph, k, analysis.scratch);
  return wo.acyclic ? { order: wo.order, level: wo.level } : null;
}

function computed(analysis: Analysis, k: number): WsComputed {
  let cache = computedCache.get(analysis);
  if (!cache) {
    cache = new Map();
    computedCache.set(analysis, cache);
  }
  let entry = cache.get(k);
  if (!entry) {
    entry = planWorkstream(analysis.graph, k, {
      maxParallel: analysis.input.maxParallel,
      resources: analysis.input.resources,
      est: analysis.est,
      info: analysis.info,
      scratch: analysis.scratch,
    });
    cache.set(k, entry);
  }
  return entry;
}

export function buildExecutionPlan(
  analysis: Analysis,
  k: number,
  generatedAt: string,
): { plan?: ExecutionPlanFile; problems: PlanProblem[]; findings: Finding[] } {
  const result = computed(analysis, k);
  const findings: Finding[] = [];
  for (const p of result.problems) {
    const f = problemFinding(p, analysis);
    if (f) findings.push(f);
  }
  if (!result.plan) return { problems: result.problems, findings };
  const { workstream_id, ...rest } = result.plan;
  const plan: ExecutionPlanFile = {
    schema_version: PLAN_VERSION,
    schema_url: PLAN_URL,
    workstream_id,
    generated_at: generatedAt,
    ...sourceSeq(analysis),
    ...rest,
  };
  return { plan, problems: result.problems, findings };
}

/**
 * Tasks on their workstream's critical path (Decision 7 counts them as
 * critical, next to `critical: true`). Workstreams that cannot be planned add none.
 */
export function criticalPathTaskIds(analysis: Analysis): Set<string> {
  const out = new Set<string>();
  for (let k = 0; k < analysis.graph.workstreams.length; k++) {
    const r = computed(analysis, k);
    for (const id of r.plan?.critical_path_tasks ?? []) out.add(id);
  }
  return out;
}

/**
 * The exact bytes of a derived file: top-level fields one per line, and each
 * element of a top-level array (or member of a top-level object) compact on
 * its own line: readable, diff-friendly (one node, edge or stage per line)
 * and about a third of the size of fully indented JSON.
 */
export function serializeDerived(value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `${JSON.stringify(value, null, 2)}\n`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  const lines: string[] = ['{'];
  entries.forEach(([key, v], i) => {
    const comma = i < entries.length - 1 ? ',' : '';
    const k = JSON.stringify(key);
    if (Array.isArray(v) && v.length > 0) {
      lines.push(`  ${k}: [`);
      v.forEach((el, j) => lines.push(`    ${JSON.stringify(el)}${j < v.length - 1 ? ',' : ''}`));
      lines.push(`  ]${comma}`);
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
      const members = Object.entries(v as Record<string, unknown>);
      lines.push(`  ${k}: {`);
      members.forEach(([mk, mv], j) => lines.push(`    ${JSON.stringify(mk)}: ${JSON.stringify(mv)}${j < members.length - 1 ? ',' : ''}`));
      lines.push(`  }${comma}`);
    } else {
      lines.push(`  ${k}: ${JSON.stringify(v)}${comma}`);
    }
  });
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

const GENERATED_AT = /"generated_at": "([^"]*)"/;

/**
 * Content without its generation time (a fixed-length ISO string near the top). The source seq is kept:
 * a file derived from an older snapshot is restamped even when nothing else changed, so a slower writer
 * holding a snapshot in between can never pass the seq guard with content older than the file's.
 */
const normalise = (text: string): string => text.replace(GENERATED_AT, '"generated_at": ""');

/** What this process last wrote per path, trusted while the file's size and mtime are unchanged. */
const lastWritten = new Map<string, { text: string; size: number; mtimeMs: number }>();

/** True when the file already holds `fresh` apart from generated_at (then it is not rewritten). */
function unchanged(path: string, fresh: string): boolean {
  let size: number;
  let mtimeMs: number;
  try {
    const st = statSync(path);
    size = st.size;
    mtimeMs = st.mtimeMs;
  } catch {
    return false;
  }
  if (size !== Buffer.byteLength(fresh)) return false; // generated_at has a fixed length
  const cached = lastWritten.get(path);
  if (cached && cached.size === size && cached.mtimeMs === mtimeMs) return cached.text === normalise(fresh);
  let old: string;
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    return false;
  }
  return normalise(old) === normalise(fresh);
}

async function writeDerived(path: string, text: string, seq: number): Promise<void> {
  // A file that records a newer snapshot is kept (it is fresher than ours).
  if (!(await writeDerivedFile(path, text, seq))) {
    lastWritten.delete(path);
    return;
  }
  try {
    const st = statSync(path);
    lastWritten.set(path, { text: normalise(text), size: st.size, mtimeMs: st.mtimeMs });
  } catch {
    lastWritten.delete(path);
  }
}

/** Durable writes in flight at once when many derived files change. */
const WRITE_CONCURRENCY = 8;

const historyCache = new Map<string, { history: RunHistory; key: string }>();

/** Changes when the live log or the archive directory changes. */
function logKey(root: string): string {
  const part = (p: string): string => {
    try {
      const st = statSync(p);
      return `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      return '-';
    }
  };
  return `${part(statePaths(root).log)}|${part(statePaths(root).archiveDir)}`;
}

/**
 * Past run durations for estimates. Kept per process and root: reused while
 * the log is unchanged; when the snapshot's `last_events` continue what was
 * already read, only they are applied; otherwise the whole log (archives
 * included) is streamed once.
 */
export async function historyFor(root: string, snapshot: Snapshot | null): Promise<RunHistory> {
  const key = logKey(root);
  const cached = historyCache.get(root);
  if (cached && cached.key === key) return cached.history;
  if (cached && snapshot) {
    const h = cached.history;
    if (snapshot.last_seq === h.lastSeq) {
      cached.key = key;
      return h;
    }
    const fresh = (snapshot.last_events ?? []).filter((e) => e.seq > h.lastSeq).sort((a, b) => a.seq - b.seq);
    if (fresh.length > 0 && fresh[0]!.seq === h.lastSeq + 1 && fresh[fresh.length - 1]!.seq === snapshot.last_seq) {
      for (const e of fresh) h.apply(e);
      cached.key = key;
      return h;
    }
  }
  // Another process read the log before: continue its cached history with the lines appended since.
  const continued = loadCachedHistory(root);
  if (continued) {
    historyCache.set(root, { history: continued, key });
    saveCachedHistory(root, continued);
    return continued;
  }
  const history = new RunHistory();
  if (existsSync(stateDirOf(root))) {
    try {
      for await (const event of readEvents(root, { mode: 'collect', onProblem: () => undefined })) history.apply(event);
      saveCachedHistory(root, history);
    } catch {
      // An unreadable log only costs history-based estimates; the log's own rules report it.
    }
  }
  historyCache.set(root, { history, key });
  return history;
}

export interface WriteGraphOptions {
  maxParallel?: number;
  /** Only these workstreams (default: all); stale files are removed only when all are written. */
  workstreams?: Iterable<string>;
  resources?: ReadonlyMap<string, ResourceLike>;
  history?: RunHistory;
  now?: Date;
}

interface DeriveCache {
  /** The definitions the analysis was made from; their texts are computed only when a different set must be compared. */
  taskSet: TaskSetLike;
  texts: Map<string, string> | null;
  analysis: Analysis;
  resKey: string;
  planFindings: Map<string, Finding[]>;
}

/** Per root: what the last full derive saw, so the engine's next commit only re-derives what its events touched. */
const deriveCache = new Map<string, DeriveCache>();

function registryKey(root: string): string {
  return [...REGISTRY_FILES.resources, CONFIG_FILE]
    .map((f) => {
      try {
        const st = statSync(join(root, f));
        return `${st.ino}:${st.size}:${st.mtimeMs}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}

/** Every loaded task carries its text (a value or a lazy getter), without computing it. */
function hasTexts(taskSet: TaskSetLike): boolean {
  for (const lt of taskSet.tasks.values()) {
    const d = Object.getOwnPropertyDescriptor(lt, 'text');
    if (!d || (d.get === undefined && typeof d.value !== 'string')) return false;
  }
  return true;
}

function definitionTexts(taskSet: TaskSetLike): Map<string, string> | null {
  const out = new Map<string, string>();
  for (const [id, lt] of taskSet.tasks) {
    if (typeof lt.text !== 'string') return null;
    out.set(id, `${lt.file}\u0000${lt.text}`);
  }
  return out;
}

export async function writeGraphFiles(
  root: string,
  taskSet: TaskSetLike,
  snapshot: Snapshot | null,
  options: WriteGraphOptions = {},
): Promise<{ written: string[]; removed: string[]; findings: Finding[] }> {
  const plain = !options.resources && !options.history && options.maxParallel === undefined && !options.now;
  // Texts of every definition are compared only against a previous derive of this process (never in a one-shot command).
  const texts = plain && hasTexts(taskSet);
  const resKey = plain ? registryKey(root) : '';
  if (plain && texts && snapshot) {
    const fast = await incrementalDerive(root, taskSet, snapshot, resKey, options.workstreams);
    if (fast) return fast;
  }
  const findings: Finding[] = [];
  let maxParallel = options.maxParallel;
  if (maxParallel === undefined) {
    const config = loadConfig(root);
    findings.push(...config.findings.filter((f) => f.severity === 'error'));
    maxParallel = config.max_parallelism;
  }
  let resources = options.resources;
  if (!resources) resources = loadResourcesCached(root).resources as ReadonlyMap<string, ResourceLike>;
  const history = options.history ?? (await historyFor(root, snapshot));
  const analysis = analyze({ taskSet, snapshot, resources, history, maxParallel });
  findings.push(...analysis.findings);
  const result = await writeAnalysisFiles(root, analysis, options);
  findings.push(...result.findings);
  if (plain && texts) {
    // Plan findings per workstream (by name: a full rebuild may renumber them); the ones not visited keep their last
    // value. They depend on definitions and the registry only, so the others are computed when first asked for (a
    // one-shot command derives once and never asks: planning every workstream would cost more than the whole derive).
    const previous = deriveCache.get(root)?.planFindings;
    const wanted = options.workstreams ? new Set(options.workstreams) : null;
    const planFindings = new Map<string, Finding[]>();
    analysis.graph.workstreams.forEach((ws, k) => {
      const kept = wanted && !wanted.has(ws) ? previous?.get(ws) : undefined;
      if (kept) planFindings.set(ws, kept);
      else if (!wanted || wanted.has(ws)) planFindings.set(ws, buildExecutionPlan(analysis, k, '').findings);
    });
    deriveCache.set(root, { taskSet, texts: null, analysis, resKey, planFindings });
  } else {
    deriveCache.delete(root);
  }
  return { written: result.written, removed: result.removed, findings };
}

/**
 * The engine's common case: same definitions, registry and config as the
 * last derive. Only tasks whose runtime state changed in the snapshot can
 * change a derived file (status in the DAG file, history-based estimate in
 * the plan), so the graph is reused and only their workstreams (plus any the
 * caller names) are re-derived. Returns null when the fast path does not apply.
 */
async function incrementalDerive(
  root: string,
  taskSet: TaskSetLike,
  snapshot: Snapshot,
  resKey: string,
  also: Iterable<string> | undefined,
): Promise<{ written: string[]; removed: string[]; findings: Finding[] } | null> {
  const cache = deriveCache.get(root);
  if (!cache || cache.resKey !== resKey) return null;
  if (cache.taskSet !== taskSet) {
    // Another TaskSet object (definitions re-read): the graph is reused only when every definition text is the same.
    const texts = definitionTexts(taskSet);
    const before = (cache.texts ??= definitionTexts(cache.taskSet));
    if (!texts || !before || before.size !== texts.size) return null;
    for (const [id, text] of texts) if (before.get(id) !== text) return null;
    cache.taskSet = taskSet;
    cache.texts = texts;
  }
  const prev = cache.analysis;
  const history = await historyFor(root, snapshot);
  const { graph } = prev;
  // Tasks whose runtime state differs from the previous snapshot.
  const before = new Map<string, TaskState>();
  for (const t of prev.input.snapshot?.tasks ?? []) before.set(t.task_id, t);
  const touched = new Set<number>();
  for (const t of snapshot.tasks) {
    const old = before.get(t.task_id);
    if (old && old.status === t.status && old.updated_at === t.updated_at && old.retry_count === t.retry_count) continue;
    const v = graph.index.get(t.task_id);
    if (v !== undefined) touched.add(v);
  }
  if (history !== prev.input.history) {
    // The run history was re-read (not continued): every history-based estimate may differ.
    for (let v = 0; v < graph.n; v++) if (prev.info[v]?.source !== 'explicit') touched.add(v);
  }
  const est = prev.est;
  const info = prev.info;
  for (const v of touched) {
    const e = estimateTask(graph.tasks[v] as TaskDefinition, history);
    info[v] = e;
    est[v] = e.seconds;
  }
  const analysis = fromGraph({ ...prev.input, taskSet, snapshot, history }, graph, { est, info });
  const affected = new Set<string>(also ?? []);
  for (const v of touched) affected.add(graph.workstreams[graph.ws[v] as number] as string);
  const result = affected.size > 0 ? await writeAnalysisFiles(root, analysis, { workstreams: affected }) : { written: [], removed: [], findings: [] };
  graph.workstreams.forEach((ws, k) => {
    if (affected.has(ws)) cache.planFindings.set(ws, buildExecutionPlan(analysis, k, '').findings);
  });
  cache.analysis = analysis;
  const findings = [...analysis.findings];
  graph.workstreams.forEach((ws, k) => {
    let list = cache.planFindings.get(ws);
    if (!list) cache.planFindings.set(ws, (list = buildExecutionPlan(analysis, k, '').findings));
    findings.push(...list);
  });
  return { written: result.written, removed: result.removed, findings };
}

/**
 * Write the DAG and plan files of an analysis (all workstreams, or only
 * `options.workstreams`: a named workstream that has no tasks any more gets
 * its files removed). Returns the plan findings of the workstreams visited.
 */
export async function writeAnalysisFiles(
  root: string,
  analysis: Analysis,
  options: { workstreams?: Iterable<string>; now?: Date; /** false: the caller knows the DAG files are unchanged. */ dag?: boolean } = {},
): Promise<{ written: string[]; removed: string[]; findings: Finding[] }> {
  const stateDir = stateDirOf(root);
  if (!existsSync(stateDir)) return writeAnalysisFilesLocked(root, analysis, options);
  // One derive lock for the batch: compare-and-replace of every file is atomic against other processes.
  return withDeriveLock(stateDir, () => writeAnalysisFilesLocked(root, analysis, options));
}

async function writeAnalysisFilesLocked(
  root: string,
  analysis: Analysis,
  options: { workstreams?: Iterable<string>; now?: Date; dag?: boolean },
): Promise<{ written: string[]; removed: string[]; findings: Finding[] }> {
  const seq = analysis.input.snapshot?.last_seq ?? 0;
  const findings: Finding[] = [];
  const stateDir = stateDirOf(root);
  const generatedAt = (options.now ?? new Date()).toISOString();
  const wanted = options.workstreams ? new Set(options.workstreams) : null;
  const written: string[] = [];
  const removed: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const failures: unknown[] = [];
  const { graph } = analysis;
  const live = new Set(graph.workstreams);
  for (let k = 0; k < graph.workstreams.length; k++) {
    const ws = graph.workstreams[k] as string;
    if (wanted && !wanted.has(ws)) continue;
    if (!TASK_ID_PATTERN.test(ws)) {
      const first = graph.members[k]?.[0];
      const at = analysis.locate(graph.ids[first ?? 0] as string, ['workstream_id']);
      findings.push({
        requirement: 'DAG-VIEW-001',
        severity: 'error',
        ...at,
        message: `workstream id "${ws}" cannot name a file (.state/dag_${ws}.json); no DAG or plan was written for it`,
        fix: 'use letters, digits, ".", "_" and "-" only (Decision 5) and move the task files to the matching directory',
      });
      continue;
    }
    const dag = options.dag === false ? null : buildDagFile(analysis, k, generatedAt);
    const planned = buildExecutionPlan(analysis, k, generatedAt);
    findings.push(...planned.findings);
    const jobs: Array<[string, unknown]> = [];
    if (dag) jobs.push([dagFileName(ws), dag]);
    if (planned.plan) jobs.push([planFileName(ws), planned.plan]);
    for (const [name, value] of jobs) {
      const path = join(stateDir, name);
      const text = serializeDerived(value);
      if (unchanged(path, text)) continue;
      // Up to WRITE_CONCURRENCY durable writes in flight, so their fsyncs overlap.
      if (inFlight.size >= WRITE_CONCURRENCY) await Promise.race(inFlight);
      const p: Promise<void> = writeDerived(path, text, seq)
        .catch((error: unknown) => void failures.push(error))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      written.push(stateRel(name));
    }
  }
  await Promise.all(inFlight);
  if (failures.length > 0) throw failures[0];
  if (existsSync(stateDir)) {
    // A workstream whose directory still holds task files keeps its derived files: they may be mid-edit or invalid for a moment.
    const gone = (ws: string): boolean => {
      if (live.has(ws)) return false;
      try {
        return !readdirSync(join(root, 'tasks', ws)).some((f) => f.endsWith('.json'));
      } catch {
        return true;
      }
    };
    const names = wanted
      ? [...wanted].filter((ws) => TASK_ID_PATTERN.test(ws) && gone(ws)).flatMap((ws) => [dagFileName(ws), planFileName(ws)])
      : readdirSync(stateDir).filter((name) => {
          const m = DAG_FILE_PATTERN.exec(name) ?? PLAN_FILE_PATTERN.exec(name);
          return m !== null && gone(m[1] as string);
        });
    for (const name of names) {
      try {
        unlinkSync(join(stateDir, name));
        removed.push(stateRel(name));
      } catch {
        // already gone
      }
    }
  }
  return { written, removed, findings };
}

