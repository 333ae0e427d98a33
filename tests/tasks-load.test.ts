import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossCheckTasks, loadTaskFile, loadTasks, type TaskSet } from '../src/repo/load-tasks.js';
import { taskV1ToV2, taskV2ToV1 } from '../src/migrate/steps/task-v1-v2.js';
import { validate } from '../src/schema/registry.js';

const FIXTURE = 'tests/fixtures/tasks/repo-bad';
const tmp = mkdtempSync(join(tmpdir(), 'orc-tasks-'));
const repo = join(tmp, 'repo');
const outside = join(tmp, 'outside');
let set: TaskSet;

beforeAll(() => {
  cpSync(FIXTURE, repo, { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.md'), 'outside the repo\n');
  writeFileSync(join(outside, 'task.json'), '{}');
  // a task file that is a symlink leaving the repo, and a required file that does the same
  symlinkSync(join(outside, 'task.json'), join(repo, 'tasks/ws-a/a-link.json'));
  symlinkSync(join(outside, 'secret.md'), join(repo, 'docs/link.md'));
  set = loadTasks(repo);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const at = (f: { file: string; line: number; column: number; requirement: string; severity: string }) => `${f.file}:${f.line}:${f.column} ${f.requirement} ${f.severity}`;

describe('loadTasks on a repo with one bad-input class per file', () => {
  it('reports every class at its exact file:line:column with its requirement id', () => {
    expect(set.findings.map(at).sort()).toEqual(
      [
        'tasks/stray.json:1:1 TASK-DEF-001 error', // not inside a workstream directory
        'tasks/ws-a/a-link.json:1:1 TASK-DEF-001 error', // symlink leaving the repo
        'tasks/ws-a/a-bad-id.json:4:14 TASK-DEF-001 error', // "../evil" as task_id
        'tasks/ws-a/a-no-version.json:1:1 TASK-DEF-002 error', // missing schema_version
        'tasks/ws-a/a-unknown-version.json:2:21 TASK-DEF-002 error', // "3.0.0"
        'tasks/ws-a/a-v1.json:2:21 TASK-DEF-002 notice', // upgraded in memory
        'tasks/ws-a/a-outside-file.json:25:7 TASK-DEF-002 error', // "../outside.txt"
        'tasks/ws-a/a-wrong-types.json:8:11 TASK-DEF-002 error', // type "shell"
        'tasks/ws-a/a-wrong-types.json:9:13 TASK-DEF-002 error', // status "done"
        'tasks/ws-a/a-wrong-types.json:19:24 TASK-DEF-002 error', // timeout "600"
        'tasks/ws-a/a-wrong-types.json:20:20 TASK-DEF-002 error', // max_retries -1
        'tasks/ws-a/a-wrong-types.json:21:5 TASK-DEF-002 warning', // unknown key "timout": kept, a warning with "did you mean" (issue 9)
        'tasks/ws-b/b-mismatch.json:4:14 TASK-DEF-001 error', // file name vs task_id
        'tasks/ws-b/b-mismatch.json:5:20 TASK-DEF-001 error', // directory vs workstream_id
        'tasks/ws-b/dup.json:4:14 TASK-DEF-001 error', // duplicate id across workstreams
        'tasks/ws-a/a-blocks.json:11:13 TASK-DEF-002 error', // blocks not the inverse
        'tasks/ws-a/a-missing-file.json:26:7 TASK-DEF-002 error', // required file missing
        'tasks/ws-a/a-missing-file.json:29:7 TASK-DEF-002 warning', // optional file missing
        'tasks/ws-a/a-symfile.json:25:7 TASK-DEF-002 error', // required file is a symlink out of the repo
        'tasks/ws-a/a-dir-file.json:25:7 TASK-DEF-002 error', // required "file" is a directory
        'tasks/ws-a/a-unknown-dep.json:11:5 TASK-DEF-002 error', // unknown dependency
      ].sort(),
    );
  });

  const msg = (file: string, line: number) => set.findings.find((f) => f.file === file && f.line === line)!;

  it('messages say what is wrong and how to fix it', () => {
    const timeout = msg('tasks/ws-a/a-wrong-types.json', 19);
    expect(timeout.message).toBe('`execution.timeout_seconds` must be an integer, got "600" (a string)');
    expect(timeout.fix).toBe('write the number without quotes: 600');
    expect(msg('tasks/ws-a/a-wrong-types.json', 21).fix).toMatch(/did you mean `timeout_seconds`/);
    expect(msg('tasks/ws-a/a-wrong-types.json', 20).message).toMatch(/must be an integer ≥ 0, got -1/);
    const blocks = msg('tasks/ws-a/a-blocks.json', 11);
    expect(blocks.message).toMatch(/missing "a-child2".*lists "a-ok"/);
    expect(blocks.fix).toMatch(/^add "a-child2" and remove "a-ok" in "blocks"/);
    expect(msg('tasks/ws-a/a-unknown-dep.json', 11).fix).toMatch(/did you mean "a-ok"/);
    expect(msg('tasks/ws-a/a-unknown-version.json', 2).message).toMatch(/unknown schema_version "3\.0\.0" \(known versions: 1\.0\.0, 2\.0\.0\)/);
    expect(msg('tasks/ws-a/a-no-version.json', 1).message).toMatch(/known versions: 1\.0\.0, 2\.0\.0/);
    expect(msg('tasks/ws-b/dup.json', 4).message).toMatch(/already used by tasks\/ws-a\/dup\.json/);
    expect(msg('tasks/ws-a/a-symfile.json', 25).message).toMatch(/outside the repository/);
    expect(msg('tasks/ws-a/a-link.json', 1).message).toMatch(/symbolic link leads outside/);
    expect(msg('tasks/ws-a/a-bad-id.json', 4).message).toMatch(/not a safe id/);
    for (const f of set.findings) {
      expect(f.fix.length, at(f)).toBeGreaterThan(5);
      expect(f.message).not.toMatch(/must NOT|instancePath|schemaPath/);
    }
  });

  it('keeps only valid tasks, ignores tasks/.backups and non-JSON files, counts files read once', () => {
    expect([...set.tasks.keys()].sort()).toEqual(['a-blocks', 'a-child', 'a-child2', 'a-dir-file', 'a-missing-file', 'a-ok', 'a-symfile', 'a-unknown-dep', 'a-v1', 'b-other', 'dup']);
    expect(set.tasks.get('dup')!.file).toBe('tasks/ws-a/dup.json');
    expect(set.filesRead).toBe(18);
    expect([...set.invalidIds].sort()).toEqual(['../evil', 'a-no-version', 'a-outside-file', 'a-unknown-version', 'a-wrong-types']);
    expect(set.byWorkstream.get('ws-a')!.map((t) => t.task.task_id)).toContain('a-ok');
    expect(set.findings.some((f) => f.file.includes('.backups'))).toBe(false);
  });

  it('upgrades a v1 file in memory with the SCHEMA-VER-002 defaults', () => {
    const v1 = set.tasks.get('a-v1')!;
    expect(v1.sourceVersion).toBe('1.0.0');
    expect(v1.task.schema_version).toBe('2.0.0');
    expect(v1.task.validation_rules).toEqual({ pre_execution: [], post_execution: ['tests_passing'] });
    expect(v1.task.context_requirements.max_context_tokens).toBe(8000);
    expect(validate('task', '2.0.0', v1.task).valid).toBe(true);
  });

  it('loadTaskFile checks one file alone; crossCheckTasks rechecks a changed set', () => {
    const one = loadTaskFile(repo, 'tasks/ws-a/a-wrong-types.json');
    expect(one.task).toBeUndefined();
    expect(one.findings.map(at)).toContain('tasks/ws-a/a-wrong-types.json:19:24 TASK-DEF-002 error');
    expect(loadTaskFile(repo, 'tasks/ws-a/a-link.json').findings.map(at)).toEqual(['tasks/ws-a/a-link.json:1:1 TASK-DEF-001 error']);
    const ok = loadTaskFile(repo, 'tasks/ws-a/a-ok.json');
    expect(ok.findings).toEqual([]);
    const tasks = new Map(set.tasks);
    tasks.delete('a-child'); // a-ok now lists a task that no longer depends on it
    const cross = crossCheckTasks(repo, tasks, { knownIds: set.invalidIds });
    expect(cross.find((f) => f.file === 'tasks/ws-a/a-ok.json')?.fix).toMatch(/remove "a-child"/);
  });

  it('a tasks/ directory that is a symlink out of the repo is refused, not read', () => {
    const root = join(tmp, 'linked-root');
    mkdirSync(root);
    symlinkSync(join(repo, 'tasks'), join(root, 'tasks'));
    const linked = loadTasks(root);
    expect(linked.findings.map(at)).toEqual(['tasks:1:1 TASK-DEF-001 error']);
    expect(linked.filesRead).toBe(0);
  });

  it('an empty or missing tasks/ gives an empty set, not an error', () => {
    const empty = loadTasks(join(tmp, 'nowhere'));
    expect(empty.tasks.size).toBe(0);
    expect(empty.findings).toEqual([]);
  });
});

describe('the example repo shipped at the project root', () => {
  const example = loadTasks('.');
  it('loads clean: 3+ workstreams, 15+ tasks of all four types', () => {
    expect(example.findings).toEqual([]);
    expect(example.tasks.size).toBeGreaterThanOrEqual(15);
    expect(example.byWorkstream.size).toBeGreaterThanOrEqual(3);
    const types = new Set([...example.tasks.values()].map((t) => t.task.type));
    expect([...types].sort()).toEqual(['aider', 'custom', 'lint', 'pytest']);
  });
  it('has a cross-workstream dependency, a critical task, resources, estimates, all pending', () => {
    const all = [...example.tasks.values()].map((t) => t.task);
    expect(all.some((t) => t.dependencies.some((d) => example.tasks.get(d)!.task.workstream_id !== t.workstream_id))).toBe(true);
    expect(all.some((t) => t.critical === true)).toBe(true);
    expect(all.some((t) => Object.keys(t.resource_requirements ?? {}).length > 0)).toBe(true);
    expect(all.some((t) => t.execution.estimated_duration_seconds !== undefined)).toBe(true);
    expect(all.some((t) => t.context_requirements.required_files.length > 0)).toBe(true);
    expect(all.every((t) => t.status === 'pending' && t.$schema === '../../schemas/task.v2.0.0.schema.json')).toBe(true);
  });
});

describe('task v1 <-> v2 value migration', () => {
  const v1 = { schema_version: '1.0.0', schema_url: 'https://orc-state.dev/schemas/task/1.0.0.json', task_id: 't', type: 'aider', execution: { command: 'x' }, state: {} };
  it('adds the defaults by type after execution, and back again', () => {
    const v2 = taskV1ToV2(v1);
    expect(Object.keys(v2)).toEqual(['schema_version', 'schema_url', 'task_id', 'type', 'execution', 'context_requirements', 'validation_rules', 'state']);
    expect(v2.context_requirements).toEqual({ max_context_tokens: 8000, required_files: [], exclude_patterns: ['**/__pycache__/**', '**/*.pyc', '**/node_modules/**'] });
    expect(v2.validation_rules).toEqual({ pre_execution: ['git_clean'], post_execution: ['no_lint_errors'] });
    expect(v2.schema_url).toBe('https://orc-state.dev/schemas/task/2.0.0.json');
    expect(taskV2ToV1(v2)).toEqual(v1);
    expect(v1).not.toHaveProperty('context_requirements'); // input untouched
  });
  it('keeps existing values and uses per-type rules', () => {
    const keep = taskV1ToV2({ ...v1, type: 'lint', validation_rules: { pre_execution: ['a'], post_execution: [] } });
    expect(keep.validation_rules).toEqual({ pre_execution: ['a'], post_execution: [] });
    expect(taskV1ToV2({ ...v1, type: 'pytest' }).validation_rules).toEqual({ pre_execution: [], post_execution: ['tests_passing'] });
    expect(taskV1ToV2({ ...v1, type: 'lint' }).validation_rules).toEqual({ pre_execution: [], post_execution: [] });
  });
});
