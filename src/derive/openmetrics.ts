/**
 * Prometheus / OpenMetrics text exposition of metrics.json (requirement OBS-002).
 *
 * Public API (stable):
 *   - toOpenMetrics(metrics): string — one metric family per quantity, each
 *     with `# HELP` and `# TYPE` lines, labels for per-status counts and error
 *     kinds, ending with `# EOF`. Accepted by `promtool check metrics`;
 *     scrape-able or pushable to a time-series database (retention is the
 *     database's setting: keep 30 days, e.g. `--storage.tsdb.retention.time=30d`).
 *   - OPENMETRICS_CONTENT_TYPE (stable).
 * Integration points: a future `orc-state metrics` command / HTTP exporter,
 * rule OBS-002 (renders .state/metrics.json and checks the text).
 * Dependencies: ./metrics.js (types).
 */
import type { MetricsFile } from './metrics.js';

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

type Sample = { labels?: Record<string, string>; value: number };

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function family(name: string, help: string, samples: Sample[], unit?: string): string {
  const lines = [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} gauge`];
  if (unit) lines.push(`# UNIT ${name} ${unit}`);
  for (const s of samples) {
    const labels = s.labels
      ? `{${Object.entries(s.labels)
          .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
          .join(',')}}`
      : '';
    lines.push(`${name}${labels} ${formatValue(s.value)}`);
  }
  return lines.join('\n');
}

const byLabel = (label: string, counts: Record<string, number>): Sample[] =>
  Object.keys(counts).map((k) => ({ labels: { [label]: k }, value: counts[k] as number }));

export function toOpenMetrics(metrics: MetricsFile): string {
  const p = 'orc_state';
  const t = metrics.tasks;
  const w = metrics.workers;
  const taskStatus: Record<string, number> = {
    pending: t.pending,
    queued: t.queued,
    running: t.running,
    validating: t.validating,
    retrying: t.retrying,
    completed: t.completed,
    failed: t.failed,
    cancelled: t.cancelled,
  };
  const workerStatus: Record<string, number> = {
    initializing: w.initializing,
    idle: w.idle,
    busy: w.busy,
    unresponsive: w.unresponsive,
    shutdown: w.shutdown,
  };
  const parts = [
    family(`${p}_source_last_seq`, 'last_seq of the snapshot the metrics were computed from.', [{ value: metrics.source_last_seq }]),
    family(
      `${p}_generated_timestamp_seconds`,
      'When the metrics were computed (Unix time).',
      [{ value: Date.parse(metrics.generated_at) / 1000 }],
      'seconds',
    ),
    family(`${p}_workstreams`, 'Workstreams by status.', byLabel('status', metrics.workstreams.by_status)),
    family(`${p}_workstreams_active`, 'Workstreams ready, executing or validating.', [{ value: metrics.workstreams.active }]),
    family(`${p}_workstreams_completed_today`, 'Workstreams completed during the current UTC day.', [
      { value: metrics.workstreams.completed_today },
    ]),
    family(`${p}_workstreams_failed_today`, 'Workstreams failed during the current UTC day.', [
      { value: metrics.workstreams.failed_today },
    ]),
    family(`${p}_tasks`, 'Tasks by status.', byLabel('status', taskStatus)),
    family(`${p}_tasks_completed_today`, 'Tasks completed during the current UTC day.', [{ value: t.completed_today }]),
    family(`${p}_tasks_failed_today`, 'Tasks failed during the current UTC day.', [{ value: t.failed_today }]),
    family(
      `${p}_task_avg_duration_seconds`,
      'Mean started_at to completed_at of finished tasks.',
      t.avg_duration_seconds === null ? [] : [{ value: t.avg_duration_seconds }],
      'seconds',
    ),
    family(`${p}_task_completion_rate_per_hour`, 'Tasks completed in the last hour.', [{ value: t.completion_rate_per_hour }]),
    family(`${p}_workers`, 'Workers by status.', byLabel('status', workerStatus)),
    family(`${p}_worker_utilization_ratio`, 'Busy workers over idle, busy and unresponsive workers.', [{ value: w.avg_utilization }], 'ratio'),
    family(`${p}_errors_today`, 'Warning, error and critical events of the current UTC day, by event name.', byLabel('kind', metrics.errors.by_kind)),
    family(`${p}_errors_today_all`, 'All warning, error and critical events of the current UTC day.', [{ value: metrics.errors.total }]),
  ];
  return `${parts.join('\n')}\n# EOF\n`;
}
