import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const tmp = mkdtempSync(join(tmpdir(), 'orc-tasks-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeAll(() => {
  if (!existsSync('dist/src/cli/main.js')) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'ignore' });
});

function copyExample(name: string): string {
  const root = join(tmp, name);
  for (const dir of ['tasks', 'capabilities', 'docs', 'specifications', 'schemas']) cpSync(dir, join(root, dir), { recursive: true });
  return root;
}

function validate(root: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/orc-state.js', 'validate', '--root', root, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('orc-state validate on task files', () => {
  it('--format json on a repo with one broken field reports exactly that field', () => {
    const root = copyExample('one-broken-field');
    const file = join(root, 'tasks/release-0-2/rel-changelog.json');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"timeout_seconds": 600,', '"timeout_seconds": "600",'));
    const r = validate(root, '--requirement', 'TASK-DEF-001,TASK-DEF-002,CAP-REG-001,CAP-REG-002,CONC-REG-001', '--format', 'json');
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout) as { ok: boolean; requirements: Array<{ id: string; status: string; findings: Array<Record<string, unknown>> }> };
    expect(report.ok).toBe(false);
    const failed = report.requirements.filter((q) => q.status !== 'PASS');
    expect(failed.map((q) => q.id)).toEqual(['TASK-DEF-002']);
    expect(failed[0]!.findings).toEqual([
      {
        requirement: 'TASK-DEF-002',
        severity: 'error',
        file: 'tasks/release-0-2/rel-changelog.json',
        line: 27,
        column: 24,
        message: '`execution.timeout_seconds` must be an integer, got "600" (a string)',
        fix: 'write the number without quotes: 600',
      },
    ]);
  });

  it('bad input never prints a stack trace', () => {
    const root = copyExample('garbage');
    writeFileSync(join(root, 'tasks/api-hardening/ah-lint-final.json'), Buffer.from([0xff, 0xfe, 0x7b, 0x00]));
    writeFileSync(join(root, 'tasks/api-hardening/ah-audit-exports.json'), '{"__proto__": {"x": 1}, "a": 1, "a": 2,}');
    writeFileSync(join(root, 'capabilities/registry.psd1'), '@{ Capabilities = @( $(Get-ChildItem) ) }');
    const r = validate(root, '--section', 'tasks', '--section', 'registry');
    expect(r.status).toBe(1);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)|TypeError|RangeError/);
    expect(r.stdout).toMatch(/tasks\/api-hardening\/ah-lint-final\.json:1:1/);
    expect(r.stdout).toMatch(/capabilities\/registry\.psd1:1:22/);
  });
});
