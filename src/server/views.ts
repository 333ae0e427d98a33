/**
 * The JSON documents `orc-state serve` answers with (API v1, docs/api/SERVE_API.md):
 * the dashboard snapshot, one task, one workstream's plan. Built from the same
 * readers as the CLI (snapshot, task definitions, graph analysis, `why`), cached
 * by what they depend on (current.json's stat, the tasks/ signature, the seq).
 *
 * Public API (stable): API_VERSION; RepoViews (stateView, stateKey, taskView, planView);
 * StateView, TaskView, PlanView, ProblemView types; spendOf(event).
 * Read-only: never writes a file, never takes the lock.
 * Integration points: src/server/server.ts (routes), src/server/feed.ts (events, problems).
 * Dependencies: node:fs, ../engine/{snapshot,why,paths,definitions-cache}.js,
 * ../repo/load-tasks.js, ../graph/{files,estimates}.js, ../registry/index.js,
 * ../config.js, ../derive/metrics.js, ../model.js.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { loadConfig } from '../config.js';
import { computeMetrics, type MetricsFile } from '../derive/metrics.js';
import { definitionsSignature } from '../engine/definitions-cache.js';
import { attemptLogPath, rel, statePaths } from '../engine/paths.js';
import { readSnapshot } from '../engine/snapshot.js';
import { explainTask, type WhyReport } from '../engine/why.js';
import { OrcError } from '../errors.js';
import { analyze, buildDagFile, buildExecutionPlan, historyFor, type Analysis, type DagFile, type ExecutionPlanFile } from '../graph/files.js';
import { TASK_ID_PATTERN, type OrcEvent, type Snapshot, type TaskDefinition, type TaskState } from '../model.js';
import { loadResources } from '../registry/index.js';
import { loadTasks, type TaskSet } from '../repo/load-tasks.js';

/** Bumped on a breaking change of any document below (minor: new optional fields). */
export const API_VERSION = '1.0.0';

export interface ProblemView {
  kind: string;
  file: string;
  line: number;
  message: string;
}

export interface TaskRow {
  task_id: string;
  workstream_id: string;
  name: string;
  status: string;
  critical: boolean;
  retry_count: number;
  max_retries: number;
  assigned_worker: string | null;
  started_at: string | null;
  completed_at: string | null;
  last_error: string | null;
  orphaned: boolean;
}

export interface Spend {
  total_usd: number;
  by_workstream: Record<string, number>;
  events: number;
}

export interface StateView {
  api_version: string;
  generated_at: string;
  repository: string;
  last_seq: number;
  log_last_seq: number;
  snapshot_timestamp: string | null;
  workstreams: Array<{ workstream_id: string; status: string; total: number; counts: Record<string, number>; completed: number; progress: number }>;
  tasks: TaskRow[];
  workers: Array<{ worker_id: string; status: string; capabilities: string[]; current_task: string | null; registered_at: string; last_heartbeat: string }>;
  metrics: {
    completion: { completed: number; total: number; ratio: number; rate_per_hour: number };
    durations: Array<{ task_id: string; workstream_id: string; actual_seconds: number; estimate_seconds: number | null }>;
    spend: Spend | null;
    summary: MetricsFile | null;
  };
  problems: ProblemView[];
}

export interface LogTail {
  file: string;
  attempt: number;
  exists: boolean;
  size: number;
  truncated: boolean;
  text: string;
}

export interface TaskView {
  api_version: string;
  task: TaskRow | null;
  definition: TaskDefinition | null;
  definition_file: string | null;
  why: WhyReport | null;
  current_attempt: number | null;
  log: LogTail | null;
  /** Why the log tail is absent, when it is. */
  log_note: string | null;
}

export interface PlanView {
  api_version: string;
  workstream_id: string;
  last_seq: number;
  dag: DagFile | null;
  plan: ExecutionPlanFile | null;
  problems: string[];
}

/** What the live feed knows and the views need (see src/server/feed.ts). */
export interface FeedFacts {
  lastSeq(): number;
  recentEvents(): OrcEvent[];
  lastSeenOf(entityType: string, entityId: string): string | undefined;
  spend(): Spend | null;
  problems(): ProblemView[];
}

/** Cost recorded by a worker on an event (`metadata.cost_usd`, a non-negative number), else 0. */
export function spendOf(e: OrcEvent): number {
  const c = e.metadata?.cost_usd;
  return typeof c === 'number' && Number.isFinite(c) && c >= 0 ? c : 0;
}

const LOG_TAIL_BYTES = 16 * 1024;
const DEFS_RECHECK_MS = 1000;

export class RepoViews {
  private snapKey = '';
  private snap: Snapshot | null = null;
  private snapProblem: string | null = null;
  private defsCheckedAt = 0;
  private defsKey: string | null = '';
  private defs: TaskSet | null = null;
  private analysisKey = '';
  private analysis: Analysis | null = null;

  constructor(
    readonly root: string,
    private readonly feed: FeedFacts,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** current.json, re-read only when its stat changed. */
  snapshot(): { snapshot: Snapshot | null; problem: string | null } {
    const file = statePaths(this.root).current;
    let key = 'missing';
    try {
      const st = statSync(file);
      key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      /* missing */
    }
    if (key !== this.snapKey) {
      this.snapKey = key;
      try {
        this.snap = readSnapshot(this.root);
        this.snapProblem = this.snap ? null : 'no .state/current.json yet (run `orc-state init` then `orc-state sync`)';
      } catch (error) {
        // Keep the last good snapshot on screen; show why the new one is unusable.
        this.snapProblem = error instanceof Error ? error.message : String(error);
        this.snapKey = ''; // retry on the next request
      }
    }
    return { snapshot: this.snap, problem: this.snapProblem };
  }

  /** Task definitions, re-loaded when anything under tasks/ changed (checked at most once a second). */
  definitions(): TaskSet {
    const now = this.clock().getTime();
    if (!this.defs || now - this.defsCheckedAt >= DEFS_RECHECK_MS) {
      this.defsCheckedAt = now;
      const key = definitionsSignature(this.root);
      if (!this.defs || key === null || key !== this.defsKey) {
        this.defs = loadTasks(this.root);
        this.defsKey = key;
      }
    }
    return this.defs;
  }

  private row(t: TaskState, defs: TaskSet): TaskRow {
    const def = defs.tasks.get(t.task_id)?.task;
    return {
      task_id: t.task_id,
      workstream_id: t.workstream_id,
      name: def ? String(def.name ?? '') : '',
      status: t.status,
      critical: def?.critical === true,
      retry_count: t.retry_count,
      max_retries: t.max_retries,
      assigned_worker: t.assigned_worker,
      started_at: t.started_at,
      completed_at: t.completed_at,
      last_error: t.last_error,
      orphaned: t.orphaned === true,
    };
  }

  /** Changes whenever stateView's answer can (apart from the clock): snapshot, definitions, log, problems. */
  stateKey(): string {
    this.snapshot();
    this.definitions();
    return `${this.snapKey}|${this.defsKey}|${this.feed.lastSeq()}|${this.feed.problems().length}`;
  }

  stateView(): StateView {
    const now = this.clock();
    const { snapshot, problem } = this.snapshot();
    const defs = this.definitions();
    const problems: ProblemView[] = [...this.feed.problems()];
    if (problem) problems.push({ kind: 'snapshot', file: '.state/current.json', line: 0, message: problem });
    const taskErrors = defs.findings.filter((f) => f.severity === 'error');
    for (const f of taskErrors.slice(0, 50)) problems.push({ kind: 'definition', file: f.file, line: f.line, message: f.message });
    if (taskErrors.length > 50) problems.push({ kind: 'definition', file: 'tasks/', line: 0, message: `${taskErrors.length - 50} more task definition errors (run \`orc-state validate\`)` });

    const tasks = (snapshot?.tasks ?? []).map((t) => this.row(t, defs));
    const byWs = new Map<string, TaskRow[]>();
    for (const t of tasks) {
      const list = byWs.get(t.workstream_id) ?? [];
      list.push(t);
      byWs.set(t.workstream_id, list);
    }
    const workstreams = (snapshot?.workstreams ?? []).map((w) => {
      const list = byWs.get(w.workstream_id) ?? [];
      const counts: Record<string, number> = {};
      for (const t of list) counts[t.status] = (counts[t.status] ?? 0) + 1;
      const completed = counts.completed ?? 0;
      return { workstream_id: w.workstream_id, status: w.status, total: list.length, counts, completed, progress: list.length ? completed / list.length : 0 };
    });
    const workers = (snapshot?.workers ?? []).map((w) => {
      const seen = this.feed.lastSeenOf('worker', w.worker_id);
      const last = seen && Date.parse(seen) > Date.parse(w.updated_at) ? seen : w.updated_at;
      return { worker_id: w.worker_id, status: w.status, capabilities: w.capabilities, current_task: w.current_task, registered_at: w.registered_at, last_heartbeat: last };
    });
    const durations: StateView['metrics']['durations'] = [];
    for (const t of tasks) {
      if (!t.started_at || !t.completed_at || t.status !== 'completed') continue;
      const actual = (Date.parse(t.completed_at) - Date.parse(t.started_at)) / 1000;
      if (!Number.isFinite(actual) || actual < 0) continue;
      const est = defs.tasks.get(t.task_id)?.task.execution?.estimated_duration_seconds;
      durations.push({ task_id: t.task_id, workstream_id: t.workstream_id, actual_seconds: actual, estimate_seconds: typeof est === 'number' ? est : null });
    }
    const summary = snapshot ? computeMetrics(snapshot, this.feed.recentEvents(), now) : null;
    const completed = tasks.filter((t) => t.status === 'completed').length;
    return {
      api_version: API_VERSION,
      generated_at: now.toISOString(),
      repository: basename(this.root),
      last_seq: snapshot?.last_seq ?? 0,
      log_last_seq: this.feed.lastSeq(),
      snapshot_timestamp: snapshot?.timestamp ?? null,
      workstreams,
      tasks,
      workers,
      metrics: {
        completion: { completed, total: tasks.length, ratio: tasks.length ? completed / tasks.length : 0, rate_per_hour: summary?.tasks.completion_rate_per_hour ?? 0 },
        durations,
        spend: this.feed.spend(),
        summary,
      },
      problems,
    };
  }

  /** null when no task of that id exists (neither in the snapshot nor in tasks/). */
  async taskView(taskId: string): Promise<TaskView | null> {
    if (!TASK_ID_PATTERN.test(taskId)) return null;
    const { snapshot } = this.snapshot();
    const defs = this.definitions();
    const state = snapshot?.tasks.find((t) => t.task_id === taskId);
    const loaded = defs.tasks.get(taskId);
    if (!state && !loaded) return null;
    let why: WhyReport | null = null;
    try {
      why = await explainTask(this.root, taskId);
    } catch (error) {
      if (!(error instanceof OrcError && error.code === 'NOT_FOUND')) throw error;
    }
    const attempt = why && why.attempts.length ? why.attempts.length : null;
    let log: LogTail | null = null;
    let note: string | null = null;
    if (attempt === null) note = 'no attempt has started yet';
    else {
      log = readLogTail(this.root, taskId, attempt);
      if (!log.exists) note = `${log.file} does not exist (the worker that ran attempt ${attempt} wrote no log)`;
    }
    return {
      api_version: API_VERSION,
      task: state ? this.row(state, defs) : null,
      definition: loaded?.task ?? null,
      definition_file: loaded?.file ?? null,
      why,
      current_attempt: attempt,
      log,
      log_note: note,
    };
  }

  /** null when the workstream has no task definitions. */
  async planView(workstream: string): Promise<PlanView | null> {
    const { snapshot } = this.snapshot();
    const defs = this.definitions();
    const key = `${this.defsKey}|${snapshot?.last_seq ?? -1}|${this.snapKey}`;
    if (!this.analysis || key !== this.analysisKey) {
      const history = await historyFor(this.root, snapshot);
      this.analysis = analyze({
        taskSet: defs,
        snapshot,
        resources: loadResources(this.root).resources,
        history,
        maxParallel: loadConfig(this.root).max_parallelism,
      });
      this.analysisKey = key;
    }
    const analysis = this.analysis;
    const k = analysis.graph.workstreams.indexOf(workstream);
    if (k < 0) return null;
    const at = this.clock().toISOString();
    const dag = buildDagFile(analysis, k, at);
    const planned = buildExecutionPlan(analysis, k, at);
    const problems = planned.findings.map((f) => `${f.file}:${f.line}:${f.column}: ${f.message}`);
    if (!dag) problems.unshift(`workstream ${workstream} has a dependency cycle: no DAG can be drawn (run \`orc-state plan ${workstream}\`)`);
    return { api_version: API_VERSION, workstream_id: workstream, last_seq: snapshot?.last_seq ?? 0, dag, plan: planned.plan ?? null, problems };
  }
}

/** The last LOG_TAIL_BYTES of an attempt's log, from its first complete line. */
export function readLogTail(root: string, taskId: string, attempt: number, maxBytes = LOG_TAIL_BYTES): LogTail {
  const abs = attemptLogPath(root, taskId, attempt);
  const file = rel(root, abs);
  let fd: number;
  try {
    fd = openSync(abs, 'r');
  } catch {
    return { file, attempt, exists: false, size: 0, truncated: false, text: '' };
  }
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    let text = buf.toString('utf8');
    const truncated = size > len;
    if (truncated) {
      const nl = text.indexOf('\n');
      if (nl >= 0) text = text.slice(nl + 1);
    }
    return { file, attempt, exists: true, size, truncated, text };
  } finally {
    closeSync(fd);
  }
}
