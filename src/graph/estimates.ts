/**
 * Duration estimates for the critical path and stage lengths (Decision 6).
 *
 * Public API:
 *   - RunHistory: past successful run durations per task, built from events  (stable)
 *   - runHistoryFrom(events), runHistoryFromAsync(events)                     (stable)
 *   - estimateTask(task, history): Estimate                                   (stable)
 *   - median(values)                                                          (stable)
 *   - EstimateSource, Estimate                                                (stable types)
 * Rule: `execution.estimated_duration_seconds` when given, else the median of
 * the task's past successful runs in the event log, else
 * `execution.timeout_seconds`; the source is recorded next to the figure.
 * A run lasts from its first `running` entry (task_started) to `completed`
 * (task_completed); retries inside one run do not restart the clock; a run
 * that ends failed or cancelled is not a successful run and is dropped.
 * Integration points: src/graph/files.ts (plan files), `orc-state plan|ready`,
 * the DAG-VIEW-003 rule. Events come from B2's `readEvents` (async) or the
 * compliance rules' shared pass over the log (apply per event); `RunHistory.apply` also takes the few events
 * of a commit so the engine's derive step never re-reads the log.
 * Dependencies: ../model.js (types only).
 */
import type { OrcEvent } from '../model.js';

export type EstimateSource = 'explicit' | 'history' | 'timeout' | 'none';

export interface Estimate {
  seconds: number;
  source: EstimateSource;
  /** Number of past successful runs behind a 'history' estimate. */
  runs?: number;
}

export class RunHistory {
  readonly durations = new Map<string, number[]>();
  private readonly open = new Map<string, number>();
  /** Highest seq applied (-1 = none). */
  lastSeq = -1;

  apply(event: OrcEvent): void {
    if (typeof event.seq === 'number' && event.seq > this.lastSeq) this.lastSeq = event.seq;
    if (event.entity_type !== 'task') return;
    const id = event.entity_id;
    const to = event.to_state;
    if (to === 'running') {
      if (!this.open.has(id)) {
        const t = Date.parse(event.timestamp);
        if (Number.isFinite(t)) this.open.set(id, t);
      }
      return;
    }
    if (to === 'completed') {
      const start = this.open.get(id);
      this.open.delete(id);
      const end = Date.parse(event.timestamp);
      if (start === undefined || !Number.isFinite(end) || end < start) return;
      const list = this.durations.get(id);
      const seconds = (end - start) / 1000;
      if (list) list.push(seconds);
      else this.durations.set(id, [seconds]);
      return;
    }
    if (to === 'failed' || to === 'cancelled' || to === 'pending') this.open.delete(id);
  }

  medianFor(taskId: string): { seconds: number; runs: number } | undefined {
    const list = this.durations.get(taskId);
    if (!list || list.length === 0) return undefined;
    return { seconds: median(list), runs: list.length };
  }
}

export function runHistoryFrom(events: Iterable<OrcEvent>): RunHistory {
  const history = new RunHistory();
  for (const event of events) history.apply(event);
  return history;
}

export async function runHistoryFromAsync(events: AsyncIterable<OrcEvent>): Promise<RunHistory> {
  const history = new RunHistory();
  for await (const event of events) history.apply(event);
  return history;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return 0;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function nonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** The estimate of one task (see the module header for the rule). */
export function estimateTask(
  task: { task_id: string; execution?: { estimated_duration_seconds?: unknown; timeout_seconds?: unknown } },
  history?: RunHistory,
): Estimate {
  const exec = task.execution;
  if (exec && nonNegative(exec.estimated_duration_seconds)) return { seconds: exec.estimated_duration_seconds, source: 'explicit' };
  const past = history?.medianFor(task.task_id);
  if (past) return { seconds: round3(past.seconds), source: 'history', runs: past.runs };
  if (exec && nonNegative(exec.timeout_seconds)) return { seconds: exec.timeout_seconds, source: 'timeout' };
  return { seconds: 0, source: 'none' };
}

/** Millisecond precision keeps plan files stable across float noise. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
