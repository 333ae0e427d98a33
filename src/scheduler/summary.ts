/**
 * The run summary: each selected task's outcome, attempts, duration against
 * its estimate, cost and log, spend per task and workstream, what could not
 * run and why. Printed at the end of `orc-state run` and written to
 * `.state/runs/<run_id>.json` (schemas/run-summary.v1.0.0.schema.json), so runs
 * can be compared (after Turborepo's run summaries).
 *
 * Public API (stable):
 *   - RUN_SUMMARY_VERSION, RUN_SUMMARY_URL
 *   - buildSummary(input) → RunSummary; writeSummary(paths, summary) → repo-relative file
 *   - RunSummary, TaskRecord, TaskOutcome
 * Outcomes: completed; failed (the task machine's failed or cancelled); blocked (a
 * dependency failed, was cancelled, is blocked or unassignable, or lies outside the
 * selection and is not completed); unassignable (no worker offers its capabilities,
 * its claims can never be met, it is on a cycle); over_budget (its estimate exceeds what
 * the budget had left); not_started (the run stopped first: interrupt or fail-fast);
 * unfinished (still retrying or queued when the run stopped).
 * Exit code: 0 when every selected task is completed, else 1 (the CLI turns an
 * interrupted run into 130/143).
 * Integration points: ./loop.ts, the CLI views, serve (runs list).
 * Dependencies: node:fs, ../schema/registry.js (schemaId), ../io/atomic-write.js, ../engine/paths.js.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskDefinition, TaskState } from '../model.js';
import { schemaId } from '../schema/registry.js';
import { writeFileDurable } from '../io/atomic-write.js';
import { rel, type StatePaths } from '../engine/paths.js';

export const RUN_SUMMARY_VERSION = '1.0.0';
export const RUN_SUMMARY_URL = schemaId('run-summary', RUN_SUMMARY_VERSION);

export type TaskOutcome = 'completed' | 'failed' | 'blocked' | 'unassignable' | 'over_budget' | 'not_started' | 'unfinished';

export interface TaskRecord {
  task_id: string;
  workstream_id: string;
  attempts: number;
  duration_seconds: number;
  estimated_duration_seconds: number;
  cost_usd: number;
  cost_known: boolean;
  logs: string[];
  last_error: string | null;
}

export interface RunSummary {
  schema_version: string;
  schema_url: string;
  run_id: string;
  started_at: string;
  finished_at: string;
  duration_seconds: number;
  outcome: 'completed' | 'failed' | 'interrupted' | 'fail_fast';
  exit_code: number;
  jobs: number;
  options: { workstreams: string[]; capabilities: string[]; fail_fast: boolean; budget_usd: number | null };
  counts: Record<TaskOutcome, number> & { selected: number };
  spend: { total_usd: number; budget_usd: number | null; by_workstream: Record<string, number>; by_task: Record<string, number> };
  tasks: Array<{
    task_id: string;
    workstream_id: string;
    status: string;
    outcome: TaskOutcome;
    attempts: number;
    duration_seconds: number;
    estimated_duration_seconds: number;
    cost_usd: number | null;
    log: string | null;
    reason: string | null;
  }>;
  recovered: string[];
  commits: number;
  last_seq: number;
}

export interface SummaryInput {
  runId: string;
  root: string;
  startedAt: number;
  finishedAt: number;
  jobs: number;
  options: RunSummary['options'];
  order: string[];
  defs: ReadonlyMap<string, TaskDefinition>;
  status: ReadonlyMap<string, TaskState>;
  records: ReadonlyMap<string, TaskRecord>;
  unassignable: ReadonlyMap<string, string>;
  budgetSkipped: ReadonlySet<string>;
  interrupted: boolean;
  failFast: boolean;
  recovered: string[];
  spent: number;
  commits: number;
  lastSeq: number;
  estimates: (id: string) => number;
}

const round = (x: number, d = 6) => Math.round(x * 10 ** d) / 10 ** d;

export function buildSummary(input: SummaryInput): RunSummary {
  const selected = new Set(input.order);
  const blockedBy = new Map<string, string | null>();
  const why = (id: string, seen: Set<string>): string | null => {
    if (blockedBy.has(id)) return blockedBy.get(id) ?? null;
    if (seen.has(id)) return null;
    seen.add(id);
    let reason: string | null = null;
    for (const d of input.defs.get(id)?.dependencies ?? []) {
      const s = input.status.get(d)?.status;
      if (s === 'completed') continue;
      if (s === 'failed' || s === 'cancelled') reason = `dependency ${d} ${s}`;
      else if (input.unassignable.has(d)) reason = `dependency ${d} is unassignable`;
      else if (!selected.has(d)) reason = `dependency ${d} is outside the selected workstreams and not completed`;
      else {
        const up = why(d, seen);
        if (up) reason = `dependency ${d} is blocked (${up})`;
      }
      if (reason) break;
    }
    blockedBy.set(id, reason);
    return reason;
  };
  const counts: RunSummary['counts'] = { selected: selected.size, completed: 0, failed: 0, blocked: 0, unassignable: 0, over_budget: 0, not_started: 0, unfinished: 0 };
  const byWs: Record<string, number> = {};
  const byTask: Record<string, number> = {};
  const tasks: RunSummary['tasks'] = [];
  for (const id of [...input.order].sort()) {
    const def = input.defs.get(id) as TaskDefinition;
    const st = input.status.get(id)?.status ?? 'pending';
    const rec = input.records.get(id);
    let outcome: TaskOutcome;
    let reason: string | null = null;
    if (st === 'completed') outcome = 'completed';
    else if (st === 'failed' || st === 'cancelled') {
      outcome = 'failed';
      reason = rec?.last_error ?? input.status.get(id)?.last_error ?? null;
    } else if (input.unassignable.has(id)) {
      outcome = 'unassignable';
      reason = input.unassignable.get(id) ?? null;
    } else if ((reason = why(id, new Set()))) outcome = 'blocked';
    else if (input.budgetSkipped.has(id)) {
      outcome = 'over_budget';
      reason = `its cost estimate ($${def.execution.cost_estimate_usd ?? 0}) exceeds what the budget had left`;
    } else if (st === 'retrying' || st === 'queued' || st === 'running') {
      outcome = 'unfinished';
      reason = rec?.last_error ?? null;
    } else {
      outcome = 'not_started';
      reason = input.interrupted ? 'the run was interrupted first' : input.failFast ? 'fail-fast stopped the run first' : null;
    }
    counts[outcome]++;
    const cost = rec?.cost_known ? round(rec.cost_usd) : null;
    if (cost !== null) {
      byTask[id] = cost;
      byWs[def.workstream_id] = round((byWs[def.workstream_id] ?? 0) + cost);
    }
    tasks.push({
      task_id: id,
      workstream_id: def.workstream_id,
      status: st,
      outcome,
      attempts: rec?.attempts ?? 0,
      duration_seconds: round(rec?.duration_seconds ?? 0, 3),
      estimated_duration_seconds: round(input.estimates(id), 3),
      cost_usd: cost,
      log: rec?.logs[rec.logs.length - 1] ?? null,
      reason,
    });
  }
  const allDone = counts.completed === counts.selected;
  return {
    schema_version: RUN_SUMMARY_VERSION,
    schema_url: RUN_SUMMARY_URL,
    run_id: input.runId,
    started_at: new Date(input.startedAt).toISOString(),
    finished_at: new Date(input.finishedAt).toISOString(),
    duration_seconds: round((input.finishedAt - input.startedAt) / 1000, 3),
    outcome: input.interrupted ? 'interrupted' : input.failFast ? 'fail_fast' : allDone ? 'completed' : 'failed',
    exit_code: allDone ? 0 : 1,
    jobs: input.jobs,
    options: input.options,
    counts,
    spend: { total_usd: round(input.spent), budget_usd: input.options.budget_usd, by_workstream: byWs, by_task: byTask },
    tasks,
    recovered: input.recovered,
    commits: input.commits,
    last_seq: input.lastSeq,
  };
}

export async function writeSummary(paths: StatePaths, summary: RunSummary): Promise<string> {
  mkdirSync(paths.runsDir, { recursive: true });
  const file = join(paths.runsDir, `${summary.run_id}.json`);
  await writeFileDurable(file, `${JSON.stringify(summary, null, 2)}\n`);
  return rel(paths.root, file);
}
