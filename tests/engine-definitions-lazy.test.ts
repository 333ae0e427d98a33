// A one-shot transition reads only what it needs (issue 12): definitions come from the per-user cache one
// workstream directory at a time (src/engine/definitions-cache.ts), and the derived DAG/plan files are
// refreshed for the touched workstreams only. Both must give what a full read and a full rebuild give.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyTransitions, syncDefinitions } from '../src/engine/commit.js';
import { graphDefinitions, loadPlanTasksCached, loadTasksCached, loadTasksLazy } from '../src/engine/definitions-cache.js';
import { deriveAll } from '../src/engine/derive.js';
import { readSnapshot } from '../src/engine/snapshot.js';
import { loadTasks } from '../src/repo/load-tasks.js';
import { buildGraph } from '../src/graph/graph.js';
import type { TransitionRequest } from '../src/machines/index.js';
// @ts-expect-error plain JS fixture
import { makeRepo } from './fixtures/engine/make-repo.mjs';

const ts = () => new Date().toISOString();
const task = (id: string, trigger: string, extra: Partial<TransitionRequest> = {}): TransitionRequest => ({ entity_type: 'task', entity_id: id, trigger, timestamp: ts(), ...extra });

function repo(): string {
  return makeRepo({
    ws1: [{ id: 'a1' }, { id: 'a2', deps: ['a1'] }, { id: 'a3' }],
    ws2: [{ id: 'b1', deps: ['a1'] }, { id: 'b2', deps: ['b1'] }],
    ws3: [{ id: 'c1', deps: ['b2', 'a3'] }, { id: 'c2' }],
    // a cycle across two workstreams (d1 -> e2 -> e1 -> d1): neither gets a DAG or a plan
    ws4: [{ id: 'd1', deps: ['e2'] }, { id: 'd2' }],
    ws5: [{ id: 'e1', deps: ['d1'] }, { id: 'e2', deps: ['e1'] }],
  }) as string;
}

async function readyRepo(): Promise<string> {
  const root = repo();
  await syncDefinitions(root);
  await applyTransitions(root, [
    { entity_type: 'worker', entity_id: 'w1', trigger: 'worker_registered', timestamp: ts(), metadata: { capabilities: [] } },
    { entity_type: 'worker', entity_id: 'w1', trigger: 'registration_complete', timestamp: ts() },
  ]);
  return root;
}

/** Run a task to completion, one one-shot commit per step (as the CLI does). */
async function complete(root: string, id: string): Promise<void> {
  await applyTransitions(root, [task(id, 'scheduler_assigned')]);
  await applyTransitions(root, [task(id, 'worker_started', { worker_id: 'w1' })]);
  await applyTransitions(root, [task(id, 'execution_completed', { metadata: { exit_code: 0 } })]);
  await applyTransitions(root, [task(id, 'validation_passed')]);
}

const DERIVED = /^(dag_.*|execution_plan_.*|by_.*)\.json$/;
/** A derived file without what differs by when and from which seq it was written (every other byte must match). */
const comparable = (text: string): string => text.replace(/"generated_at": "[^"]*"/, '"generated_at": ""').replace(/"source_last_seq": \d+/, '"source_last_seq": 0');

// Both cache layouts: shards inside the index (small sets) and one shard file per directory (large ones).
describe.each([
  ['shards in the index', undefined],
  ['a shard file per directory', '0'],
])('one-shot definitions and derived files (%s)', (_layout, inlineMax) => {
  beforeEach(() => {
    if (inlineMax === undefined) delete process.env.ORC_STATE_DEFS_INLINE_MAX;
    else process.env.ORC_STATE_DEFS_INLINE_MAX = inlineMax;
  });
  afterEach(() => {
    delete process.env.ORC_STATE_DEFS_INLINE_MAX;
  });

  it('serves lookups from the touched directories and falls back to a full read when anything else is asked', async () => {
    const root = await readyRepo();
    loadTasksCached(root); // fills the cache
    const lazy = loadTasksLazy(root);
    expect(lazy).not.toBeNull();
    const full = loadTasks(root);
    expect(lazy!.tasks.get('b1')?.task).toEqual(full.tasks.get('b1')?.task);
    expect(lazy!.tasks.get('nope')).toBeUndefined();
    expect((lazy as unknown as { materialized: boolean }).materialized).toBe(false); // nothing but ws2's shard was read
    // Walking the set (or its findings) is a full, stat-checked read.
    expect([...lazy!.tasks.keys()]).toEqual([...full.tasks.keys()]);
    expect(lazy!.findings).toEqual(full.findings);
    // A file added (or removed, or renamed) in any directory: no lazy set at all.
    writeFileSync(join(root, 'tasks/ws3/c3.json'), readFileSync(join(root, 'tasks/ws3/c2.json'), 'utf8').replaceAll('c2', 'c3'));
    expect(loadTasksLazy(root)).toBeNull();
    loadTasksCached(root);
    expect(loadTasksLazy(root)?.tasks.get('c3')?.task.task_id).toBe('c3');
    // A file rewritten in place: its directory's shard is not used, the answer is a fresh read.
    const file = join(root, 'tasks/ws2/b2.json');
    const def = JSON.parse(readFileSync(file, 'utf8')) as { name: string };
    def.name = 'renamed in place';
    writeFileSync(file, JSON.stringify(def, null, 2));
    const again = loadTasksLazy(root);
    expect(again).not.toBeNull();
    expect(again!.tasks.get('b2')?.task.name).toBe('renamed in place');
  });

  it('a file that did not load when the cache was made and was fixed in place since is read again', async () => {
    const root = await readyRepo();
    const file = join(root, 'tasks/ws3/c2.json');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.replace('"type": "custom"', '"type": 42')); // a schema error: c2 does not load
    expect(loadTasksCached(root).tasks.has('c2')).toBe(false);
    const fixed = JSON.parse(good) as { dependencies: string[] };
    fixed.dependencies = ['a1'];
    writeFileSync(file, JSON.stringify(fixed, null, 2)); // fixed in place: no directory changes
    expect(loadTasksLazy(root)?.tasks.get('c2')?.task.dependencies).toEqual(['a1']);
  });

  it("serves ready's plan fields of every task, and re-reads after any file changed", async () => {
    const root = await readyRepo();
    loadTasksCached(root);
    const plan = loadPlanTasksCached(root);
    const full = loadTasks(root);
    expect([...plan.tasks.keys()]).toEqual([...full.tasks.keys()]);
    for (const [id, t] of full.tasks) {
      const p = plan.tasks.get(id)!.task;
      expect(p).toMatchObject({ task_id: id, workstream_id: t.task.workstream_id, dependencies: t.task.dependencies, name: t.task.name, type: t.task.type, status: t.task.status });
      expect(p.execution?.timeout_seconds).toBe(t.task.execution.timeout_seconds);
    }
    // The large layout carries the graph built when the cache was made: the same as building it now.
    const carried = (plan as unknown as { graph?: unknown }).graph;
    if (inlineMax === '0') expect(carried).toEqual(buildGraph([...plan.tasks.values()].map((t) => t.task)));
    else expect(carried).toBeUndefined(); // small sets: no plan-fields file, the full set itself
    const file = join(root, 'tasks/ws3/c2.json');
    const def = JSON.parse(readFileSync(file, 'utf8')) as { name: string };
    def.name = 'edited';
    writeFileSync(file, JSON.stringify(def, null, 2));
    expect(loadPlanTasksCached(root).tasks.get('c2')?.task.name).toBe('edited');
  });

  it('gives the graph its shape from the index and full definitions only for the workstreams asked for', async () => {
    const root = await readyRepo();
    loadTasksCached(root);
    const view = graphDefinitions(loadTasksLazy(root)!, new Set(['ws2']));
    const full = loadTasks(root);
    // ws2's tasks, what they depend on (a1) and what depends on them (c1, with its edge into ws2 only)
    expect([...view.tasks.keys()].sort()).toEqual(['a1', 'b1', 'b2', 'c1']);
    expect(view.tasks.get('b1')?.task).toEqual(full.tasks.get('b1')?.task);
    expect(view.tasks.get('a1')?.task).toEqual({ task_id: 'a1', workstream_id: 'ws1', dependencies: [] });
    expect(view.tasks.get('c1')?.task).toEqual({ task_id: 'c1', workstream_id: 'ws3', dependencies: ['b2'] });
  });

  it('after transitions across workstreams, the derived files equal a full rebuild', async () => {
    const root = await readyRepo();
    await complete(root, 'a1'); // ws1, unblocks a2 (ws1) and b1 (ws2)
    await complete(root, 'b1'); // ws2, a cross-workstream dependency met
    await complete(root, 'a3'); // ws1, half of c1's (ws3) dependencies
    await applyTransitions(root, [task('c2', 'scheduler_assigned')]); // ws3
    const cyc = await applyTransitions(root, [task('d2', 'scheduler_assigned')]); // ws4: on the cycle's side
    await applyTransitions(root, [task('a2', 'scheduler_assigned')]);
    await applyTransitions(root, [task('a2', 'worker_started', { worker_id: 'w1' })]);
    await applyTransitions(root, [task('a2', 'execution_failed', { metadata: { exit_code: 1 } })]); // retrying
    expect(loadTasksLazy(root)).not.toBeNull(); // the commits above were served lazily

    const rebuilt = mkdtempSync(join(tmpdir(), 'orc-rebuild-'));
    cpSync(root, rebuilt, { recursive: true });
    const stateDir = join(rebuilt, '.state');
    for (const name of readdirSync(stateDir)) if (DERIVED.test(name)) rmSync(join(stateDir, name));
    const full = await deriveAll(rebuilt, loadTasks(rebuilt), readSnapshot(rebuilt)!);
    // The cycle is reported by the partial derive as by the full one (the whole graph's findings, from the index).
    const cycles = (r: { findings: Array<{ requirement: string; message: string }> } | null) => (r?.findings ?? []).filter((f) => /cycle/.test(f.message)).map((f) => f.message);
    expect(cycles(cyc.derived)).toEqual(cycles(full));
    expect(cycles(full).length).toBeGreaterThan(0);

    const names = readdirSync(join(root, '.state')).filter((n) => DERIVED.test(n)).sort();
    expect(names).toEqual(readdirSync(stateDir).filter((n) => DERIVED.test(n)).sort());
    expect(names.length).toBe(3 + 2 * 3);
    for (const name of names) {
      expect(comparable(readFileSync(join(root, '.state', name), 'utf8')), name).toBe(comparable(readFileSync(join(stateDir, name), 'utf8')));
    }
    // The workstreams the last commit touched carry its seq.
    const seq = readSnapshot(root)!.last_seq;
    for (const name of ['dag_ws1.json', 'execution_plan_ws1.json', 'by_status.json']) {
      expect(JSON.parse(readFileSync(join(root, '.state', name), 'utf8')).source_last_seq, name).toBe(seq);
    }
  });
});
