// `init` adopts a repository (issue 9 item 3): the guide's Quick Start layout, task files already there, editor wiring.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { editorSchemaPath, initStore } from '../src/engine/init.js';
import { isPlaceholderSnapshotText, readSnapshot } from '../src/engine/snapshot.js';
import { packageRoot } from '../src/paths.js';

const BIN = join(import.meta.dirname, '..', 'bin/orc-state.js');
const GUIDE_TASK = join(import.meta.dirname, 'fixtures/upstream/repo/tasks/ws-001/task-001.json');
const GUIDE_CURRENT = '{\n  "schema_version": "2.0.0",\n  "timestamp": "2024-01-15T10:00:00.000Z",\n  "workstreams": [],\n  "tasks": [],\n  "workers": []\n}\n';
const tmp = mkdtempSync(join(tmpdir(), 'orc-upstream-init-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cli = (root: string, ...args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--root', root], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

/** The guide's Quick Start: mkdir -p .state/{backups,archive,logs}; touch current.json transitions.jsonl; its current.json; its example task. */
function quickStart(name: string, current: string | null = GUIDE_CURRENT, withTask = true): string {
  const root = join(tmp, name);
  for (const d of ['backups', 'archive', 'logs']) mkdirSync(join(root, '.state', d), { recursive: true });
  writeFileSync(join(root, '.state/current.json'), current ?? '');
  writeFileSync(join(root, '.state/transitions.jsonl'), '');
  if (withTask) {
    mkdirSync(join(root, 'tasks/ws-001'), { recursive: true });
    cpSync(GUIDE_TASK, join(root, 'tasks/ws-001/task-001.json'));
  }
  return root;
}

describe('the guide Quick Start current.json', () => {
  it('is recognised: empty, or only schema_version/timestamp and empty arrays', () => {
    expect(isPlaceholderSnapshotText('')).toBe(true);
    expect(isPlaceholderSnapshotText('\n')).toBe(true);
    expect(isPlaceholderSnapshotText(GUIDE_CURRENT)).toBe(true);
    expect(isPlaceholderSnapshotText('{"tasks": [{"task_id": "a"}], "workstreams": [], "workers": []}')).toBe(false);
    expect(isPlaceholderSnapshotText('{"last_seq": 0, "tasks": [], "workstreams": [], "workers": []}')).toBe(false);
    expect(isPlaceholderSnapshotText('{"tasks": [], "other": 1}')).toBe(false);
  });
  it('is an empty store only while the log is empty', () => {
    const root = quickStart('with-log', GUIDE_CURRENT, false);
    expect(readSnapshot(root)).toBeNull();
    writeFileSync(join(root, '.state/transitions.jsonl'), '{"seq":1}\n');
    expect(() => readSnapshot(root)).toThrow(/not an orc-state snapshot/);
  });
});

describe('orc-state init on the Quick Start layout', () => {
  it('upgrades current.json in place, keeps the original, registers the example task, says what to run next', () => {
    const root = quickStart('qs');
    const r = cli(root, 'init');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("upgraded .state/current.json (the guide's Quick Start placeholder");
    expect(r.stdout).toContain('registered 1 workstream(s) and 1 task(s) found under tasks/');
    expect(r.stdout).toMatch(/next:\n {2}orc-state status/);
    expect(readFileSync(join(root, '.state/backups/current.json.quickstart'), 'utf8')).toBe(GUIDE_CURRENT);
    const snap = readSnapshot(root)!;
    expect(snap.tasks.map((t) => t.task_id)).toEqual(['task-001']);
    expect(snap.last_seq).toBeGreaterThan(0);
    // the task file is unchanged, the Quick Start directories are kept
    expect(readFileSync(join(root, 'tasks/ws-001/task-001.json'), 'utf8')).toBe(readFileSync(GUIDE_TASK, 'utf8'));
    for (const d of ['backups', 'archive', 'logs']) expect(existsSync(join(root, '.state', d))).toBe(true);
    // and the runtime gate accepts the result: state, tasks, plans
    const v = cli(root, 'validate', '--section', 'state');
    expect(v.stdout).not.toMatch(/^FAIL/m);
  });
  it('a second init changes nothing and registers nothing', async () => {
    const root = quickStart('qs-twice');
    await initStore(root);
    const before = readFileSync(join(root, '.state/current.json'), 'utf8');
    const again = await initStore(root);
    expect(again.created).toEqual([]);
    expect(again.upgraded).toEqual([]);
    expect(again.registered).toEqual({ tasks: [], workstreams: [] });
    expect(readFileSync(join(root, '.state/current.json'), 'utf8')).toBe(before);
  });
  it('--json reports the same', () => {
    const r = cli(quickStart('qs-json', ''), 'init', '--json');
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ ok: true, upgraded: [{ file: '.state/current.json', backup: '.state/backups/current.json.quickstart' }], registered: { tasks: ['task-001'], workstreams: ['ws-001'] } });
    expect(Array.isArray(j.next)).toBe(true);
  });
  it('a task file that does not load is reported and left out; init exits 1 after doing the rest', () => {
    const root = quickStart('qs-bad');
    writeFileSync(join(root, 'tasks/ws-001/task-002.json'), '{ "schema_version": "2.0.0", "task_id": "task-002" }\n');
    const r = cli(root, 'init');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/tasks\/ws-001\/task-002\.json:1:1: error .*\(not registered\)/);
    expect(readSnapshot(root)!.tasks.map((t) => t.task_id)).toEqual(['task-001']);
  });
});

describe('sync and status on the Quick Start layout', () => {
  it('status shows an empty store with a note, before init', () => {
    const root = quickStart('st');
    const r = cli(root, 'status', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, placeholder: true });
  });
  it('sync registers the task and keeps the original current.json', () => {
    const root = quickStart('sy', '');
    const r = cli(root, 'sync');
    expect(r.status, r.stderr).toBe(0);
    expect(readSnapshot(root)!.tasks.length).toBe(1);
    expect(readFileSync(join(root, '.state/backups/current.json.quickstart'), 'utf8')).toBe('');
  });
  it('a guide-style current.json that holds entries is refused, named, and left untouched', () => {
    const text = '{"schema_version":"2.0.0","timestamp":"2024-01-15T10:00:00.000Z","workstreams":[],"tasks":[{"task_id":"x"}],"workers":[]}\n';
    const root = quickStart('full', text);
    const r = cli(root, 'sync');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/guide's layout but not empty/);
    expect(readFileSync(join(root, '.state/current.json'), 'utf8')).toBe(text);
  });
});

describe('editor wiring', () => {
  it('points at the schemas of the orc-state that runs, relative to the repository', () => {
    const pkg = packageRoot();
    expect(editorSchemaPath(pkg)).toBe('./schemas/task.v2.0.0.schema.json');
    expect(editorSchemaPath(dirname(pkg))).toBe(`./${basename(pkg)}/schemas/task.v2.0.0.schema.json`);
    expect(editorSchemaPath(tmp)).toBeNull();
  });
  it('outside the package: skipped with how to get it; an existing settings file is never edited', async () => {
    const root = quickStart('ed');
    const r = await initStore(root);
    expect(r.editor.status).toBe('skipped');
    expect(r.editor.hint).toMatch(/npm install --save-dev orc-state/);
    mkdirSync(join(root, '.vscode'));
    writeFileSync(join(root, '.vscode/settings.json'), '{ "editor.tabSize": 2 }\n');
    await initStore(root);
    expect(readFileSync(join(root, '.vscode/settings.json'), 'utf8')).toBe('{ "editor.tabSize": 2 }\n');
  });
});
