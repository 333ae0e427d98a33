import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crossCheckTasks, loadTasks, summaryOf } from '../src/repo/load-tasks.js';
import { checkTaskCapabilities, checkTaskResources, loadCapabilities, loadResources } from '../src/registry/index.js';
import { OrcError } from '../src/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'orc-definitions-on-demand-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The example repo's tasks and registries, with cross-file problems the summary checks must still see. */
function repo(name: string): string {
  const root = join(tmp, name);
  cpSync('tasks', join(root, 'tasks'), { recursive: true });
  cpSync('capabilities', join(root, 'capabilities'), { recursive: true });
  const files = taskFiles(root);
  expect(files.length).toBeGreaterThan(4);
  const edit = (file: string, change: (o: Record<string, unknown>) => void): void => {
    const o = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    change(o);
    writeFileSync(file, JSON.stringify(o, null, 2) + '\n');
  };
  edit(files[0]!, (o) => (o.dependencies as string[]).push('no-such-task'));
  edit(files[1]!, (o) => (o.blocks as string[]).push(String((JSON.parse(readFileSync(files[2]!, 'utf8')) as { task_id: string }).task_id)));
  edit(files[3]!, (o) => ((o.worker_requirements as { capabilities: string[] }).capabilities = ['no.such.capability']));
  edit(files[4]!, (o) => (o.resource_requirements = { 'no-such-resource': 1 }));
  return root;
}

function taskFiles(root: string): string[] {
  const files: string[] = [];
  for (const ws of readdirSync(join(root, 'tasks')).sort()) for (const f of readdirSync(join(root, 'tasks', ws)).sort()) if (f.endsWith('.json')) files.push(join(root, 'tasks', ws, f));
  return files;
}

describe("loadTasks({ definitions: 'on-demand' })", () => {
  it('gives the same findings, summaries, definitions and locations as keeping every definition', () => {
    const root = repo('same');
    const kept = loadTasks(root);
    const lazy = loadTasks(root, { texts: 'on-demand', definitions: 'on-demand' });
    expect(lazy.findings).toEqual(kept.findings);
    expect(lazy.findings.length).toBeGreaterThan(1);
    expect([...lazy.tasks.keys()]).toEqual([...kept.tasks.keys()]);
    expect([...lazy.byWorkstream].map(([ws, l]) => [ws, l.map((t) => t.file)])).toEqual([...kept.byWorkstream].map(([ws, l]) => [ws, l.map((t) => t.file)]));
    let summaryOnly = 0;
    for (const [id, k] of kept.tasks) {
      const l = lazy.tasks.get(id)!;
      const s = summaryOf(l);
      if (s !== l.task) summaryOnly++;
      expect(s).toMatchObject({ task_id: k.task.task_id, workstream_id: k.task.workstream_id, dependencies: k.task.dependencies, blocks: k.task.blocks });
      expect(s.worker_requirements?.capabilities).toEqual(k.task.worker_requirements.capabilities);
      expect(s.resource_requirements).toEqual(k.task.resource_requirements);
      expect(l.task).toEqual(k.task); // read again on demand
      expect(l.locate(['execution', 'command'])).toEqual(k.locate(['execution', 'command']));
    }
    expect(summaryOnly).toBeGreaterThan(0);
  });

  it('the cross-file and registry checks read only the summary: the same findings when every definition would now throw', () => {
    const root = repo('summary');
    const kept = loadTasks(root);
    const lazy = loadTasks(root, { texts: 'on-demand', definitions: 'on-demand' });
    const caps = loadCapabilities(root);
    const res = loadResources(root);
    const checks = (set: typeof kept) => [
      ...crossCheckTasks(root, set.tasks, { knownIds: set.invalidIds }),
      ...checkTaskCapabilities(set.tasks.values(), caps),
      ...checkTaskResources(set.tasks.values(), res),
    ];
    const want = checks(kept);
    expect(want.map((f) => f.requirement)).toEqual(expect.arrayContaining(['TASK-DEF-002', 'CAP-REG-001', 'CONC-REG-001']));
    // Change every task_id in place (same length, so every location stays where it was): a definition read
    // again no longer matches its summary, and asking for it throws.
    for (const file of taskFiles(root)) writeFileSync(file, readFileSync(file, 'utf8').replace(/("task_id": ")(.)/, (_m, p: string, c: string) => p + (c === 'z' ? 'y' : 'z')));
    expect(checks(lazy)).toEqual(want);
    const summaryOnly = [...lazy.tasks.values()].find((t) => summaryOf(t) !== (Object.getOwnPropertyDescriptor(t, 'task')?.value as unknown));
    expect(summaryOnly).toBeDefined();
    let thrown: unknown;
    try {
      void summaryOnly!.task;
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(OrcError);
    expect((thrown as OrcError).message).toContain(`${summaryOnly!.file} changed while orc-state was checking the task files`);
  });
});
