// startWatch in-process: edits, save-by-rename, half-written files, renames and deletes change the derived
// DAG/plan files and the findings. Polls with a generous timeout; never asserts a duration.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findingKey, isIgnoredPath, startWatch, type Watcher, type WatchUpdate } from '../src/graph/watch.js';
import { loadTasks } from '../src/repo/load-tasks.js';
import type { Finding } from '../src/model.js';
import { blocksOf, taskJson, writeTasks, type Spec } from './fixtures/graph/make-repo.js';

const TIMEOUT = 20_000;
let root: string;
let watcher: Watcher;
const updates: WatchUpdate[] = [];
let specs: Spec[];

async function waitFor<T>(what: string, probe: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function dag(ws: string): { nodes: Array<{ task_id: string; name: string }>; edges: Array<{ from: string; to: string }> } | undefined {
  try {
    return JSON.parse(readFileSync(join(root, '.state', `dag_${ws}.json`), 'utf8'));
  } catch {
    return undefined; // absent, or caught between writes (never partial: writes are atomic renames)
  }
}

function plan(ws: string): { critical_path_tasks: string[] } | undefined {
  try {
    return JSON.parse(readFileSync(join(root, '.state', `execution_plan_${ws}.json`), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Rewrite every task file from `specs` (blocks kept consistent), the way a person saves each file. */
function save(next: Spec[]): void {
  specs = next;
  writeTasks(root, specs);
}

const hasFinding = (pred: (f: Finding) => boolean): boolean => watcher.findings().some(pred);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'orc-watch-'));
  mkdirSync(join(root, '.state'));
  save([
    { id: 'a', ws: 'w1', seconds: 10 },
    { id: 'b', ws: 'w1', deps: ['a'], seconds: 20 },
    { id: 'c', ws: 'w1', deps: ['a'], seconds: 5 },
    { id: 'x', ws: 'w2', deps: ['b'], seconds: 1 },
  ]);
  watcher = startWatch(root, { debounceMs: 40, retryMs: 60, metricsIntervalMs: 0 });
  watcher.on('update', (u) => updates.push(u));
  await watcher.ready;
});

afterAll(async () => {
  await watcher?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('watch', () => {
  it('derives the files at start, with no findings on a clean repo', () => {
    expect(dag('w1')?.nodes.map((n) => n.task_id)).toEqual(['a', 'b', 'c']);
    expect(plan('w1')?.critical_path_tasks).toEqual(['a', 'b']);
    expect(dag('w2')?.edges).toEqual([{ from: 'x', to: 'b', type: 'depends_on', external: true, external_workstream: 'w1' }]);
    expect(watcher.findings().filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('an edit changes the DAG and the plan (and the other workstream sees the external edge)', async () => {
    save(specs.map((s) => (s.id === 'c' ? { ...s, seconds: 100 } : s)));
    await waitFor('critical path through c', () => plan('w1')?.critical_path_tasks.join() === 'a,c');
    save(specs.map((s) => (s.id === 'x' ? { ...s, deps: ['c'] } : s)));
    await waitFor('w1 file shows the new external edge x -> c', () => dag('w1')?.edges.some((e) => e.from === 'x' && e.to === 'c'));
    await waitFor('w2 file shows x -> c', () => dag('w2')?.edges.map((e) => e.to).join() === 'c');
  });

  it('save-by-rename (editor writes a temp file, then renames it over) is picked up', async () => {
    const path = join(root, 'tasks/w1/b.json');
    const value = JSON.parse(readFileSync(path, 'utf8'));
    value.name = 'Renamed by editor';
    const temp = `${path}.tmp.4242`;
    writeFileSync(join(root, 'tasks/w1/.b.json.swp'), 'swap junk'); // editor swap file: ignored
    writeFileSync(temp, JSON.stringify(value, null, 2));
    renameSync(temp, path);
    await waitFor('new name in the DAG', () => dag('w1')?.nodes.find((n) => n.task_id === 'b')?.name === 'Renamed by editor');
    expect(updates.flatMap((u) => u.files)).not.toContain('tasks/w1/.b.json.swp');
    expect(hasFinding((f) => f.file.includes('.swp'))).toBe(false);
  });

  it('a half-written file leaves no finding behind once complete', async () => {
    const path = join(root, 'tasks/w1/c.json');
    const full = readFileSync(path, 'utf8');
    writeFileSync(path, full.slice(0, Math.floor(full.length / 2)));
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(path, full.replace('Task c', 'Task c (complete)'));
    await waitFor('complete file derived', () => dag('w1')?.nodes.find((n) => n.task_id === 'c')?.name === 'Task c (complete)');
    await waitFor('no parse finding', () => !hasFinding((f) => f.file === 'tasks/w1/c.json'));
  });

  it('a broken file reports a located finding, cleared when it is fixed', async () => {
    const path = join(root, 'tasks/w1/c.json');
    const good = readFileSync(path, 'utf8');
    writeFileSync(path, good.replace('"task_id": "c"', '"task_id": "c",,'));
    const f = await waitFor('syntax finding', () => watcher.findings().find((x) => x.file === 'tasks/w1/c.json' && x.severity === 'error'));
    expect(f.line).toBeGreaterThan(1);
    expect(updates.some((u) => u.added.some((x) => x.file === 'tasks/w1/c.json'))).toBe(true);
    writeFileSync(path, good);
    await waitFor('cleared', () => updates.some((u) => u.cleared.some((x) => x.file === 'tasks/w1/c.json')) && !hasFinding((x) => x.file === 'tasks/w1/c.json'));
  });

  it('a cycle appears as a finding with its full path, and clears', async () => {
    const before = specs;
    save(specs.map((s) => (s.id === 'a' ? { ...s, deps: ['b'] } : s)));
    const cycle = await waitFor('cycle finding', () => watcher.findings().find((f) => f.message.startsWith('dependency cycle')));
    expect(cycle.message).toMatch(/a -> b -> a/);
    expect(cycle.file).toMatch(/^tasks\/w1\/[ab]\.json$/);
    save(before);
    await waitFor('cycle cleared', () => !hasFinding((f) => f.message.startsWith('dependency cycle')));
    await waitFor('plan back', () => plan('w1')?.critical_path_tasks.join() === 'a,c');
  });

  it('renaming a task file to a new id and deleting files update nodes and remove empty workstreams', async () => {
    // c -> d (file rename plus id change, as `git mv` and an edit would do); x depends on it.
    const next = specs.map((s) => (s.id === 'c' ? { ...s, id: 'd' } : s.id === 'x' ? { ...s, deps: ['d'] } : s));
    const blocks = blocksOf(next);
    const d = next.find((s) => s.id === 'd') as Spec;
    writeFileSync(join(root, 'tasks/w1/c.json'), `${JSON.stringify(taskJson(d, blocks.get('d') ?? []), null, 2)}\n`);
    renameSync(join(root, 'tasks/w1/c.json'), join(root, 'tasks/w1/d.json'));
    save(next);
    await waitFor('node d replaces c', () => {
      const ids = dag('w1')?.nodes.map((n) => n.task_id).join();
      return ids === 'a,b,d' && dag('w2')?.edges[0]?.to === 'd';
    });
    // Delete the only task of w2: its files go away; w1 loses the external edge.
    unlinkSync(join(root, 'tasks/w2/x.json'));
    specs = specs.filter((s) => s.id !== 'x');
    writeTasks(root, specs); // d.blocks no longer names x
    await waitFor('w2 files removed', () => !existsSync(join(root, '.state/dag_w2.json')) && !existsSync(join(root, '.state/execution_plan_w2.json')));
    await waitFor('w1 without external edge', () => dag('w1')?.edges.every((e) => e.from !== 'x'));
    await waitFor('no error findings', () => watcher.findings().every((f) => f.severity !== 'error'));
  });

  it('cross-file findings are updated incrementally and agree with a full load', async () => {
    // b gains a dependency on d without d listing b in `blocks`: the finding sits on d's file.
    const path = join(root, 'tasks/w1/b.json');
    const value = JSON.parse(readFileSync(path, 'utf8'));
    value.dependencies = ['a', 'd', 'ghost'];
    writeFileSync(path, JSON.stringify(value, null, 2));
    await waitFor('blocks finding on d', () => watcher.findings().some((f) => f.file === 'tasks/w1/d.json' && /blocks/.test(f.message)));
    await waitFor('missing dependency finding on b', () => watcher.findings().some((f) => f.file === 'tasks/w1/b.json' && /ghost/.test(f.message)));
    const full = loadTasks(root).findings.map(findingKey).sort();
    const watched = watcher.findings().filter((f) => f.requirement.startsWith('TASK-DEF')).map(findingKey).sort();
    expect(watched).toEqual(full);
    // Creating the missing task clears its finding; fixing d's blocks clears the other.
    save([...specs.map((s) => (s.id === 'b' ? { ...s, deps: ['a', 'd', 'ghost'] } : s)), { id: 'ghost', ws: 'w3', seconds: 1 }]);
    await waitFor('all clear', () => watcher.findings().every((f) => f.severity !== 'error'));
    await waitFor('w3 derived with the external edge', () => dag('w3')?.edges.some((e) => e.from === 'b' && e.to === 'ghost'));
    expect(watcher.findings().filter((f) => f.requirement.startsWith('TASK-DEF')).map(findingKey).sort()).toEqual(loadTasks(root).findings.map(findingKey).sort());
  });

  it('ignores editor temp files and backups by path', () => {
    expect(isIgnoredPath('tasks/.backups/w1/a.json')).toBe(true);
    expect(isIgnoredPath('tasks/w1/a.json.12345')).toBe(true);
    expect(isIgnoredPath('tasks/w1/.a.json.swp')).toBe(true);
    expect(isIgnoredPath('tasks/w1/a.json___jb_tmp___')).toBe(true);
    expect(isIgnoredPath('tasks/w1/a.json~')).toBe(true);
    expect(isIgnoredPath('tasks/w1/a.json')).toBe(false);
    expect(isIgnoredPath('tasks')).toBe(false);
  });
});

describe('watch metrics (OBS-001)', () => {
  it('refreshes .state/metrics.json on its interval while running', async () => {
    const { initStore } = await import('../src/engine/init.js');
    const { syncDefinitions } = await import('../src/engine/commit.js');
    const { statSync } = await import('node:fs');
    const dir = mkdtempSync(join(tmpdir(), 'orc-watch-metrics-'));
    try {
      writeTasks(dir, [{ id: 'm1', ws: 'mw', seconds: 1 }]);
      await initStore(dir);
      await syncDefinitions(dir);
      const before = statSync(join(dir, '.state/metrics.json')).mtimeMs;
      // An injected clock: the test fires the interval itself (no waiting on the wall clock).
      let fire: (() => void) | undefined;
      let intervalMs = 0;
      let now = Date.parse('2026-12-01T10:00:00.000Z');
      const clock = { now: () => new Date(now), setInterval: (fn: () => void, ms: number) => ((fire = fn), (intervalMs = ms), 1), clearInterval: () => (fire = undefined) };
      const w = startWatch(dir, { debounceMs: 40, metricsIntervalMs: 100, clock });
      let refreshed = 0;
      w.on('metrics', () => refreshed++);
      await w.ready;
      expect(intervalMs).toBe(100);
      for (let i = 1; i <= 2; i++) {
        now += 100;
        fire!();
        await waitFor(`metric refresh ${i}`, () => refreshed >= i);
        const metrics = JSON.parse(readFileSync(join(dir, '.state/metrics.json'), 'utf8'));
        expect(metrics.generated_at).toBe(new Date(now).toISOString());
        expect(metrics.tasks.pending).toBe(1);
      }
      expect(statSync(join(dir, '.state/metrics.json')).mtimeMs).toBeGreaterThanOrEqual(before);
      await w.close();
      expect(fire).toBeUndefined(); // stopped with the watcher
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('watch registry changes', () => {
  it('a resource registry edit re-derives every plan and reports impossible claims', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orc-watch-reg-'));
    const registry = (max: number): string =>
      `${JSON.stringify({ schema_version: '1.0.0', schema_url: 'https://orc-state.dev/schemas/resource-registry/1.0.0.json', Resources: [{ ResourceId: 'pool', Type: 'shared', Description: 'A pool.', MaxHolders: max }] }, null, 2)}\n`;
    try {
      writeTasks(dir, [
        { id: 'p1', ws: 'pw', seconds: 1, resources: { pool: 2 } },
        { id: 'p2', ws: 'pw', seconds: 1, resources: { pool: 2 } },
      ]);
      mkdirSync(join(dir, 'capabilities'));
      writeFileSync(join(dir, 'capabilities/resources.json'), registry(4));
      mkdirSync(join(dir, '.state'));
      const w = startWatch(dir, { debounceMs: 40, metricsIntervalMs: 0 });
      await w.ready;
      const stages = (): number | undefined => {
        try {
          return JSON.parse(readFileSync(join(dir, '.state/execution_plan_pw.json'), 'utf8')).stages.length;
        } catch {
          return undefined;
        }
      };
      expect(stages()).toBe(1); // 2 + 2 units fit a capacity of 4
      writeFileSync(join(dir, 'capabilities/resources.json'), registry(3));
      await waitFor('split into two stages', () => stages() === 2);
      writeFileSync(join(dir, 'capabilities/resources.json'), registry(1));
      await waitFor('impossible claim reported', () => w.findings().some((f) => f.requirement === 'CONC-REG-002' && f.file === 'tasks/pw/p1.json'));
      await w.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
