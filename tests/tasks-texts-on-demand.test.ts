import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTasks } from '../src/repo/load-tasks.js';

const tmp = mkdtempSync(join(tmpdir(), 'orc-texts-on-demand-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The example repo's tasks with cross-file problems (still schema-valid) plus a BOM file and a schema error. */
function repo(name: string): string {
  const root = join(tmp, name);
  cpSync('tasks', join(root, 'tasks'), { recursive: true });
  const files: string[] = [];
  for (const ws of readdirSync(join(root, 'tasks')).sort()) for (const f of readdirSync(join(root, 'tasks', ws)).sort()) if (f.endsWith('.json')) files.push(join(root, 'tasks', ws, f));
  expect(files.length).toBeGreaterThan(4);
  const edit = (file: string, change: (o: Record<string, unknown>) => void, prefix = ''): void => {
    const o = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, '')) as Record<string, unknown>;
    change(o);
    writeFileSync(file, prefix + JSON.stringify(o, null, 2) + '\n');
  };
  edit(files[0]!, (o) => (o.dependencies as string[]).push('no-such-task'));
  edit(files[1]!, (o) => (o.blocks as string[]).push(String((JSON.parse(readFileSync(files[2]!, 'utf8')) as { task_id: string }).task_id)));
  edit(files[3]!, () => {}, '\uFEFF');
  edit(files[4]!, (o) => (o.priority = 'high'));
  return root;
}

describe("loadTasks({ texts: 'on-demand' })", () => {
  it('gives the same tasks, findings, texts and locations as keeping every text', () => {
    const root = repo('same');
    const kept = loadTasks(root);
    const lazy = loadTasks(root, { texts: 'on-demand' });
    expect(lazy.findings).toEqual(kept.findings);
    expect(lazy.findings.length).toBeGreaterThan(2);
    expect([...lazy.tasks.keys()]).toEqual([...kept.tasks.keys()]);
    expect([...lazy.invalidIds]).toEqual([...kept.invalidIds]);
    let dropped = 0;
    for (const [id, k] of kept.tasks) {
      const l = lazy.tasks.get(id)!;
      expect(l.task).toEqual(k.task);
      expect([l.file, l.sourceVersion]).toEqual([k.file, k.sourceVersion]);
      if (!Object.prototype.hasOwnProperty.call(l, 'text')) dropped++; // read on demand (a prototype getter)
      for (const path of [[], ['task_id'], ['dependencies', 0], ['blocks'], ['execution', 'command']] as Array<Array<string | number>>) {
        expect(l.locate(path)).toEqual(k.locate(path));
        expect(l.locate(path, { key: true })).toEqual(k.locate(path, { key: true }));
      }
      expect(l.text).toBe(k.text);
    }
    // Clean files drop their text; the BOM file (a warning) keeps it.
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBeLessThan(kept.tasks.size);
  });

  it('a file gone before it is located gives 1:1 and an empty text, never a throw', () => {
    const root = repo('gone');
    const lazy = loadTasks(root, { texts: 'on-demand' });
    const located = new Set(lazy.findings.map((f) => f.file));
    const lt = [...lazy.tasks.values()].find((t) => !Object.prototype.hasOwnProperty.call(t, 'text') && !located.has(t.file))!;
    rmSync(join(root, lt.file));
    expect(lt.locate(['task_id'])).toEqual({ line: 1, column: 1 });
    expect(lt.text).toBe('');
  });
});
