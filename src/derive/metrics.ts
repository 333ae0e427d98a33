/**
 * `.state/metrics.json` (requirement OBS-001): counts and rates derived from
 * the snapshot plus the recent events of the log.
 *
 * Public API (stable):
 *   - MetricsFile, METRICS_SCHEMA_VERSION
 *   - computeMetrics(snapshot, recentEvents, now): MetricsFile (pure)
 *       workstreams {total, active (ready/executing/validating), completed_today,
 *         failed_today, by_status}; tasks {total, one count per status,
 *         completed_today, failed_today, avg_duration_seconds (started_at ->
 *         completed_at over tasks with both), completion_rate_per_hour (tasks
 *         completed in the hour before `now`)}; workers {total, one count per
 *         status, avg_utilization (busy / (idle + busy + unresponsive))};
 *       cost {today_usd, by_workstream} (only once an attempt recorded metadata.cost_usd):
 *         spend of the current UTC day's finished attempts (`orc-state run`);
 *       errors {total, by_kind}: events of the current UTC day with severity
 *         warning, error or critical, counted by event name.
 *       "today" = the current UTC day of `now`. Events after `now` are ignored.
 *   - serializeMetrics(metrics): string (2-space JSON + newline)
 *   - writeMetrics(stateDir, metrics): Promise<void> — durable atomic replace of
 *     metrics.json, then of metrics.prom (the same figures as Prometheus /
 *     OpenMetrics text, OBS-002) so a node_exporter textfile collector or a
 *     push job can ship them to a time-series database.
 *   - METRICS_FILE ('metrics.json'), METRICS_PROM_FILE ('metrics.prom')
 * Integration points: engine derive step after each commit and the periodic
 * refresh (B2), `toOpenMetrics` (./openmetrics.ts), rule OBS-001.
 * Dependencies: ../io/atomic-write.js, ../schema/registry.js, ../model.js, ./openmetrics.js.
 */
import { join } from 'node:path';
import { withDeriveLock, writeDerivedFile } from './guard.js';
import { TASK_STATUSES, WORKER_STATUSES, WORKSTREAM_STATUSES, type OrcEvent, type Snapshot } from '../model.js';
import { schemaId } from '../schema/registry.js';
import { toOpenMetrics } from './openmetrics.js';
import { METRICS_VERSION } from '../core/versions.js';

export const METRICS_SCHEMA_VERSION = METRICS_VERSION;
export const METRICS_FILE = 'metrics.json';
export const METRICS_PROM_FILE = 'metrics.prom';

export interface MetricsFile {
  schema_version: string;
  schema_url: string;
  generated_at: string;
  source_last_seq: number;
  source_timestamp: string;
  window: { day_start: string; hour_start: string };
  workstreams: {
    total: number;
    active: number;
    completed_today: number;
    failed_today: number;
    by_status: Record<string, number>;
  };
  tasks: {
    total: number;
    pending: number;
    queued: number;
    running: number;
    validating: number;
    retrying: number;
    completed: number;
    failed: number;
    cancelled: number;
    completed_today: number;
    failed_today: number;
    avg_duration_seconds: number | null;
    completion_rate_per_hour: number;
  };
  workers: {
    total: number;
    initializing: number;
    idle: number;
    busy: number;
    unresponsive: number;
    shutdown: number;
    avg_utilization: number;
  };
  errors: { total: number; by_kind: Record<string, number> };
  /** Spend of today's finished attempts (metadata.cost_usd), present once any attempt recorded one. */
  cost?: { today_usd: number; by_workstream: Record<string, number> };
}

const ACTIVE_WS = new Set(['ready', 'executing', 'validating']);
const ERROR_SEVERITIES = new Set(['warning', 'error', 'critical']);

const round = (n: number, digits = 3): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

export function computeMetrics(snapshot: Snapshot, recentEvents: OrcEvent[], now: Date): MetricsFile {
  const nowMs = now.getTime();
  const dayStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const hourStart = nowMs - 3_600_000;

  const wsByStatus: Record<string, number> = Object.fromEntries(WORKSTREAM_STATUSES.map((s) => [s, 0]));
  for (const w of snapshot.workstreams) wsByStatus[w.status] = (wsByStatus[w.status] ?? 0) + 1;
  const taskCounts: Record<string, number> = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0]));
  let durationSum = 0;
  let durationN = 0;
  for (const t of snapshot.tasks) {
    taskCounts[t.status] = (taskCounts[t.status] ?? 0) + 1;
    if (t.started_at && t.completed_at) {
      const d = Date.parse(t.completed_at) - Date.parse(t.started_at);
      if (Number.isFinite(d) && d >= 0) {
        durationSum += d / 1000;
        durationN++;
      }
    }
  }
  const workerCounts: Record<string, number> = Object.fromEntries(WORKER_STATUSES.map((s) => [s, 0]));
  for (const w of snapshot.workers) workerCounts[w.status] = (workerCounts[w.status] ?? 0) + 1;

  let wsCompletedToday = 0;
  let wsFailedToday = 0;
  let tasksCompletedToday = 0;
  let tasksFailedToday = 0;
  let completedLastHour = 0;
  const byKind = new Map<string, number>();
  let errorsTotal = 0;
  let costToday = 0;
  let costSeen = false;
  const costByWs = new Map<string, number>();
  for (const e of recentEvents) {
    const t = Date.parse(e.timestamp);
    if (!Number.isFinite(t) || t > nowMs) continue;
    const today = t >= dayStart;
    if (e.entity_type === 'workstream' && today) {
      if (e.to_state === 'completed') wsCompletedToday++;
      else if (e.to_state === 'failed') wsFailedToday++;
    }
    if (e.entity_type === 'task') {
      if (today && e.to_state === 'completed') tasksCompletedToday++;
      if (today && e.to_state === 'failed') tasksFailedToday++;
      if (e.to_state === 'completed' && t > hourStart) completedLastHour++;
    }
    const cost = e.metadata?.['cost_usd'];
    if (today && e.entity_type === 'task' && typeof cost === 'number' && Number.isFinite(cost) && cost >= 0) {
      costSeen = true;
      costToday += cost;
      const ws = e.workstream_id ?? 'unknown';
      costByWs.set(ws, (costByWs.get(ws) ?? 0) + cost);
    }
    if (today && ERROR_SEVERITIES.has(e.severity)) {
      byKind.set(e.event, (byKind.get(e.event) ?? 0) + 1);
      errorsTotal++;
    }
  }
  const live = (workerCounts['idle'] ?? 0) + (workerCounts['busy'] ?? 0) + (workerCounts['unresponsive'] ?? 0);
  const kinds = [...byKind.keys()].sort();
  const c = (s: string): number => taskCounts[s] ?? 0;
  const w = (s: string): number => workerCounts[s] ?? 0;
  return {
    schema_version: METRICS_SCHEMA_VERSION,
    schema_url: schemaId('metrics', METRICS_SCHEMA_VERSION),
    generated_at: now.toISOString(),
    source_last_seq: snapshot.last_seq,
    source_timestamp: snapshot.timestamp,
    window: { day_start: new Date(dayStart).toISOString(), hour_start: new Date(hourStart).toISOString() },
    workstreams: {
      total: snapshot.workstreams.length,
      active: snapshot.workstreams.filter((x) => ACTIVE_WS.has(x.status)).length,
      completed_today: wsCompletedToday,
      failed_today: wsFailedToday,
      by_status: wsByStatus,
    },
    tasks: {
      total: snapshot.tasks.length,
      pending: c('pending'),
      queued: c('queued'),
      running: c('running'),
      validating: c('validating'),
      retrying: c('retrying'),
      completed: c('completed'),
      failed: c('failed'),
      cancelled: c('cancelled'),
      completed_today: tasksCompletedToday,
      failed_today: tasksFailedToday,
      avg_duration_seconds: durationN ? round(durationSum / durationN) : null,
      completion_rate_per_hour: completedLastHour,
    },
    workers: {
      total: snapshot.workers.length,
      initializing: w('initializing'),
      idle: w('idle'),
      busy: w('busy'),
      unresponsive: w('unresponsive'),
      shutdown: w('shutdown'),
      avg_utilization: live ? round(w('busy') / live, 4) : 0,
    },
    errors: { total: errorsTotal, by_kind: Object.fromEntries(kinds.map((k) => [k, byKind.get(k) as number])) },
    ...(costSeen ? { cost: { today_usd: round(costToday, 6), by_workstream: Object.fromEntries([...costByWs.keys()].sort().map((k) => [k, round(costByWs.get(k) as number, 6)])) } } : {}),
  };
}

export function serializeMetrics(metrics: MetricsFile): string {
  return `${JSON.stringify(metrics, null, 2)}\n`;
}

/** Write metrics.json and metrics.prom as a pair, unless metrics.json records a newer seq (then neither is replaced). */
export async function writeMetrics(stateDir: string, metrics: MetricsFile): Promise<boolean> {
  return withDeriveLock(stateDir, async () => {
    if (!(await writeDerivedFile(join(stateDir, METRICS_FILE), serializeMetrics(metrics), metrics.source_last_seq))) return false;
    await writeDerivedFile(join(stateDir, METRICS_PROM_FILE), toOpenMetrics(metrics), metrics.source_last_seq);
    return true;
  });
}
