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
 *   - checkExposition(text): ExpositionProblem[] (stable) — a strict syntax and
 *     structure check of exposition text (used by rule OBS-002 on
 *     .state/metrics.prom; tests cross-check it with `promtool check metrics`).
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
    ...(metrics.cost ? [family(`${p}_cost_usd_today`, 'Spend of the attempts finished during the current UTC day, by workstream (USD).', byLabel('workstream', metrics.cost.by_workstream))] : []),
  ];
  return `${parts.join('\n')}\n# EOF\n`;
}

export interface ExpositionProblem {
  line: number;
  message: string;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped', 'unknown', 'info', 'stateset', 'gaugehistogram']);
const SUFFIXES = ['_total', '_created', '_count', '_sum', '_bucket', '_gcount', '_gsum', '_info'];

function parseValue(v: string): boolean {
  if (v === 'NaN' || v === '+Inf' || v === '-Inf' || v === 'Inf') return true;
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v);
}

/** Parse the labels part `{a="x",b="y"}` starting at `i` (text[i] === '{'); returns the end index or an error. */
function parseLabels(text: string, i: number): { end: number; labels: string[] } | { error: string } {
  const labels: string[] = [];
  let j = i + 1;
  while (j < text.length && text[j] !== '}') {
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(j));
    if (!m) return { error: `bad label name at column ${j + 1}` };
    const name = m[0];
    j += name.length;
    if (text[j] !== '=' || text[j + 1] !== '"') return { error: `label ${name} needs ="value"` };
    j += 2;
    let value = '';
    for (;;) {
      const ch = text[j];
      if (ch === undefined) return { error: `label ${name}: unterminated value` };
      if (ch === '\\') {
        const nx = text[j + 1];
        if (nx !== '\\' && nx !== '"' && nx !== 'n') return { error: `label ${name}: invalid escape \\${nx ?? ''}` };
        value += nx;
        j += 2;
        continue;
      }
      if (ch === '"') break;
      value += ch;
      j++;
    }
    j++;
    if (labels.includes(name)) return { error: `label ${name} repeated` };
    labels.push(`${name}=${value}`);
    if (text[j] === ',') j++;
    else if (text[j] !== '}') return { error: `expected , or } after label ${name}` };
  }
  if (text[j] !== '}') return { error: 'unterminated label set' };
  return { end: j + 1, labels };
}

/**
 * Check Prometheus/OpenMetrics text the way a scraper would (the subset of
 * the format orc-state emits and any hand edit of it): metric and label
 * names, label escaping, numeric values, HELP/TYPE before the samples of
 * their family and at most once, families not interleaved, no duplicate
 * series, `# EOF` as the last line. Pure; line numbers are 1-based.
 */
export function checkExposition(text: string): ExpositionProblem[] {
  const problems: ExpositionProblem[] = [];
  if (!text.endsWith('\n')) problems.push({ line: text.split('\n').length, message: 'the text must end with a newline' });
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const declared = new Map<string, { type?: string; help?: boolean; sampled: boolean; closed: boolean }>();
  const series = new Set<string>();
  let current: string | null = null;
  let eofAt = 0;
  const familyOf = (name: string): string => {
    if (declared.has(name)) return name;
    for (const s of SUFFIXES) if (name.endsWith(s) && declared.has(name.slice(0, -s.length))) return name.slice(0, -s.length);
    return name;
  };
  const enter = (family: string, lineNo: number): void => {
    if (current !== family) {
      if (current) {
        const prev = declared.get(current);
        if (prev) prev.closed = true;
      }
      const f = declared.get(family);
      if (f?.closed) problems.push({ line: lineNo, message: `metric family ${family} continues after another family began (families must not be interleaved)` });
      current = family;
    }
  };
  lines.forEach((line, idx) => {
    const n = idx + 1;
    if (eofAt) {
      problems.push({ line: n, message: 'content after # EOF' });
      return;
    }
    if (line === '') {
      problems.push({ line: n, message: 'empty line (not allowed in OpenMetrics text)' });
      return;
    }
    if (line.startsWith('#')) {
      if (line === '# EOF') {
        eofAt = n;
        return;
      }
      const m = /^# (HELP|TYPE|UNIT) (\S+)(?: (.*))?$/.exec(line);
      if (!m) {
        problems.push({ line: n, message: 'comment lines must be # HELP, # TYPE, # UNIT or # EOF' });
        return;
      }
      const [, kw, name, rest] = m as unknown as [string, string, string, string | undefined];
      if (!METRIC_NAME.test(name)) problems.push({ line: n, message: `invalid metric name ${name}` });
      let f = declared.get(name);
      if (!f) declared.set(name, (f = { sampled: false, closed: false }));
      enter(name, n);
      if (f.sampled) problems.push({ line: n, message: `# ${kw} ${name} comes after samples of ${name}` });
      if (kw === 'TYPE') {
        if (f.type) problems.push({ line: n, message: `second # TYPE for ${name}` });
        if (!rest || !TYPES.has(rest)) problems.push({ line: n, message: `unknown metric type "${rest ?? ''}"` });
        f.type = rest ?? '';
        if (rest === 'counter' && name.endsWith('_total')) problems.push({ line: n, message: `counter family ${name} must not end in _total (its samples do)` });
      } else if (kw === 'HELP') {
        if (f.help) problems.push({ line: n, message: `second # HELP for ${name}` });
        f.help = true;
      } else if (kw === 'UNIT') {
        if (rest && !name.endsWith(`_${rest}`)) problems.push({ line: n, message: `metric ${name} must end with its unit _${rest}` });
      }
      return;
    }
    const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nm) {
      problems.push({ line: n, message: 'a sample line starts with a metric name' });
      return;
    }
    const name = nm[0];
    let i = name.length;
    let labels: string[] = [];
    if (line[i] === '{') {
      const parsed = parseLabels(line, i);
      if ('error' in parsed) {
        problems.push({ line: n, message: `${name}: ${parsed.error}` });
        return;
      }
      labels = parsed.labels;
      i = parsed.end;
    }
    const rest = line.slice(i);
    const vm = /^ (\S+)(?: (\S+))?$/.exec(rest);
    if (!vm) {
      problems.push({ line: n, message: `${name}: expected " <value> [timestamp]" after the name and labels` });
      return;
    }
    if (!parseValue(vm[1] as string)) problems.push({ line: n, message: `${name}: value "${vm[1]}" is not a number` });
    if (vm[2] !== undefined && !parseValue(vm[2])) problems.push({ line: n, message: `${name}: timestamp "${vm[2]}" is not a number` });
    for (const l of labels) if (!LABEL_NAME.test(l.split('=')[0] as string)) problems.push({ line: n, message: `${name}: invalid label name` });
    const family = familyOf(name);
    const f = declared.get(family);
    if (!f || !f.type) problems.push({ line: n, message: `sample ${name} has no preceding # TYPE line` });
    else if (f.type === 'counter' && !name.endsWith('_total') && !name.endsWith('_created')) {
      problems.push({ line: n, message: `counter sample ${name} must end in _total` });
    }
    if (f) f.sampled = true;
    enter(family, n);
    const key = `${name}{${[...labels].sort().join(',')}}`;
    if (series.has(key)) problems.push({ line: n, message: `duplicate series ${key}` });
    series.add(key);
  });
  if (!eofAt) problems.push({ line: lines.length, message: 'missing "# EOF" as the last line' });
  return problems;
}
