// Task files as people write them (issue 9 item 2): the guide's example, the upstream migration guide's
// v1/v2 examples, user fields, and capability names with and without a registry.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTasks } from '../src/repo/load-tasks.js';
import { checkTaskForm } from '../src/repo/task-forms.js';
import { migrateFiles } from '../src/migrate/run.js';
import { checkTaskCapabilities, loadCapabilities } from '../src/registry/index.js';
import type { Finding } from '../src/model.js';

const PROJECT = join(import.meta.dirname, '..');
const BIN = join(PROJECT, 'bin/orc-state.js');
const UP = join(import.meta.dirname, 'fixtures/upstream');
const GUIDE_TASK = join(UP, 'repo/tasks/ws-001/task-001.json');
const tmp = mkdtempSync(join(tmpdir(), 'orc-upstream-tasks-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const at = (f: Finding) => `${f.file}:${f.line}:${f.column} ${f.requirement} ${f.severity}`;
const cli = (root: string, ...args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--root', root], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

function repo(name: string, files: Record<string, string>): string {
  const root = join(tmp, name);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}
const guideText = readFileSync(GUIDE_TASK, 'utf8');
const guide = JSON.parse(guideText) as Record<string, unknown>;

describe('the guide example task (tasks/ws-001/task-001.json), unchanged', () => {
  it('is the example of the shared guide: no schema_url, every field the guide writes', () => {
    expect(guide.schema_url).toBeUndefined();
    expect(Object.keys(guide)).toEqual(['schema_version', 'task_id', 'workstream_id', 'name', 'description', 'type', 'status', 'dependencies', 'blocks', 'worker_requirements', 'execution', 'context_requirements', 'validation_rules', 'state']);
  });
  it('loads, with one warning (no schema_url) that names the fix', () => {
    const root = repo('guide', { 'tasks/ws-001/task-001.json': guideText });
    const set = loadTasks(root);
    expect([...set.tasks.keys()]).toEqual(['task-001']);
    expect(set.findings.map(at)).toEqual(['tasks/ws-001/task-001.json:1:1 TASK-DEF-002 warning']);
    expect(set.findings[0]!.fix).toMatch(/orc-state validate --fix.*"schema_url": "https:\/\/orc-state\.dev\/schemas\/task\/2\.0\.0\.json"/);
    expect(set.tasks.get('task-001')!.task.schema_url).toBe('https://orc-state.dev/schemas/task/2.0.0.json');
  });
  it('`validate --fix` adds schema_url after schema_version and nothing else changes', () => {
    const root = repo('guide-fix', { 'tasks/ws-001/task-001.json': guideText });
    const r = cli(root, 'validate', '--requirement', 'TASK-DEF-002', '--fix');
    expect(r.status).toBe(0);
    const after = readFileSync(join(root, 'tasks/ws-001/task-001.json'), 'utf8');
    expect(after).toBe(guideText.replace('"schema_version": "2.0.0",\n', '"schema_version": "2.0.0",\n  "schema_url": "https://orc-state.dev/schemas/task/2.0.0.json",\n'));
    expect(loadTasks(root).findings).toEqual([]);
  });
  it('`validate --fix` keeps a field of the user\'s own', () => {
    const text = guideText.replace('"status": "pending",\n', '"status": "pending",\n  "owner": "alice",\n');
    const root = repo('guide-fix-owner', { 'tasks/ws-001/task-001.json': text });
    expect(cli(root, 'validate', '--requirement', 'TASK-DEF-002', '--fix').status).toBe(0);
    const after = readFileSync(join(root, 'tasks/ws-001/task-001.json'), 'utf8');
    expect(after).toContain('"owner": "alice"');
    expect(after).toContain('"schema_url": "https://orc-state.dev/schemas/task/2.0.0.json"');
  });
});

describe('checkTaskForm', () => {
  const loc = { file: 't.json', locate: () => ({ line: 1, column: 1 }) };
  it('2.0.0 without context_requirements/validation_rules: defaults in memory; warning for aider, notice otherwise', () => {
    const { context_requirements: _c, validation_rules: _v, ...bare } = guide;
    const aider = checkTaskForm({ ...bare, schema_url: 'https://orc-state.dev/schemas/task/2.0.0.json' }, '2.0.0', loc);
    expect(aider.ok).toBe(true);
    expect(aider.value.validation_rules).toEqual({ pre_execution: ['git_clean'], post_execution: ['no_lint_errors'] });
    expect((aider.value.context_requirements as { max_context_tokens: number }).max_context_tokens).toBe(8000);
    expect(aider.findings.map((f) => f.severity)).toEqual(['warning']);
    expect(aider.findings[0]!.message).toMatch(/aider task without context_requirements and validation_rules.*SHOULD/);
    const custom = checkTaskForm({ ...bare, type: 'custom', schema_url: 'https://orc-state.dev/schemas/task/2.0.0.json' }, '2.0.0', loc);
    expect(custom.ok).toBe(true);
    expect(custom.findings.map((f) => f.severity)).toEqual(['notice']);
  });
  it('2.1.0 (a minor of 2.0.0) leaves them optional too; its new fields are accepted', () => {
    const { context_requirements: _c, validation_rules: _v, ...bare } = guide;
    const r = checkTaskForm({ ...bare, type: 'custom', schema_version: '2.1.0', schema_url: 'https://orc-state.dev/schemas/task/2.1.0.json', outputs: ['out.txt'] }, '2.1.0', loc);
    expect(r.ok, JSON.stringify(r.findings)).toBe(true);
    expect(r.value.validation_rules).toBeDefined();
    expect(r.findings.map((f) => f.severity)).toEqual(['notice']);
  });
  it('unknown fields: warnings with "did you mean" when close, left out of the value, real errors stay errors', () => {
    const r = checkTaskForm({ ...guide, owner: 'alice', dependancies: [], execution: { ...(guide.execution as object), timout: 5 } }, '2.0.0', loc);
    expect(r.ok).toBe(true);
    expect(r.unknownPaths).toHaveLength(3);
    expect(r.unknownPaths).toEqual(expect.arrayContaining([['owner'], ['dependancies'], ['execution', 'timout']]));
    expect('owner' in r.value).toBe(false);
    const fixes = r.findings.filter((f) => /unknown property/.test(f.message)).map((f) => f.fix);
    expect(fixes.some((f) => /did you mean `dependencies`/.test(f))).toBe(true);
    expect(fixes.some((f) => /did you mean `timeout_seconds`/.test(f))).toBe(true);
    const bad = checkTaskForm({ ...guide, owner: 'alice', execution: { ...(guide.execution as object), timeout_seconds: '600' } }, '2.0.0', loc);
    expect(bad.ok).toBe(false);
    expect(bad.findings.filter((f) => f.severity === 'error').map((f) => f.message)).toEqual(['`execution.timeout_seconds` must be an integer, got "600" (a string)']);
  });
});

describe('the upstream migration guide examples', () => {
  const setup = (name: string): string => {
    const root = join(tmp, name);
    cpSync(join(UP, 'migration'), join(root, 'tasks'), { recursive: true });
    return root;
  };
  it('load as they are: v1 without schema_url, v1 with a user field, v2 with another schema_url', () => {
    const set = loadTasks(setup('mig-load'));
    expect([...set.tasks.keys()].sort()).toEqual(['legacy-001', 'legacy-002', 'modern-003']);
    expect(set.findings.filter((f) => f.severity === 'error')).toEqual([]);
    const foreign = set.findings.find((f) => f.file.endsWith('modern-003.json'))!;
    expect(foreign.severity).toBe('warning');
    expect(foreign.message).toContain('https://orc-state.dev/schemas/task/2.0.0.json');
  });
  it('migrate (with the upstream --directory) upgrades the v1 files, keeps "owner", leaves the v2 file byte-identical', () => {
    const root = setup('mig-cli');
    const before = readFileSync(join(root, 'tasks/ws-legacy/modern-003.json'), 'utf8');
    const r = cli(root, 'migrate', '--to', '2.0.0', '--directory', 'tasks');
    expect(r.status, r.stderr).toBe(0);
    const v2 = JSON.parse(readFileSync(join(root, 'tasks/ws-legacy/legacy-002.json'), 'utf8')) as Record<string, unknown>;
    expect(v2).toMatchObject({ schema_version: '2.0.0', schema_url: 'https://orc-state.dev/schemas/task/2.0.0.json', owner: 'alice' });
    expect(Object.keys(v2).slice(0, 2)).toEqual(['schema_version', 'schema_url']);
    expect(readFileSync(join(root, 'tasks/ws-legacy/modern-003.json'), 'utf8')).toBe(before);
    const set = loadTasks(root);
    expect(set.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(set.tasks.get('legacy-001')!.sourceVersion).toBe('2.0.0');
  });
  it('migrateFiles reports the user field as a kept warning and refuses a real schema error', async () => {
    const root = setup('mig-lib');
    const res = await migrateFiles({ root, to: '2.0.0', dryRun: true });
    expect(res.ok).toBe(true);
    expect(res.findings.some((f) => f.severity === 'warning' && /`owner`/.test(f.message))).toBe(true);
    writeFileSync(join(root, 'tasks/ws-legacy/legacy-001.json'), readFileSync(join(root, 'tasks/ws-legacy/legacy-001.json'), 'utf8').replace('"type": "aider"', '"type": "aidr"'));
    const bad = await migrateFiles({ root, to: '2.0.0', dryRun: true });
    expect(bad.ok).toBe(false);
    expect(bad.findings.filter((f) => f.severity === 'error').map(at)).toEqual(['tasks/ws-legacy/legacy-001.json:7:11 SCHEMA-VER-002 error']);
  });
  it('--dir and --directory naming different directories is a usage error', () => {
    const r = cli(setup('mig-usage'), 'migrate', '--to', '2.0.0', '--dir', 'a', '--directory', 'b');
    expect(r.status).toBe(2);
  });
});

describe('capability names', () => {
  it('with no registry at all: a warning that says how to add one (not a failure)', () => {
    const root = repo('nocaps', { 'tasks/ws-001/task-001.json': guideText });
    const set = loadTasks(root);
    const f = checkTaskCapabilities(set.tasks.values(), loadCapabilities(root));
    expect(f.map(at)).toEqual(['tasks/ws-001/task-001.json:12:22 CAP-REG-001 warning']);
    expect(f[0]!.fix).toMatch(/add capabilities\/registry\.psd1/);
    expect(cli(root, 'validate', '--requirement', 'CAP-REG-001').status).toBe(0);
  });
  it('with a registry, an unknown capability stays an error', () => {
    const root = repo('caps', { 'tasks/ws-001/task-001.json': guideText.replace('["aider"]', '["aider", "nope"]') });
    cpSync(join(UP, 'repo/capabilities'), join(root, 'capabilities'), { recursive: true });
    const f = checkTaskCapabilities(loadTasks(root).tasks.values(), loadCapabilities(root));
    expect(f.map((x) => `${x.severity} ${x.message}`)).toEqual(['error capability "nope" is not defined in capabilities/registry.psd1']);
    expect(cli(root, 'validate', '--requirement', 'CAP-REG-001').status).toBe(1);
  });
});
