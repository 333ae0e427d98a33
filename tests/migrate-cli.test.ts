import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, PROJECT } from './migrate-build-helper.js';

const BIN = join(PROJECT, 'bin/orc-state.js');
const FIXTURE = join(import.meta.dirname, 'fixtures/migrate/v1/tasks');

function run(root: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'migrate', '--root', root, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function repo(): string {
  const root = mkdtempSync(join(tmpdir(), 'orc-migrate-cli-'));
  cpSync(FIXTURE, join(root, 'tasks'), { recursive: true });
  return root;
}

describe('orc-state migrate (CLI)', () => {
  beforeAll(() => ensureBuilt('dist/src/cli/commands/migrate.js', ['src/migrate', 'src/cli/commands', 'src/runner']));

  it('--dry-run prints unified diffs, writes nothing, exits 0', () => {
    const root = repo();
    const before = readFileSync(join(root, 'tasks/ws-a/edit-parser.json'));
    const r = run(root, '--from', '1.0.0', '--to', '2.0.0', '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--- a/tasks/ws-a/edit-parser.json');
    expect(r.stdout).toContain('+  "context_requirements": {');
    expect(r.stderr).toContain('3 file(s) would change');
    expect(readFileSync(join(root, 'tasks/ws-a/edit-parser.json'))).toEqual(before);
  });

  it('--json result, then rollback, with the documented exit codes', () => {
    const root = repo();
    const r = run(root, '--from', '1.0.0', '--to', '2.0.0', '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ ok: true, from: '1.0.0', to: '2.0.0', steps: ['task_v1_to_v2'], counts: { migrated: 3 } });
    // Lossy without --yes: usage error, nothing written.
    const lossy = run(root, '--from', '2.0.0', '--to', '1.0.0');
    expect(lossy.code).toBe(2);
    expect(lossy.stderr).toMatch(/removes data: context_requirements \(3 files\)/);
    const back = run(root, '--rollback');
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/restored 3 file\(s\)/);
    expect(readFileSync(join(root, 'tasks/ws-a/test-parser.json'))).toEqual(readFileSync(join(FIXTURE, 'ws-a/test-parser.json')));
  });

  it('an invalid input file: located error on stderr, exit 1', () => {
    const root = repo();
    const f = join(root, 'tasks/ws-b/lint-all.json');
    execFileSync('sed', ['-i', 's/"type": "lint"/"type": "linting"/', f]);
    const r = run(root, '--from', '1.0.0', '--to', '2.0.0');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tasks\/ws-b\/lint-all\.json:8:\d+: error not a valid 1\.0\.0 file: `type`/m);
    expect(r.stderr).toContain('nothing was written');
  });

  it('usage errors exit 2 and --list shows the registry', () => {
    const root = repo();
    expect(run(root, '--from', '1.0.0', '--to', '9.0.0').code).toBe(2);
    expect(run(root, '--from', 'one', '--to', '2.0.0').code).toBe(2);
    const list = run(root, '--list', '--json');
    expect(list.code).toBe(0);
    const kinds = JSON.parse(list.stdout).kinds as Array<{ kind: string; steps: Array<{ id: string }> }>;
    expect(kinds.find((k) => k.kind === 'task')?.steps.map((s) => s.id)).toEqual(['task_v1_to_v2', 'task_v2_to_v1']);
    expect(kinds.find((k) => k.kind === 'event')?.steps).toEqual([]);
  });
});
