// Estimates (Decision 6, with the real engine's log), deterministic DAG/plan bytes, config, `ready`, and the CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { applyTransitions, syncDefinitions } from '../src/engine/commit.js';
import { initStore } from '../src/engine/init.js';
import { RunHistory, estimateTask, median } from '../src/graph/estimates.js';
import { analyze, buildDagFile, buildExecutionPlan, serializeDerived, writeGraphFiles, type ExecutionPlanFile } from '../src/graph/files.js';
import { readSnapshot } from '../src/engine/snapshot.js';
import { computeReady } from '../src/graph/ready.js';
import type { TransitionRequest } from '../src/machines/index.js';
import type { OrcEvent, Snapshot, TaskDefinition } from '../src/model.js';
import { loadTasks } from '../src/repo/load-tasks.js';
import { blocksOf, taskJson, writeTasks, type Spec } from './fixtures/graph/make-repo.js';

const PROJECT = join(import.meta.dirname, '..');
const dirs: string[] = [];
function tempRepo(specs: Spec[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'orc-graph-files-'));
  dirs.push(dir);
  writeTasks(dir, specs);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let seq = 0;
function ev(id: string, to: string, at: string, from: string | null = null): OrcEvent {
  seq++;
  return {
    schema_version: '2.0.0',
    seq,
    event_id: `e${seq}`,
    timestamp: at,
    event: `task_${to}`,
    trigger: 'x',
    entity_type: 'task',
    entity_id: id,
    from_state: from,
    to_state: to,
    severity: 'info',
    caused_by: null,
    metadata: {},
  };
}

describe('estimates (Decision 6)', () => {
  it('a run lasts from its first start to completion; failed runs do not count', () => {
    const h = new RunHistory();
    for (const e of [
      ev('a', 'running', '2026-01-01T00:00:00.000Z'),
      ev('a', 'retrying', '2026-01-01T00:00:05.000Z'),
      ev('a', 'running', '2026-01-01T00:00:10.000Z'),
      ev('a', 'completed', '2026-01-01T00:00:30.000Z'),
      ev('b', 'running', '2026-01-01T00:00:00.000Z'),
      ev('b', 'failed', '2026-01-01T00:00:09.000Z'),
    ])
      h.apply(e);
    expect(h.medianFor('a')).toEqual({ seconds: 30, runs: 1 });
    expect(h.medianFor('b')).toBeUndefined();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });

  it('explicit beats history beats timeout, and the source is recorded', () => {
    const h = new RunHistory();
    h.durations.set('t', [10, 20, 40]);
    const base = { task_id: 't', execution: { timeout_seconds: 600 } };
    expect(estimateTask({ ...base, execution: { timeout_seconds: 600, estimated_duration_seconds: 7 } }, h)).toEqual({ seconds: 7, source: 'explicit' });
    expect(estimateTask(base, h)).toEqual({ seconds: 20, source: 'history', runs: 3 });
    expect(estimateTask(base, new RunHistory())).toEqual({ seconds: 600, source: 'timeout' });
  });

  it('the engine-derived plan takes the median of real runs from the log', async () => {
    const root = tempRepo([
      { id: 'a', ws: 'w' },
      { id: 'b', ws: 'w', deps: ['a'], seconds: 5 },
      { id: 'other', ws: 'v', seconds: 5 },
    ]);
    await initStore(root);
    // One injected clock, started after init's timestamp (event time is monotonic): sync's events and the
    // simulated run never depend on how long the machine takes between two lines.
    const base = Date.now();
    await syncDefinitions(root, { clock: () => new Date(base) });
    let clock = base + 60_000;
    const at = (s: number): string => new Date((clock += s * 1000)).toISOString();
    const req = (entity_type: 'task' | 'worker', id: string, trigger: string, secs: number, extra: Partial<TransitionRequest> = {}): TransitionRequest => ({ entity_type, entity_id: id, trigger, timestamp: at(secs), ...extra });
    await applyTransitions(root, [req('worker', 'w1', 'worker_registered', 0, { metadata: { capabilities: [] } }), req('worker', 'w1', 'registration_complete', 1)]);
    await applyTransitions(root, [req('task', 'a', 'scheduler_assigned', 1), req('task', 'a', 'worker_started', 1, { worker_id: 'w1' })]);
    await applyTransitions(root, [req('task', 'a', 'execution_completed', 40, { metadata: { exit_code: 0 } })]);
    const last = await applyTransitions(root, [req('task', 'a', 'validation_passed', 2)]);
    // Incremental derive: only the touched task's workstream is rewritten.
    const written = last.derived?.written ?? [];
    expect(written).toContain('.state/dag_w.json');
    expect(written).toContain('.state/execution_plan_w.json');
    expect(written.some((f) => f.includes('_v.json'))).toBe(false);
    // And what the incremental path left equals a full regeneration (which then has nothing to write).
    // Untouched workstreams' files keep the seq they were derived from, so a full run only restamps them.
    const strip = (f: string) => readFileSync(join(root, f), 'utf8').replace(/"generated_at": "[^"]*"/, '').replace(/"source_last_seq": \d+/, '');
    const names = ['.state/dag_w.json', '.state/execution_plan_w.json', '.state/dag_v.json', '.state/execution_plan_v.json'];
    const before = names.map(strip);
    const full = await writeGraphFiles(root, loadTasks(root), readSnapshot(root), { maxParallel: loadConfig(root).max_parallelism });
    expect(full.written.sort()).toEqual(['.state/dag_v.json', '.state/execution_plan_v.json']);
    expect(names.map(strip)).toEqual(before);
    const plan = JSON.parse(readFileSync(join(root, '.state/execution_plan_w.json'), 'utf8')) as ExecutionPlanFile;
    expect(plan.tasks.a).toMatchObject({ estimated_duration_seconds: 42, estimate_source: 'history', estimate_runs: 1 });
    expect(plan.tasks.b).toMatchObject({ estimated_duration_seconds: 5, estimate_source: 'explicit' });
    expect(plan.critical_path_tasks).toEqual(['a', 'b']);
    expect(plan.critical_path_duration).toBe(47);
    const dag = JSON.parse(readFileSync(join(root, '.state/dag_w.json'), 'utf8'));
    expect(dag.nodes.find((n: { task_id: string }) => n.task_id === 'a').status).toBe('completed');
  });
});

describe('derived files', () => {
  it('are byte-identical apart from generated_at, whatever the input order', () => {
    const specs: Spec[] = [
      { id: 'z', ws: 'w', deps: ['m', 'a'], seconds: 3 },
      { id: 'a', ws: 'w', seconds: 1 },
      { id: 'm', ws: 'w', deps: ['a'], seconds: 2 },
      { id: 'q', ws: 'v', deps: ['z'], seconds: 2 },
    ];
    const blocks = blocksOf(specs);
    const mk = (order: Spec[]) => ({
      tasks: new Map(order.map((s) => [s.id, { task: taskJson(s, blocks.get(s.id) ?? []) as TaskDefinition, file: `tasks/${s.ws}/${s.id}.json`, locate: () => ({ line: 1, column: 1 }) }])),
    });
    const bytes = (order: Spec[], at: string): string[] => {
      const a = analyze({ taskSet: mk(order), snapshot: null, resources: new Map(), history: new RunHistory(), maxParallel: 2 });
      const k = a.graph.workstreams.indexOf('w');
      return [serializeDerived(buildDagFile(a, k, at)), serializeDerived(buildExecutionPlan(a, k, at).plan)].map((t) => t.replace(at, 'T'));
    };
    const one = bytes(specs, '2026-01-01T00:00:00.000Z');
    const two = bytes([...specs].reverse(), '2027-02-02T11:11:11.111Z');
    expect(two).toEqual(one);
    const dag = JSON.parse(one[0]!.replace('"T"', '"2026-01-01T00:00:00.000Z"'));
    expect(dag.topological_order).toEqual(['a', 'm', 'z']);
    expect(dag.edges).toContainEqual({ from: 'q', to: 'z', type: 'depends_on', external: true, external_workstream: 'v' });
  });
});

describe('config', () => {
  it('reads max_parallelism and reports bad values with their location', () => {
    const root = tempRepo([{ id: 'a', ws: 'w' }]);
    expect(loadConfig(root)).toMatchObject({ max_parallelism: 4, file: null, findings: [] });
    writeFileSync(join(root, 'orc-state.config.json'), '{\n  "max_parallelism": 2\n}\n');
    expect(loadConfig(root).max_parallelism).toBe(2);
    writeFileSync(join(root, 'orc-state.config.json'), '{\n  "max_parallelism": 0,\n  "colour": "red"\n}\n');
    const c = loadConfig(root);
    expect(c.max_parallelism).toBe(4);
    expect(c.findings.map((f) => [f.severity, f.line])).toEqual([
      ['error', 2],
      ['notice', 3],
    ]);
  });
});

describe('ready', () => {
  it('lists schedulable tasks least slack first, respects resource holders, explains the rest', () => {
    const specs: Spec[] = [
      { id: 'done', ws: 'w', seconds: 1 },
      { id: 'long', ws: 'w', deps: ['done'], seconds: 100 },
      { id: 'short', ws: 'w', deps: ['done'], seconds: 1 },
      { id: 'tail', ws: 'w', deps: ['long'], seconds: 50 },
      { id: 'db1', ws: 'w', seconds: 1, resources: { db: 'exclusive' } },
      { id: 'db2', ws: 'w', seconds: 1, resources: { db: 'shared' } },
      { id: 'gpu', ws: 'w', seconds: 1, resources: { gpu: 1 } },
    ];
    const root = tempRepo(specs);
    const set = loadTasks(root);
    expect(set.findings.filter((f) => f.severity === 'error')).toEqual([]);
    const now = '2026-01-01T00:00:00.000Z';
    const state = (id: string, status: string) => ({ task_id: id, workstream_id: 'w', status, created_at: now, started_at: null, completed_at: null, assigned_worker: null, retry_count: 0, max_retries: 0, last_error: null, updated_at: now });
    const snapshot = { schema_version: '2.0.0', schema_url: '', timestamp: now, last_seq: 1, last_events: [], workstreams: [], workers: [], tasks: [state('done', 'completed'), state('gpu', 'running')] } as unknown as Snapshot;
    const resources = new Map([
      ['db', { ResourceId: 'db', Type: 'exclusive', MaxHolders: 1 }],
      ['gpu', { ResourceId: 'gpu', Type: 'shared', MaxHolders: 1 }],
    ]);
    const a = analyze({ taskSet: set, snapshot, resources, history: new RunHistory(), maxParallel: 4 });
    const r = computeReady(a);
    expect(r.ready.map((t) => t.task_id)).toEqual(['long', 'db1', 'short']);
    expect(r.ready[0]!.critical).toBe(true);
    expect(r.holders).toEqual([{ task_id: 'gpu', resources: ['gpu'] }]);
    const why = new Map(r.blocked.map((b) => [b.task_id, b.reasons.join(' | ')]));
    expect(why.get('tail')).toMatch(/waiting for long \(pending\)/);
    expect(why.get('db2')).toMatch(/resource db is taken by db1/);
    // Without reasons (ready without --explain): the same ready list, holders and blocked tasks, nothing worded.
    const quiet = computeReady(a, { reasons: false });
    expect(quiet.ready).toEqual(r.ready);
    expect(quiet.holders).toEqual(r.holders);
    expect(quiet.blocked.map((b) => [b.task_id, b.status])).toEqual(r.blocked.map((b) => [b.task_id, b.status]));
    expect(quiet.blocked.every((b) => b.reasons.length === 0)).toBe(true);
  });
});

describe('CLI plan', () => {
  beforeAll(() => {
    if (!existsSync(join(PROJECT, 'dist/src/cli/main.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: PROJECT, stdio: 'ignore' });
  });
  const run = (args: string[]) => spawnSync(process.execPath, [join(PROJECT, 'bin/orc-state.js'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  it('prints json, mermaid and text; a cycle exits 1 with a located finding; nothing written without .state', () => {
    const root = tempRepo([
      { id: 'a', ws: 'w', seconds: 60 },
      { id: 'b', ws: 'w', deps: ['a'], seconds: 30 },
      { id: 'c', ws: 'w', deps: ['a'], seconds: 5 },
    ]);
    const json = run(['plan', '--json', '--root', root]);
    expect(json.status).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out.plans[0].critical_path_tasks).toEqual(['a', 'b']);
    expect(out.written).toEqual([]);
    expect(existsSync(join(root, '.state'))).toBe(false);
    const mermaid = run(['plan', 'w', '--format', 'mermaid', '--root', root]);
    expect(mermaid.stdout).toMatch(/^flowchart LR/);
    expect(mermaid.stdout).toMatch(/classDef critical/);
    const text = run(['plan', '--max-parallel', '1', '--root', root]);
    expect(text.stdout).toMatch(/Stage 3/);
    expect(text.stdout).toMatch(/\* a /);
    mkdirSync(join(root, '.state'));
    expect(run(['plan', '--root', root]).status).toBe(0);
    expect(existsSync(join(root, '.state/dag_w.json'))).toBe(true);
    writeTasks(root, [
      { id: 'a', ws: 'w', deps: ['b'] },
      { id: 'b', ws: 'w', deps: ['a'] },
      { id: 'c', ws: 'w', deps: ['a'] },
    ]);
    const cyc = run(['plan', '--root', root, '--no-write']);
    expect(cyc.status).toBe(1);
    expect(cyc.stdout).toMatch(/tasks\/w\/[ab]\.json:\d+:\d+: error dependency cycle: a -> b -> a/);
    const ready = run(['ready', '--json', '--explain', '--root', root]);
    expect(ready.status).toBe(0);
    expect(JSON.parse(ready.stdout).blocked.find((b: { task_id: string }) => b.task_id === 'a').reasons[0]).toMatch(/cycle/);
  });
});
