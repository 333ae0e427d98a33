import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OrcError } from '../src/errors.js';
import { validate } from '../src/schema/registry.js';
import { DEFAULT_REGISTRY, MigrationRegistry, migrateValue, upgradeInMemory, type MigrationStep } from '../src/migrate/chain.js';
import { migrateFiles, rollbackMigration } from '../src/migrate/run.js';
import { treeFiles as snapshotFiles } from './migrate-helpers.js';

const FIXTURE = join(import.meta.dirname, 'fixtures/migrate/v1/tasks');

function repo(): string {
  const root = mkdtempSync(join(tmpdir(), 'orc-migrate-'));
  cpSync(FIXTURE, join(root, 'tasks'), { recursive: true });
  return root;
}

const read = (root: string, f: string) => readFileSync(join(root, 'tasks', f), 'utf8');

describe('migrate 1.0.0 → 2.0.0', () => {
  it('adds context_requirements defaults and validation_rules by type, after execution', async () => {
    const root = repo();
    const result = await migrateFiles({ root, from: '1.0.0', to: '2.0.0' });
    expect(result.ok).toBe(true);
    expect(result.counts.migrated).toBe(3);
    const aider = JSON.parse(read(root, 'ws-a/edit-parser.json'));
    expect(aider.context_requirements).toEqual({
      max_context_tokens: 8000,
      required_files: [],
      exclude_patterns: ['**/__pycache__/**', '**/*.pyc', '**/node_modules/**'],
    });
    expect(aider.validation_rules).toEqual({ pre_execution: ['git_clean'], post_execution: ['no_lint_errors'] });
    expect(JSON.parse(read(root, 'ws-a/test-parser.json')).validation_rules).toEqual({ pre_execution: [], post_execution: ['tests_passing'] });
    expect(JSON.parse(read(root, 'ws-b/lint-all.json')).validation_rules).toEqual({ pre_execution: [], post_execution: [] });
    const keys = Object.keys(aider);
    expect(keys.indexOf('context_requirements')).toBe(keys.indexOf('execution') + 1);
    expect(keys.indexOf('validation_rules')).toBe(keys.indexOf('execution') + 2);
    for (const f of ['ws-a/edit-parser.json', 'ws-a/test-parser.json', 'ws-b/lint-all.json']) {
      const v = JSON.parse(read(root, f));
      expect(v.schema_version).toBe('2.0.0');
      expect(validate('task', '2.0.0', v).errors).toEqual([]);
    }
    // The editor hint follows the file.
    expect(aider.$schema).toMatch(/task\.v2\.0\.0\.schema\.json$/);
  });

  it('keeps values that are already present instead of replacing them with defaults', async () => {
    const root = repo();
    const f = join(root, 'tasks/ws-a/edit-parser.json');
    // A v1 file cannot carry context_requirements (the schema forbids it), so check at value level.
    const v1 = JSON.parse(readFileSync(f, 'utf8'));
    const { value } = migrateValue('task', { ...v1, validation_rules: { pre_execution: [], post_execution: ['custom'] } }, '1.0.0', '2.0.0');
    expect(value.validation_rules).toEqual({ pre_execution: [], post_execution: ['custom'] });
  });

  it('keeps CRLF, 4-space, tab and one-line-array styles, and unknown x- fields', async () => {
    const root = repo();
    const before = snapshotFiles(join(root, 'tasks'));
    await migrateFiles({ root, from: '1.0.0', to: '2.0.0' });
    const crlf = read(root, 'ws-a/test-parser.json');
    expect(crlf.split('\n').every((l, i, all) => i === all.length - 1 || l.endsWith('\r'))).toBe(true);
    expect(crlf).toContain('\r\n    "context_requirements": {\r\n        "max_context_tokens": 8000,');
    expect(JSON.parse(crlf)['x-notes']).toEqual({ flaky: false });
    const tab = read(root, 'ws-b/lint-all.json');
    expect(tab).toContain('\n\t"context_requirements": {\n\t\t"max_context_tokens": 8000,');
    expect(tab.endsWith('}')).toBe(true); // no final newline before, none after
    const two = read(root, 'ws-a/edit-parser.json');
    expect(two).toContain('"exclude_patterns": ["**/__pycache__/**", "**/*.pyc", "**/node_modules/**"]'); // file uses one-line arrays
    expect(JSON.parse(two)['x-owner']).toBe('parsing-team');
    // Every original line is still there, in order: only insertions and the version lines changed.
    for (const [name, bytes] of before) {
      const oldLines = bytes.toString('utf8').split('\n').filter((l) => !/schema_version|schema_url|\$schema/.test(l));
      const newLines = read(root, name).split('\n');
      let j = 0;
      for (const line of oldLines) {
        while (j < newLines.length && newLines[j] !== line && !(line.endsWith('}') && newLines[j] === `${line.replace(/\r$/, '')},${line.endsWith('\r') ? '\r' : ''}`)) j++;
        expect(j, `${name}: "${line}" kept`).toBeLessThan(newLines.length);
        j++;
      }
    }
  });

  it('leaves files already at 2.0.0 byte-identical and writes no backup for them', async () => {
    const root = repo();
    await migrateFiles({ root, from: '1.0.0', to: '2.0.0', backup: false });
    const migrated = snapshotFiles(join(root, 'tasks'));
    const again = await migrateFiles({ root, from: '1.0.0', to: '2.0.0' });
    expect(again.counts).toMatchObject({ migrated: 0, unchanged: 3 });
    expect(again.backup).toBeNull();
    expect(snapshotFiles(join(root, 'tasks'))).toEqual(migrated);
    expect(existsSync(join(root, 'tasks/.backups'))).toBe(false);
  });

  it('refuses the whole run when one file is invalid v1, reporting its location, writing nothing', async () => {
    const root = repo();
    mkdirSync(join(root, 'tasks/ws-c'));
    writeFileSync(
      join(root, 'tasks/ws-c/bad.json'),
      '{\n  "schema_version": "1.0.0",\n  "schema_url": "https://orc-state.dev/schemas/task/1.0.0.json",\n  "task_id": "bad",\n  "workstream_id": "ws-c",\n  "name": "Bad",\n  "description": "",\n  "type": "aider",\n  "status": "sleeping",\n  "dependencies": [],\n  "blocks": [],\n  "worker_requirements": {"capabilities": []},\n  "execution": {"command": "x", "timeout_seconds": 1, "max_retries": 0},\n  "state": {"created_at": "2026-11-01T09:00:00.000Z", "retry_count": 0}\n}\n',
    );
    writeFileSync(join(root, 'tasks/ws-c/broken.json'), '{\n  "a": 1,\n}\n');
    const before = snapshotFiles(join(root, 'tasks'));
    const result = await migrateFiles({ root, from: '1.0.0', to: '2.0.0' });
    expect(result.ok).toBe(false);
    const status = result.findings.find((f) => f.file === 'tasks/ws-c/bad.json');
    expect(status).toMatchObject({ line: 9, requirement: 'SCHEMA-VER-002' });
    expect(status?.message).toMatch(/status/);
    const syntax = result.findings.find((f) => f.file === 'tasks/ws-c/broken.json');
    expect(syntax?.line).toBe(2); // the trailing comma
    expect(snapshotFiles(join(root, 'tasks'))).toEqual(before);
    expect(existsSync(join(root, 'tasks/.backups'))).toBe(false);
  });

  it('reports a file at a version outside the run', async () => {
    const root = repo();
    const f = join(root, 'tasks/ws-b/lint-all.json');
    writeFileSync(f, readFileSync(f, 'utf8').replace('"1.0.0"', '"0.9.0"'));
    const result = await migrateFiles({ root, from: '1.0.0', to: '2.0.0' });
    expect(result.ok).toBe(false);
    expect(result.findings[0]).toMatchObject({ file: 'tasks/ws-b/lint-all.json', line: 2, column: 20 });
    expect(result.findings[0]?.message).toMatch(/0\.9\.0/);
  });

  it('without --from migrates every file that has a path to the target', async () => {
    const root = repo();
    const result = await migrateFiles({ root, to: '2.0.0', backup: false });
    expect(result).toMatchObject({ ok: true, from: 'any', steps: ['task_v1_to_v2'] });
    expect(result.counts.migrated).toBe(3);
  });

  it('dry run prints unified diffs and writes nothing', async () => {
    const root = repo();
    const before = snapshotFiles(join(root, 'tasks'));
    const result = await migrateFiles({ root, from: '1.0.0', to: '2.0.0', dryRun: true });
    expect(result.files.every((f) => f.action === 'would-migrate')).toBe(true);
    const diff = result.files.find((f) => f.file === 'tasks/ws-a/edit-parser.json')?.diff ?? '';
    expect(diff).toMatch(/^--- a\/tasks\/ws-a\/edit-parser\.json\n\+\+\+ b\/tasks\/ws-a\/edit-parser\.json\n@@ /);
    expect(diff).toContain('\n-  "schema_version": "1.0.0",\n');
    expect(diff).toContain('\n+  "schema_version": "2.0.0",\n');
    expect(diff).toContain('+  "context_requirements": {');
    expect(snapshotFiles(join(root, 'tasks'))).toEqual(before);
    expect(existsSync(join(root, 'tasks/.backups'))).toBe(false);
  });
});

describe('backups and rollback', () => {
  it('rollback restores every file byte-identical and keeps the migrated copies', async () => {
    const root = repo();
    const original = snapshotFiles(join(root, 'tasks'));
    const result = await migrateFiles({ root, from: '1.0.0', to: '2.0.0' });
    expect(result.backup).toMatch(/^tasks\/\.backups\/\d{4}-\d\d-\d\dT/);
    const manifest = JSON.parse(readFileSync(join(root, result.backup as string, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('complete');
    expect(manifest.files).toHaveLength(3);
    const migrated = snapshotFiles(join(root, 'tasks'));
    const back = await rollbackMigration({ root });
    expect(back.ok).toBe(true);
    expect(back.files.filter((f) => f.action === 'restored')).toHaveLength(3);
    expect(snapshotFiles(join(root, 'tasks'))).toEqual(original);
    // The rollback saved what it replaced: rolling that back re-applies the migration.
    expect(back.saved).not.toBeNull();
    await rollbackMigration({ root, backup: (back.saved as string).split('/').pop() as string });
    expect(snapshotFiles(join(root, 'tasks'))).toEqual(migrated);
  });

  it('refuses to roll back over a file edited after the migration unless --yes', async () => {
    const root = repo();
    await migrateFiles({ root, from: '1.0.0', to: '2.0.0' });
    const f = join(root, 'tasks/ws-b/lint-all.json');
    writeFileSync(f, readFileSync(f, 'utf8').replace('"Lint"', '"Lint everything"'));
    const edited = readFileSync(f);
    const refused = await rollbackMigration({ root });
    expect(refused.ok).toBe(false);
    expect(refused.findings[0]?.file).toBe('tasks/ws-b/lint-all.json');
    expect(readFileSync(f)).toEqual(edited);
    const forced = await rollbackMigration({ root, yes: true });
    expect(forced.ok).toBe(true);
    // The edit is not lost: it is in the backup the rollback made.
    expect(readFileSync(join(root, forced.saved as string, 'ws-b/lint-all.json'))).toEqual(edited);
  });

  it('a backup whose manifest does not follow the schema is not trusted', async () => {
    const root = repo();
    const result = await migrateFiles({ root, from: '1.0.0', to: '2.0.0' });
    const manifest = join(root, result.backup as string, 'manifest.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/"sha256_before": "[0-9a-f]+"/, '"sha256_before": "edited"'));
    const name = (result.backup as string).split('/').pop() as string;
    const error = await rollbackMigration({ root, backup: name }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrcError);
    expect((error as OrcError).message).toMatch(/has no valid manifest\.json/);
    await expect(rollbackMigration({ root })).rejects.toThrow(/no migration backup/);
  });

  it('2.0.0 → 1.0.0 states the data loss, needs yes, and restores v1 content', async () => {
    const root = repo();
    const original = snapshotFiles(join(root, 'tasks'));
    await migrateFiles({ root, from: '1.0.0', to: '2.0.0', backup: false });
    const migrated = snapshotFiles(join(root, 'tasks'));
    const error = await migrateFiles({ root, from: '2.0.0', to: '1.0.0' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrcError);
    expect((error as OrcError).code).toBe('USAGE');
    expect((error as OrcError).message).toMatch(/removes data: context_requirements \(3 files\), validation_rules \(3 files\)/);
    expect(snapshotFiles(join(root, 'tasks'))).toEqual(migrated);
    const dry = await migrateFiles({ root, from: '2.0.0', to: '1.0.0', dryRun: true });
    expect(dry.data_loss).toEqual([
      { field: 'context_requirements', files: 3 },
      { field: 'validation_rules', files: 3 },
    ]);
    const down = await migrateFiles({ root, from: '2.0.0', to: '1.0.0', yes: true });
    expect(down.ok).toBe(true);
    expect(snapshotFiles(join(root, 'tasks'))).toEqual(original);
    for (const [name] of original) expect(validate('task', '1.0.0', JSON.parse(read(root, name))).valid).toBe(true);
  });

  it('resumes an interrupted run from its journal so the backup holds every original', async () => {
    const root = repo();
    const original = snapshotFiles(join(root, 'tasks'));
    // Interrupt after the first replaced file.
    class Stop extends Error {}
    await migrateFiles({
      root,
      from: '1.0.0',
      to: '2.0.0',
      concurrency: 1,
      onFileWritten: () => {
        throw new Stop();
      },
    }).catch((e: unknown) => {
      if (!(e instanceof Stop)) throw e;
    });
    const backups = readdirSync(join(root, 'tasks/.backups'));
    expect(backups).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(root, 'tasks/.backups', backups[0] as string, 'manifest.json'), 'utf8')).status).toBe('replacing');
    const resumed = await migrateFiles({ root, from: '1.0.0', to: '2.0.0' });
    expect(resumed.resumed).toBe(true);
    expect(resumed.counts.migrated).toBe(3);
    expect(readdirSync(join(root, 'tasks/.backups'))).toHaveLength(1);
    await rollbackMigration({ root });
    expect(snapshotFiles(join(root, 'tasks'))).toEqual(original);
  });
});

describe('the chain', () => {
  const hypothetical = (from: string, to: string, add: string): MigrationStep => ({
    id: `task_v${from}_to_v${to}`,
    kind: 'task',
    from,
    to,
    doc: 'x.md',
    summary: add,
    lostFields: [],
    apply: (v) => ({ ...v, [add]: true, schema_version: to }),
  });

  it('runs N → N+2 as N → N+1 → N+2 and knows single-version kinds', () => {
    const registry = new MigrationRegistry([hypothetical('1.0.0', '2.0.0', 'a'), hypothetical('2.0.0', '3.0.0', 'b')], { task: ['1.0.0', '2.0.0', '3.0.0'] });
    expect(registry.path('task', '1.0.0', '3.0.0').map((s) => s.id)).toEqual(['task_v1.0.0_to_v2.0.0', 'task_v2.0.0_to_v3.0.0']);
    const { value } = migrateValue('task', { schema_version: '1.0.0' }, '1.0.0', '3.0.0', registry);
    expect(value).toEqual({ schema_version: '3.0.0', a: true, b: true });
    expect(upgradeInMemory('task', { schema_version: '2.0.0' }, undefined, registry).steps).toEqual(['task_v2.0.0_to_v3.0.0']);
    expect(() => registry.path('task', '3.0.0', '1.0.0')).toThrow(/no migration path/);
    expect(() => DEFAULT_REGISTRY.path('snapshot', '1.0.0', '2.0.0')).toThrow(/single version/);
    expect(DEFAULT_REGISTRY.steps('snapshot')).toEqual([]);
    expect(DEFAULT_REGISTRY.steps('task').map((s) => s.id)).toEqual(['task_v1_to_v2', 'task_v2_to_v1', 'task_v2_to_v2.1.0', 'task_v2.1.0_to_v2']);
  });

  it('upgradeInMemory turns a v1 task into a valid v2 value without touching files', () => {
    const v1 = JSON.parse(readFileSync(join(FIXTURE, 'ws-a/edit-parser.json'), 'utf8'));
    const up = upgradeInMemory('task', v1);
    expect(up.steps).toEqual(['task_v1_to_v2', 'task_v2_to_v2.1.0']);
    expect(validate('task', '2.1.0', up.value).errors).toEqual([]);
    expect(upgradeInMemory('task', up.value).steps).toEqual([]);
  });

  it('migrates files at an intermediate version from where they are', async () => {
    // The real 1→2 step followed by a hypothetical 2→3 step (3.0.0 has no schema file).
    const registry = new MigrationRegistry([...DEFAULT_REGISTRY.steps('task').filter((s) => s.from === '1.0.0'), hypothetical('2.0.0', '3.0.0', 'x-three')], {
      task: ['1.0.0', '2.0.0', '3.0.0'],
    });
    const root = repo();
    await migrateFiles({ root, from: '1.0.0', to: '2.0.0', backup: false, dir: 'tasks/ws-b' });
    const atTwo = read(root, 'ws-b/lint-all.json');
    const result = await migrateFiles({ root, from: '1.0.0', to: '3.0.0', registry, backup: false });
    expect(result.ok).toBe(true);
    expect(result.steps).toEqual(['task_v1_to_v2', 'task_v2.0.0_to_v3.0.0']);
    expect(result.files.map((f) => [f.file, f.from_version])).toEqual([
      ['tasks/ws-a/edit-parser.json', '1.0.0'],
      ['tasks/ws-a/test-parser.json', '1.0.0'],
      ['tasks/ws-b/lint-all.json', '2.0.0'],
    ]);
    const three = read(root, 'ws-b/lint-all.json');
    expect(JSON.parse(three)).toMatchObject({ schema_version: '3.0.0', 'x-three': true });
    expect(three.replace('"3.0.0"', '"2.0.0"').replace(',\n\t"x-three": true', '')).toBe(atTwo);
    const again = await migrateFiles({ root, from: '1.0.0', to: '3.0.0', registry, backup: false });
    expect(again.counts.migrated).toBe(0);
  });
});
