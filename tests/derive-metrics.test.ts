import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { computeMetrics, writeMetrics } from '../src/derive/metrics.js';
import { checkExposition, toOpenMetrics } from '../src/derive/openmetrics.js';
import type { OrcEvent, Snapshot } from '../src/model.js';
import { validate } from '../src/schema/registry.js';
import { startServer } from '../src/server/server.js';
import { copyExample, raw } from './fixtures/serve/helpers.js';

const NOW = new Date('2026-04-02T10:30:00.000Z');

function ev(timestamp: string, entity_type: OrcEvent['entity_type'], event: string, to_state: string, severity: OrcEvent['severity']): OrcEvent {
  return {
    schema_version: '2.0.0',
    seq: 1,
    event_id: 'x',
    timestamp,
    event,
    trigger: 't',
    entity_type,
    entity_id: 'e',
    from_state: 'a',
    to_state,
    severity,
    caused_by: null,
    metadata: {},
  };
}

function snapshot(): Snapshot {
  const base = { created_at: '2026-04-02T08:00:00.000Z', assigned_worker: null, retry_count: 0, max_retries: 1, last_error: null, updated_at: '2026-04-02T10:00:00.000Z', workstream_id: 'ws' };
  return {
    schema_version: '2.0.0',
    schema_url: 'https://orc-state.dev/schemas/snapshot/2.0.0.json',
    timestamp: '2026-04-02T10:00:00.000Z',
    last_seq: 7,
    last_events: [],
    workstreams: [
      { workstream_id: 'ws', status: 'executing', updated_at: base.updated_at },
      { workstream_id: 'done', status: 'completed', updated_at: base.updated_at },
      { workstream_id: 'new', status: 'planned', updated_at: base.updated_at },
    ],
    tasks: [
      { ...base, task_id: 'a', status: 'completed', started_at: '2026-04-02T09:00:00.000Z', completed_at: '2026-04-02T09:00:30.000Z' },
      { ...base, task_id: 'b', status: 'failed', started_at: '2026-04-02T09:00:00.000Z', completed_at: '2026-04-02T09:01:30.000Z' },
      { ...base, task_id: 'c', status: 'running', started_at: '2026-04-02T10:00:00.000Z', completed_at: null, assigned_worker: 'w1' },
      { ...base, task_id: 'd', status: 'pending', started_at: null, completed_at: null },
    ],
    workers: [
      { worker_id: 'w1', status: 'busy', capabilities: [], current_task: 'c', registered_at: base.created_at, updated_at: base.updated_at },
      { worker_id: 'w2', status: 'idle', capabilities: [], current_task: null, registered_at: base.created_at, updated_at: base.updated_at },
      { worker_id: 'w3', status: 'unresponsive', capabilities: [], current_task: null, registered_at: base.created_at, updated_at: base.updated_at },
      { worker_id: 'w4', status: 'shutdown', capabilities: [], current_task: null, registered_at: base.created_at, updated_at: base.updated_at },
    ],
  };
}

const events = [
  ev('2026-04-01T23:59:59.000Z', 'task', 'task_failed', 'failed', 'error'), // yesterday
  ev('2026-04-01T23:00:00.000Z', 'workstream', 'workstream_completed', 'completed', 'info'), // yesterday
  ev('2026-04-02T09:00:30.000Z', 'task', 'task_completed', 'completed', 'info'), // today, 90 min ago
  ev('2026-04-02T09:45:00.000Z', 'task', 'task_completed', 'completed', 'info'), // within the hour
  ev('2026-04-02T10:10:00.000Z', 'task', 'task_completed', 'completed', 'info'), // within the hour
  ev('2026-04-02T09:01:30.000Z', 'task', 'task_failed', 'failed', 'error'),
  ev('2026-04-02T09:00:10.000Z', 'task', 'task_retry', 'retrying', 'warning'),
  ev('2026-04-02T09:00:20.000Z', 'task', 'task_timeout', 'retrying', 'warning'),
  ev('2026-04-02T09:30:00.000Z', 'worker', 'worker_unresponsive', 'unresponsive', 'critical'),
  ev('2026-04-02T10:00:00.000Z', 'workstream', 'workstream_completed', 'completed', 'info'),
  ev('2026-04-02T11:00:00.000Z', 'task', 'task_completed', 'completed', 'info'), // after now: ignored
];

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('computeMetrics (OBS-001)', () => {
  const m = computeMetrics(snapshot(), events, NOW);

  test('validates against schemas/metrics', () => {
    expect(validate('metrics', '1.0.0', m).errors).toEqual([]);
  });

  test('counts from the snapshot', () => {
    expect(m.workstreams).toMatchObject({ total: 3, active: 1, by_status: { executing: 1, completed: 1, planned: 1, ready: 0 } });
    expect(m.tasks).toMatchObject({ total: 4, pending: 1, running: 1, completed: 1, failed: 1, queued: 0 });
    expect(m.tasks.avg_duration_seconds).toBe(60); // (30 + 90) / 2
    expect(m.workers).toMatchObject({ total: 4, idle: 1, busy: 1, unresponsive: 1, shutdown: 1 });
    expect(m.workers.avg_utilization).toBeCloseTo(1 / 3, 3);
    expect([m.source_last_seq, m.source_timestamp]).toEqual([7, '2026-04-02T10:00:00.000Z']);
  });

  test('today, last hour and errors by kind from recent events (current UTC day; future ignored)', () => {
    expect(m.window).toEqual({ day_start: '2026-04-02T00:00:00.000Z', hour_start: '2026-04-02T09:30:00.000Z' });
    expect(m.workstreams.completed_today).toBe(1);
    expect(m.workstreams.failed_today).toBe(0);
    expect(m.tasks.completed_today).toBe(3);
    expect(m.tasks.failed_today).toBe(1);
    expect(m.tasks.completion_rate_per_hour).toBe(2);
    expect(m.errors).toEqual({ total: 4, by_kind: { task_failed: 1, task_retry: 1, task_timeout: 1, worker_unresponsive: 1 } });
  });

  test('no finished tasks and no live workers', () => {
    const s = snapshot();
    s.tasks = s.tasks.filter((t) => !t.completed_at);
    s.workers = [];
    const e = computeMetrics(s, [], NOW);
    expect(e.tasks.avg_duration_seconds).toBeNull();
    expect(e.workers.avg_utilization).toBe(0);
    expect(validate('metrics', '1.0.0', e).errors).toEqual([]);
  });
});

describe('toOpenMetrics (OBS-002)', () => {
  const text = toOpenMetrics(computeMetrics(snapshot(), events, NOW));

  test('HELP and TYPE for every family, labelled samples, # EOF last', () => {
    expect(text.endsWith('\n# EOF\n')).toBe(true);
    expect(text).toContain('# TYPE orc_state_tasks gauge');
    expect(text).toContain('orc_state_tasks{status="running"} 1');
    expect(text).toContain('orc_state_errors_today{kind="worker_unresponsive"} 1');
    expect(text).toContain('orc_state_task_avg_duration_seconds 60');
    const families = text.split('\n').filter((l) => l.startsWith('# TYPE')).length;
    expect(text.split('\n').filter((l) => l.startsWith('# HELP')).length).toBe(families);
    expect(checkExposition(text)).toEqual([]);
  });

  test('label values are escaped', () => {
    const m = computeMetrics(snapshot(), [], NOW);
    m.errors.by_kind = { 'we"ird\\kind\n': 2 };
    const t = toOpenMetrics(m);
    expect(t).toContain('orc_state_errors_today{kind="we\\"ird\\\\kind\\n"} 2');
    expect(checkExposition(t)).toEqual([]);
  });

  const broken: Array<[string, string, string]> = [
    ['unterminated label', '# HELP x h\n# TYPE x gauge\nx{a="b} 1\n# EOF\n', 'unterminated'],
    ['no TYPE', 'x 1\n# EOF\n', 'no preceding # TYPE'],
    ['TYPE after samples', '# TYPE x gauge\nx 1\n# TYPE x gauge\n# EOF\n', 'second # TYPE'],
    ['bad value', '# TYPE x gauge\nx one\n# EOF\n', 'is not a number'],
    ['duplicate series', '# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n# EOF\n', 'duplicate series'],
    ['interleaved families', '# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx{a="2"} 1\n# EOF\n', 'interleaved'],
    ['missing EOF', '# TYPE x gauge\nx 1\n', 'missing "# EOF"'],
    ['content after EOF', '# TYPE x gauge\nx 1\n# EOF\nx 2\n', 'after # EOF'],
    ['bad escape', '# TYPE x gauge\nx{a="\\q"} 1\n# EOF\n', 'invalid escape'],
  ];
  for (const [name, input, message] of broken) {
    test(`checkExposition rejects: ${name}`, () => {
      const problems = checkExposition(input);
      expect(problems.map((p) => p.message).join('; ')).toContain(message);
    });
  }

  // promtool is required, not optional: a missing one fails with the command that installs it (.ci/run does).
  const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  const needPromtool = () => {
    if (promtool.status !== 0) throw new Error('promtool is not installed: run `apt-get update && apt-get install -y prometheus` (.ci/run does)');
  };

  test('promtool check metrics accepts the output', () => {
    needPromtool();
    const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(out).toBe('');
  });

  test('promtool check metrics accepts what `orc-state serve` serves at /metrics', async () => {
    needPromtool();
    const root = copyExample();
    dirs.push(root);
    const server = await startServer({ root, port: 0, watch: false, pollMs: 0 });
    try {
      const r = await raw(server.port, '/metrics');
      expect(r.status).toBe(200);
      expect(r.body).toContain('orc_state_tasks{status="running"} 1');
      expect(checkExposition(r.body)).toEqual([]);
      const check = spawnSync('promtool', ['check', 'metrics'], { input: r.body, encoding: 'utf8' });
      expect(check.stdout + check.stderr).toBe('');
      expect(check.status).toBe(0);
    } finally {
      await server.close();
    }
  });

  test('promtool and checkExposition both reject broken text', () => {
    needPromtool();
    for (const [, input] of broken.filter(([n]) => ['unterminated label', 'TYPE after samples', 'bad value', 'duplicate series'].includes(n))) {
      const r = spawnSync('promtool', ['check', 'metrics'], { input, encoding: 'utf8' });
      expect(r.status, input).not.toBe(0);
      expect(checkExposition(input).length, input).toBeGreaterThan(0);
    }
  });
});

describe('writeMetrics', () => {
  test('writes metrics.json and metrics.prom durably, no temp files left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orc-b1-metrics-'));
    dirs.push(dir);
    const m = computeMetrics(snapshot(), events, NOW);
    await writeMetrics(dir, m);
    expect(readdirSync(dir).sort()).toEqual(['metrics.json', 'metrics.prom']);
    expect(JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'))).toEqual(m);
    expect(readFileSync(join(dir, 'metrics.prom'), 'utf8')).toBe(toOpenMetrics(m));
  });
});
