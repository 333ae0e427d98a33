/**
 * `orc-state validate` as a process, and the drop-in scripts giving the same
 * verdicts (exit code and per-requirement statuses) as the CLI.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExampleRepo, PROJECT, removeDirs, withState } from './compliance-helpers.js';

const BIN = join(PROJECT, 'bin/orc-state.js');
const DROP = join(PROJECT, 'scripts/validate');
const dirs: string[] = [];
let clean = '';
let broken = '';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', CI: '1', ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const cli = (args: string[], env?: NodeJS.ProcessEnv) => run('node', [BIN, ...args], env);
/** `orc-state validate` run in-process (same main() the binary calls), stdout captured. */
async function cliInProcess(args: string[]): Promise<{ code: number; stdout: string }> {
  const { main } = await import('../src/cli/main.js');
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const saved = process.exitCode;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  try {
    process.exitCode = undefined;
    const code = await main(['node', 'orc-state', ...args]);
    return { code, stdout: chunks.join('') };
  } finally {
    process.stdout.write = write;
    process.exitCode = saved;
  }
}
const statuses = (json: string) => Object.fromEntries((JSON.parse(json) as { requirements: Array<{ id: string; status: string }> }).requirements.map((r) => [r.id, r.status]));

beforeAll(async () => {
  if (!existsSync(join(PROJECT, 'dist/src/cli/main.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: PROJECT, stdio: 'ignore' });
  clean = await withState(copyExampleRepo('orc-cli-clean-'));
  broken = await withState(copyExampleRepo('orc-cli-broken-'));
  dirs.push(clean, broken);
  for (const id of ['TASK-DEF-002', 'ERR-FM-001']) {
    const b = (await import(`./fixtures/compliance/breakers/${id}.ts`)) as { breakRepo(d: string): void };
    b.breakRepo(broken);
  }
});
afterAll(() => removeDirs(dirs));

describe('orc-state validate (process)', () => {
  it('a read-only gate run loads none of the writers (commit path, doctor, fixers, runner pool) and no YAML parser', () => {
    const log = join(mkdtempSync(join(tmpdir(), 'orc-modlog-')), 'modules.txt');
    dirs.push(join(log, '..'));
    const r = run('node', ['--import', join(PROJECT, 'tests/fixtures/compliance/module-log-hook.mjs'), BIN, 'validate', '--compliance', '--json', '--root', clean], { ORC_TEST_MODULE_LOG: log });
    expect(r.code, r.stderr).toBe(0);
    const loaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    expect(loaded.some((u) => u.endsWith('/compliance/rules/STATE-OBS-003.js'))).toBe(true); // the hook saw the rules
    const writers = ['/engine/commit.js', '/engine/doctor.js', '/engine/rotate.js', '/compliance/fix/index.js', '/runner/index.js', '/scheduler/loop.js', '/migrate/json-edit.js'];
    expect(loaded.filter((u) => writers.some((w) => u.endsWith(w)))).toEqual([]);
    // The runtime profile reads no YAML (machine definitions come from the cache): yaml is not even imported.
    expect(loaded.filter((u) => u.includes('/node_modules/yaml/'))).toEqual([]);
  });

  it('exit 1 with located findings in text; --json has the pinned shape', () => {
    const text = cli(['validate', '--section', 'failure-modes', '--root', broken]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^FAIL  ERR-FM-001 /m);
    expect(text.stdout).toMatch(/^ {2}docs\/failure_modes\/task-failed\.md:\d+:\d+ {2}the example event does not validate/m);
    expect(text.stdout).toMatch(/^ {4}fix: /m);
    expect(text.stdout).not.toContain('\u001b[');
    const json = cli(['validate', '--section', 'failure-modes', '--root', broken, '--json']);
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ schema_version: '1.0.0', ok: false, summary: { fail: 1 } });
    expect(doc.requirements.find((r: any) => r.id === 'ERR-FM-001').findings[0]).toMatchObject({ file: 'docs/failure_modes/task-failed.md', line: expect.any(Number), column: expect.any(Number), message: expect.any(String), fix: expect.any(String) });
  });

  it('exit 0 on a clean section; several formats at once, to files and stdout', () => {
    const out = mkdtempSync(join(tmpdir(), 'orc-cli-out-'));
    dirs.push(out);
    const summary = join(out, 'summary.md');
    writeFileSync(summary, '');
    const r = cli(['validate', '--section', 'failure-modes', '--root', clean, '--format', 'text', '--format', `sarif=${join(out, 'o.sarif')}`, '--format', `junit=${join(out, 'o.xml')}`, '--format', 'github'], { GITHUB_STEP_SUMMARY: summary });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('PASS  ERR-FM-001');
    expect(r.stdout).toContain('orc-state compliance: 3 passed');
    expect(JSON.parse(readFileSync(join(out, 'o.sarif'), 'utf8')).version).toBe('2.1.0');
    expect(readFileSync(join(out, 'o.xml'), 'utf8')).toContain('<testsuite name="failure-modes" tests="3" failures="0"');
    expect(readFileSync(summary, 'utf8')).toContain('## orc-state compliance: passed');
  });

  it('default selection is the tasks and registry sections', async () => {
    const r = await cliInProcess(['validate', '--root', clean, '--json']);
    const sections = new Set((JSON.parse(r.stdout).requirements as Array<{ section: string }>).map((x) => x.section));
    expect([...sections].sort()).toEqual(['registry', 'tasks']);
    expect(r.code).toBe(0);
  });

  it('usage errors and an unreadable root exit 2 without a stack trace', async () => {
    for (const args of [['validate', '--format', 'xml'], ['validate', '--requirement', 'NOPE-001'], ['validate', '--root', join(clean, 'missing')]]) {
      const r = cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    for (const args of [['validate', '--section', 'nope', '--root', clean], ['validate', '--max-warnings', 'x', '--root', clean]]) {
      expect((await cliInProcess(args)).code, args.join(' ')).toBe(2);
    }
  });

  it('--strict and --max-warnings turn warnings into a failing gate', async () => {
    const d = await withState(copyExampleRepo('orc-cli-warn-'));
    dirs.push(d);
    (await import('./fixtures/compliance/breakers/ERR-FM-003.ts')).breakRepo(d);
    expect((await cliInProcess(['validate', '--section', 'failure-modes', '--root', d])).code).toBe(0);
    expect((await cliInProcess(['validate', '--section', 'failure-modes', '--root', d, '--strict'])).code).toBe(1);
    expect((await cliInProcess(['validate', '--section', 'failure-modes', '--root', d, '--max-warnings', '0'])).code).toBe(1);
    expect((await cliInProcess(['validate', '--section', 'failure-modes', '--root', d, '--max-warnings', '1'])).code).toBe(0);
  });
});

describe('drop-in scripts give the same verdicts as the CLI', () => {
  const SCRIPTS: Array<[string, string[]]> = [
    ['validate_state_obs', ['--section', 'state']],
    ['validate_task_defs', ['--section', 'tasks']],
    ['validate_dag_structure', ['--section', 'dag']],
    ['validate_failure_modes', ['--section', 'failure-modes']],
    ['validate_compliance', ['--compliance']],
  ];
  for (const [script, flags] of SCRIPTS) {
    it(`${script} (-TasksDir/-StateDir/-JsonOutput) = orc-state validate ${flags.join(' ')}`, async () => {
      // Every script on the broken repo (tasks and failure-modes broken); one on the clean repo too.
      for (const repo of script === 'validate_task_defs' ? [clean, broken] : [broken]) {
        const drop = run(join(DROP, script), ['-TasksDir', join(repo, 'tasks'), '-StateDir:' + join(repo, '.state'), '-JsonOutput', '-SchemaVersion', '2.0.0']);
        const ref = await cliInProcess(['validate', ...flags, '--root', repo, '--json']);
        expect(drop.code, drop.stderr).toBe(ref.code);
        expect(statuses(drop.stdout)).toEqual(statuses(ref.stdout));
      }
    });
  }

  it('-RequirementFilter wildcards, case-insensitive names, and refused parameters', () => {
    const r = run(join(DROP, 'validate_failure_modes'), ['-tasksdir', join(broken, 'tasks'), '-RequirementFilter', 'ERR-FM-00[12]', '-jsonoutput']);
    expect(r.code).toBe(1);
    expect(Object.keys(statuses(r.stdout))).toEqual(['ERR-FM-001', 'ERR-FM-002']);
    expect(run(join(DROP, 'validate_task_defs'), ['-TasksDir', join(broken, 'docs')]).code).toBe(2);
    expect(run(join(DROP, 'validate_task_defs'), ['-SchemaVersion', '9.9.9', '-Root', clean]).code).toBe(2);
    expect(run(join(DROP, 'validate_task_defs'), ['-Bogus', 'x']).code).toBe(2);
  });
});

describe('drop-in parameter parsing', () => {
  it('accepts PowerShell forms: -Name value, -Name:value, switches, -Switch:$false, any case', async () => {
    const { parseParams } = (await import('../scripts/validate/drop-in.mjs')) as { parseParams(argv: string[]): Record<string, unknown> };
    expect(parseParams(['-tasksdir', 'repo/tasks', '-StateDir:repo/.state', '-JSONOUTPUT', '-VerboseOutput:$false', '-RequirementFilter', 'TASK-*'])).toEqual({
      TasksDir: 'repo/tasks',
      StateDir: 'repo/.state',
      JsonOutput: true,
      VerboseOutput: false,
      RequirementFilter: 'TASK-*',
    });
    expect(() => parseParams(['-TasksDir'])).toThrow(/needs a value/);
    expect(() => parseParams(['stray'])).toThrow(/unexpected argument/);
  });

  it('accepts every upstream name, the common parameters with their aliases, and unambiguous prefixes', async () => {
    const { parseParams } = (await import('../scripts/validate/drop-in.mjs')) as { parseParams(argv: string[]): Record<string, unknown> };
    expect(parseParams(['-StateDir', 's/.state', '-TasksDir', 's/tasks', '-DocsDir', 's/docs', '-SchemaVersion', '2.0.0', '-VerboseOutput'])).toEqual({
      StateDir: 's/.state',
      TasksDir: 's/tasks',
      DocsDir: 's/docs',
      SchemaVersion: '2.0.0',
      VerboseOutput: true,
    });
    expect(parseParams(['-Verbose', '-Debug:$false', '-ErrorAction', 'stop', '-wa', 'SilentlyContinue', '-OutVariable', 'r', '-ob', '4'])).toEqual({
      Verbose: true,
      Debug: false,
      ErrorAction: 'Stop',
      WarningAction: 'SilentlyContinue',
      OutVariable: 'r',
      OutBuffer: '4',
    });
    expect(parseParams(['-vb', '-sta:x/.state', '-TASKS', 'x/tasks', '-sch', '2.0.0', '-Req', 'TASK-*'])).toEqual({ Verbose: true, StateDir: 'x/.state', TasksDir: 'x/tasks', SchemaVersion: '2.0.0', RequirementFilter: 'TASK-*' });
    expect(() => parseParams(['-Verb'])).toThrow(/ambiguous; possible matches: -VerboseOutput -Verbose/);
    expect(() => parseParams(['-S', 'x'])).toThrow(/ambiguous/);
    expect(() => parseParams(['-ErrorAction', 'Sometimes'])).toThrow(/use one of Break/);
    expect(() => parseParams(['-Verbose:maybe'])).toThrow(/\$true or \$false/);
    expect(() => parseParams(['-TasksDir', 'a', '-tasksdir', 'b'])).toThrow(/more than once/);
  });
});

describe('drop-ins with upstream parameters', () => {
  it('-DocsDir, -Verbose and prefixes run the same validation as the CLI', async () => {
    const drop = run(join(DROP, 'validate_compliance'), ['-StateDir', join(clean, '.state'), '-TasksDir', join(clean, 'tasks'), '-DocsDir', join(clean, 'docs'), '-SchemaVersion', '2.0.0', '-VerboseOutput', '-Verbose', '-ErrorAction', 'Stop', '-Json']);
    const ref = await cliInProcess(['validate', '--compliance', '--root', clean, '--json']);
    expect(drop.code, drop.stderr).toBe(ref.code);
    expect(statuses(drop.stdout)).toEqual(statuses(ref.stdout));
    expect(run(join(DROP, 'validate_compliance'), ['-DocsDir', join(clean, 'tasks')]).code).toBe(2);
    expect(run(join(DROP, 'validate_compliance'), ['-TasksDir', join(clean, 'tasks'), '-DocsDir', join(broken, 'docs')]).stderr).toContain('not in the same repository');
  });
});
