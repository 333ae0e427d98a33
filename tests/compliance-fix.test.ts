import { chmodSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { applyJsonEdits, locateValue } from '../src/migrate/json-edit.js';
import { runGenericFixes } from '../src/compliance/fix/index.js';
import { runCompliance } from '../src/compliance/runner.js';
import { loadTasks } from '../src/repo/load-tasks.js';
import { copyExampleRepo } from './compliance-helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempRepo(): string {
  const dir = copyExampleRepo('orc-fix-');
  dirs.push(dir);
  return dir;
}

function hashTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const abs = join(d, name);
      if (statSync(abs).isDirectory()) walk(abs);
      else out.set(abs, createHash('sha256').update(readFileSync(abs)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

// --fix edits through the shared JSON text editor (src/migrate/json-edit.ts); these are the edits it makes.
describe('text-preserving JSON edits', () => {
  it('replaces a value keeping CRLF, tabs, BOM and every other byte', () => {
    const raw = '\uFEFF{\r\n\t"a": 1,\r\n\t"blocks": [\r\n\t\t"x",\r\n\t\t"y"\r\n\t],\r\n\t"z": {"k": [1,2]}\r\n}\r\n';
    const text = applyJsonEdits(raw, [{ op: 'set', path: ['blocks'], value: ['y', 'w'], keepLayout: true }]);
    expect(text).toBe('\uFEFF{\r\n\t"a": 1,\r\n\t"blocks": [\r\n\t\t"y",\r\n\t\t"w"\r\n\t],\r\n\t"z": {"k": [1,2]}\r\n}\r\n');
    expect(locateValue(raw, ['blocks'])).toEqual({ start: { line: 3, column: 12 }, end: { line: 6, column: 3 } });
  });

  it('keeps one-line arrays on one line and empties them to []', () => {
    const raw = '{\n  "blocks": ["a", "b"],\n  "n": 1\n}\n';
    expect(applyJsonEdits(raw, [{ op: 'set', path: ['blocks'], value: ['b'], keepLayout: true }])).toBe('{\n  "blocks": ["b"],\n  "n": 1\n}\n');
    expect(applyJsonEdits(raw, [{ op: 'set', path: ['blocks'], value: [], keepLayout: true }])).toBe('{\n  "blocks": [],\n  "n": 1\n}\n');
  });

  it('inserts members first, or after an anchor, with the file\'s indentation', () => {
    const raw = '{\r\n    "$schema": "x",\r\n    "task_id": "t"\r\n}';
    expect(applyJsonEdits(raw, [{ op: 'set', path: ['schema_version'], value: '2.0.0', after: ['$schema'] }])).toBe('{\r\n    "$schema": "x",\r\n    "schema_version": "2.0.0",\r\n    "task_id": "t"\r\n}');
    expect(
      applyJsonEdits(raw, [
        { op: 'set', path: ['a'], value: 1, after: [] },
        { op: 'set', path: ['b'], value: 2, after: [] },
      ]),
    ).toBe('{\r\n    "a": 1,\r\n    "b": 2,\r\n    "$schema": "x",\r\n    "task_id": "t"\r\n}');
    // A document on one line stays compact (the editor's rule for one-line documents).
    expect(applyJsonEdits('{}', [{ op: 'set', path: ['a'], value: 1, after: [] }])).toBe('{"a":1}');
  });

  it('refuses documents that are not valid JSON objects, and --fix leaves such files alone', () => {
    expect(() => applyJsonEdits('{"a": 1,}', [{ op: 'set', path: ['blocks'], value: [] }])).toThrow(/not valid JSON/);
    expect(() => applyJsonEdits('[1]', [{ op: 'set', path: ['blocks'], value: [] }])).toThrow(/not an object/);
    const dir = tempRepo();
    const array = join(dir, 'tasks/api-hardening/ah-lint-baseline.json');
    const broken = join(dir, 'tasks/release-0-2/rel-tag.json');
    writeFileSync(array, '[1]');
    writeFileSync(broken, '{"task_id": "rel-tag",}');
    runGenericFixes(dir, new Set(['TASK-DEF-002', 'SCHEMA-VER-001']));
    expect(readFileSync(array, 'utf8')).toBe('[1]');
    expect(readFileSync(broken, 'utf8')).toBe('{"task_id": "rel-tag",}');
  });
});

describe('--fix: blocks is the inverse of dependencies', () => {
  it('repairs only the blocks value, reports each repair, and TASK-DEF-002 then passes', async () => {
    const dir = tempRepo();
    const file = join(dir, 'tasks/api-hardening/ah-lint-baseline.json');
    const original = readFileSync(file, 'utf8');
    const broken = original.replace('"ah-harden-state-machine",\n    "ah-harden-task-schema"', '"ah-harden-task-schema",\n    "ghost-task"');
    expect(broken).not.toBe(original);
    writeFileSync(file, broken);
    const before = await runCompliance({ root: dir, requirements: ['TASK-DEF-002'] });
    expect(before.requirements[0]!.status).toBe('FAIL');
    expect(readFileSync(file, 'utf8')).toBe(broken); // read-only without --fix

    const after = await runCompliance({ root: dir, requirements: ['TASK-DEF-002'], fix: true });
    const r = after.requirements[0]!;
    expect(r.status).toBe('PASS');
    expect(r.fixed).toHaveLength(1);
    expect(r.fixed![0]).toMatchObject({ file: 'tasks/api-hardening/ah-lint-baseline.json', line: 12, severity: 'notice', message: expect.stringContaining('added ah-harden-state-machine; removed ghost-task') });
    const text = readFileSync(file, 'utf8');
    expect(JSON.parse(text).blocks).toEqual(['ah-harden-task-schema', 'ah-harden-state-machine']);
    // Every line outside the blocks array is unchanged.
    const a = original.split('\n');
    const b = text.split('\n');
    expect(b.length).toBe(a.length);
    expect(b.filter((l, i) => l !== a[i])).toEqual(['    "ah-harden-task-schema",', '    "ah-harden-state-machine"']);
    // Idempotent.
    expect(runGenericFixes(dir, new Set(['TASK-DEF-002'])).size).toBe(0);
  });

  it('keeps the repaired file\'s permission bits', () => {
    const dir = tempRepo();
    const file = join(dir, 'tasks/api-hardening/ah-lint-baseline.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"ah-harden-state-machine",\n', ''));
    chmodSync(file, 0o600);
    expect(runGenericFixes(dir, new Set(['TASK-DEF-002'])).get('TASK-DEF-002')).toHaveLength(1);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'tasks/api-hardening')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('creates a missing blocks member after dependencies', () => {
    const dir = tempRepo();
    const file = join(dir, 'tasks/api-hardening/ah-lint-baseline.json');
    const original = readFileSync(file, 'utf8');
    const start = original.indexOf('  "blocks"');
    const end = original.indexOf('],', start) + 3;
    writeFileSync(file, original.slice(0, start) + original.slice(end));
    const repairs = runGenericFixes(dir, new Set(['TASK-DEF-002'])).get('TASK-DEF-002')!;
    expect(repairs).toHaveLength(1);
    const value = JSON.parse(readFileSync(file, 'utf8'));
    expect(value.blocks).toEqual(['ah-harden-state-machine', 'ah-harden-task-schema']);
    expect(Object.keys(value).indexOf('blocks')).toBe(Object.keys(value).indexOf('dependencies') + 1);
    expect(loadTasks(dir).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });
});

describe('--fix: missing schema_version / schema_url', () => {
  it('adds them when exactly one known schema accepts the content', async () => {
    const dir = tempRepo();
    const file = join(dir, 'tasks/release-0-2/rel-tag.json');
    const original = readFileSync(file, 'utf8');
    const stripped = original.replace(/\n  "schema_version": "2\.0\.0",/, '').replace(/\n  "schema_url": "[^"]*",/, '');
    expect(JSON.parse(stripped).schema_version).toBeUndefined();
    writeFileSync(file, stripped);
    const before = await runCompliance({ root: dir, requirements: ['SCHEMA-VER-001'] });
    expect(before.requirements[0]).toMatchObject({ status: 'FAIL' });
    expect(before.requirements[0]!.findings.map((f) => f.message)).toEqual(expect.arrayContaining([expect.stringContaining('has no schema_version'), expect.stringContaining('has no schema_url')]));
    const after = await runCompliance({ root: dir, requirements: ['SCHEMA-VER-001'], fix: true });
    expect(after.requirements[0]!.fixed?.[0]?.message).toContain('added schema_version "2.0.0" and schema_url');
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(after.requirements[0]!.findings.filter((f) => f.file === 'tasks/release-0-2/rel-tag.json')).toEqual([]);
  });

  it('also under TASK-DEF-002 alone (the loader reports a missing schema_version there)', async () => {
    const dir = tempRepo();
    const file = join(dir, 'tasks/release-0-2/rel-tag.json');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace(/\n  "schema_version": "2\.0\.0",/, ''));
    expect((await runCompliance({ root: dir, sections: ['tasks'], requirements: ['TASK-DEF-002'] })).requirements[0]!.status).toBe('FAIL');
    const after = await runCompliance({ root: dir, requirements: ['TASK-DEF-002'], fix: true });
    expect(after.requirements[0]).toMatchObject({ status: 'PASS', fixed: [expect.objectContaining({ requirement: 'TASK-DEF-002', message: expect.stringContaining('added schema_version "2.0.0"') })] });
    expect(readFileSync(file, 'utf8')).toBe(original);
  });

  it('never guesses: content that matches no known version is left for the rule to report', () => {
    const dir = tempRepo();
    const file = join(dir, 'tasks/release-0-2/rel-tag.json');
    const value = JSON.parse(readFileSync(file, 'utf8'));
    delete value.schema_version;
    delete value.schema_url;
    value.type = 'not-a-type';
    const text = JSON.stringify(value, null, 2);
    writeFileSync(file, text);
    expect(runGenericFixes(dir, new Set(['SCHEMA-VER-001'])).size).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});

describe('read-only unless --fix', () => {
  it('a full compliance run without --fix changes no file', async () => {
    const dir = tempRepo();
    writeFileSync(join(dir, 'tasks/api-hardening/ah-lint-baseline.json'), readFileSync(join(dir, 'tasks/api-hardening/ah-lint-baseline.json'), 'utf8').replace('"ah-harden-task-schema"', '"ghost"'));
    const before = hashTree(dir);
    await runCompliance({ root: dir, sections: [] });
    expect(hashTree(dir)).toEqual(before);
  });
});

describe('--fix plumbing for rule-owned repairs', () => {
  it('a rule repairing under ctx.fix (stale index, STATE-OBS-006) is reported in `fixed` and passes', async () => {
    const dir = tempRepo();
    const engine = await import('../src/engine/init.js');
    const commit = await import('../src/engine/commit.js');
    await engine.initStore(dir);
    await commit.syncDefinitions(dir);
    (await import('./fixtures/compliance/breakers/STATE-OBS-006.ts')).breakRepo(dir);
    const before = await runCompliance({ root: dir, requirements: ['STATE-OBS-006'] });
    expect(before.requirements[0]!.status).toBe('FAIL');
    const fixed = await runCompliance({ root: dir, requirements: ['STATE-OBS-006'], fix: true });
    expect(fixed.requirements[0]!.status).toBe('PASS');
    expect(fixed.requirements[0]!.fixed?.length).toBeGreaterThan(0);
    expect((await runCompliance({ root: dir, requirements: ['STATE-OBS-006'] })).requirements[0]!.status).toBe('PASS');
  });
});
