/**
 * Gate profiles (src/compliance/profile.ts): in a repo that only uses the
 * engine, the document requirements are N/A (never PASS, never FAIL) in every
 * formatter; `--profile full` or the config's "profile" checks them; the
 * config's "module_index" decides where MOD-IDX-001 applies and in which style.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Ajv from 'ajv';
import addFormatsPkg from 'ajv-formats';
import { OrcError } from '../src/errors.js';
import { runCompliance } from '../src/compliance/runner.js';
import { loadGateConfig } from '../src/compliance/profile.js';
import { headerProblems } from '../src/compliance/rules/MOD-IDX-001.js';
import { formatReport, FORMATS } from '../src/compliance/formatters/index.js';
import { buildSarif } from '../src/compliance/formatters/sarif.js';
import type { Report } from '../src/compliance/types.js';
import { copyExampleRepo, PROJECT, removeDirs, withState } from './compliance-helpers.js';

const dirs: string[] = [];
afterAll(() => removeDirs(dirs));

const DOC_IDS = ['EXEC-DOC-001', 'EXEC-DOC-002', 'EXEC-DOC-003', 'EXEC-DOC-004', 'EXEC-DOC-005', 'EXEC-DOC-006', 'ERR-FM-001', 'ERR-FM-002', 'ERR-FM-003', 'COMPLIANCE-001', 'MOD-IDX-001'];
const PART_IDS = ['SM-DEF-001', 'SM-DEF-002', 'SM-DEF-003', 'AUDIT-002', 'SCHEMA-VER-002'];

/**
 * A user's repo: the guide's example task (with our schema_url and a capability
 * the registry names, so this test does not depend on how the loader treats
 * the guide's form), this project's capability registry, state from init + sync;
 * none of this project's documents, sources or config.
 */
async function userRepo(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'orc-profile-'));
  dirs.push(dir);
  cpSync(join(PROJECT, 'capabilities'), join(dir, 'capabilities'), { recursive: true });
  const task = JSON.parse(readFileSync(join(__dirname, 'fixtures/adopt/guide-task-001.json'), 'utf8')) as Record<string, unknown> & { worker_requirements: { capabilities: string[] } };
  task.worker_requirements.capabilities = ['aider.edit'];
  mkdirSync(join(dir, 'tasks/ws-001'), { recursive: true });
  writeFileSync(join(dir, 'tasks/ws-001/task-001.json'), `${JSON.stringify({ schema_version: '2.0.0', schema_url: 'https://orc-state.dev/schemas/task/2.0.0.json', ...task }, null, 2)}\n`);
  return withState(dir);
}

const byId = (r: Report, id: string) => r.requirements.find((x) => x.id === id)!;

describe('runtime profile (default in a user repo)', () => {
  it('reports every document requirement N/A with a reason, runs the rest, and passes', async () => {
    const dir = await userRepo();
    const report = await runCompliance({ root: dir, sections: [] });
    expect(report.profile).toBe('runtime');
    for (const id of DOC_IDS) {
      const r = byId(report, id);
      expect(r.status, id).toBe('N/A');
      expect(r.reason).toMatch(/not in profile runtime .*--profile full/);
      expect(r.findings).toEqual([]);
    }
    for (const id of PART_IDS) {
      const r = byId(report, id);
      expect(r.status, `${id}: ${r.findings.map((f) => f.message).join(' | ')}`).toBe('PASS');
      expect(r.not_in_profile).toMatch(/not in profile runtime/);
    }
    expect(report.summary.na).toBe(DOC_IDS.length);
    expect(report.summary.fail).toBe(0);
    expect(report.ok).toBe(true);
  });

  it('plain validate (tasks and registry sections) does not ask the user to document our migrations', async () => {
    const dir = await userRepo();
    const report = await runCompliance({ root: dir, sections: ['tasks', 'registry'] });
    expect(byId(report, 'SCHEMA-VER-002').status).toBe('PASS');
    expect(report.ok).toBe(true);
  });

  it('the runtime part of SCHEMA-VER-002 still names v1 task files and the migrate command', async () => {
    const dir = await userRepo();
    mkdirSync(join(dir, 'tasks/ws-a'), { recursive: true });
    cpSync(join(__dirname, 'fixtures/tasks/repo-bad/tasks/ws-a/a-v1.json'), join(dir, 'tasks/ws-a/a-v1.json'));
    const report = await runCompliance({ root: dir, requirements: ['SCHEMA-VER-002'], fix: false });
    const r = byId(report, 'SCHEMA-VER-002');
    expect(r.findings.filter((f) => f.file === 'tasks/ws-a/a-v1.json')).toEqual([
      expect.objectContaining({ severity: 'notice', line: 2, message: expect.stringContaining('1.0.0'), fix: expect.stringMatching(/orc-state migrate --from 1\.0\.0 --to 2\.\d+\.0/) }),
    ]);
  });
});

describe('full profile', () => {
  it('--profile full reports the missing documents (FAIL), config or flag', async () => {
    const dir = await userRepo();
    const report = await runCompliance({ root: dir, sections: [], profile: 'full' });
    expect(report.profile).toBe('full');
    for (const id of ['EXEC-DOC-001', 'ERR-FM-002', 'SM-DEF-001', 'AUDIT-002', 'SCHEMA-VER-002', 'COMPLIANCE-001']) expect(byId(report, id).status, id).toBe('FAIL');
    expect(byId(report, 'EXEC-DOC-001').findings.map((f) => f.file)).toContain('docs/execution_model/OVERVIEW.md');
    expect(byId(report, 'MOD-IDX-001').status).toBe('N/A'); // no module_index configured: nothing says which modules carry a header
    expect(byId(report, 'MOD-IDX-001').reason).toContain('module_index');
    expect(report.ok).toBe(false);

    writeFileSync(join(dir, 'orc-state.config.json'), '{ "profile": "full" }\n');
    const viaConfig = await runCompliance({ root: dir, sections: ['docs'] });
    expect(viaConfig.profile).toBe('full');
    expect(byId(viaConfig, 'EXEC-DOC-001').status).toBe('FAIL');
    // the flag wins over the config
    const back = await runCompliance({ root: dir, sections: ['docs'], profile: 'runtime' });
    expect(byId(back, 'EXEC-DOC-001').status).toBe('N/A');
    expect(byId(back, 'EXEC-DOC-001').reason).toContain('(--profile)');
  });

  it('this repository opts into full in its config', () => {
    expect(loadGateConfig(join(__dirname, '..')).profile).toBe('full');
  });
});

describe('N/A in every formatter', () => {
  it('text, json, sarif, junit and github show N/A with the reason, never PASS or FAIL', async () => {
    const dir = await userRepo();
    const report = await runCompliance({ root: dir, sections: ['docs', 'failure-modes', 'machines'] });
    const text = formatReport('text', report);
    expect(text).toMatch(/^N\/A\s+EXEC-DOC-001\s.*not in profile runtime/m);
    expect(text).not.toMatch(/^(PASS|FAIL)\s+EXEC-DOC-001/m);
    expect(text).toMatch(/^\s+part N\/A: the lifecycle document/m);
    expect(text).toMatch(/N\/A \(not in profile runtime\)/);
    const json = JSON.parse(formatReport('json', report)) as Report;
    expect(json.requirements.find((r) => r.id === 'ERR-FM-001')).toMatchObject({ status: 'N/A', reason: expect.stringContaining('not in profile') });
    const sarif = buildSarif(report) as { runs: Array<{ tool: { driver: { rules: Array<{ id: string; properties: Record<string, unknown> }> } }; results: Array<{ ruleId: string }>; invocations: Array<{ toolExecutionNotifications?: Array<{ level: string; message: { text: string }; descriptor: { id: string } }> }> }> };
    const run = sarif.runs[0]!;
    expect(run.tool.driver.rules.find((r) => r.id === 'EXEC-DOC-001')?.properties['orc-state/status']).toBe('N/A');
    expect(run.results.filter((r) => DOC_IDS.includes(r.ruleId))).toEqual([]);
    expect(run.invocations[0]!.toolExecutionNotifications).toEqual(expect.arrayContaining([expect.objectContaining({ level: 'note', descriptor: { id: 'EXEC-DOC-001' }, message: { text: expect.stringContaining('N/A') } })]));
    const AjvCtor = (Ajv as unknown as { default: typeof Ajv }).default ?? Ajv;
    const ajv = new AjvCtor({ strict: false, allErrors: true, unicodeRegExp: false });
    addFormatsPkg.default(ajv);
    const schema = JSON.parse(readFileSync(join(__dirname, 'fixtures/compliance/sarif/sarif-2.1.0-rtm.5.json'), 'utf8')) as Record<string, unknown>;
    schema.$id = schema.id; // draft-04 → draft-07, as in compliance-formatters.test.ts
    delete schema.id;
    delete schema.$schema;
    const validate = ajv.compile(schema);
    expect(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    const junit = formatReport('junit', report);
    expect(junit).toMatch(/name="EXEC-DOC-001: [^"]*"[^>]*>\s*<skipped message="N\/A: a document requirement/);
    const github = formatReport('github', report);
    expect(github).toMatch(/^::notice title=orc-state%3A \d+ requirement\(s\) N\/A in profile runtime::EXEC-DOC-001, /m);
    expect(github).not.toMatch(/^::error .*EXEC-DOC/m);
    for (const format of FORMATS) expect(formatReport(format, report).length, format).toBeGreaterThan(0);
  });
});

describe('gate config', () => {
  it('a bad profile or module_index is a located usage error', async () => {
    const dir = copyExampleRepo('orc-profile-cfg-');
    dirs.push(dir);
    writeFileSync(join(dir, 'orc-state.config.json'), '{\n  "max_parallelism": 2,\n  "profile": "everything"\n}\n');
    expect(() => loadGateConfig(dir)).toThrow(OrcError);
    try {
      loadGateConfig(dir);
    } catch (error) {
      expect((error as OrcError).code).toBe('USAGE');
      expect((error as OrcError).details.location).toEqual({ file: 'orc-state.config.json', line: 3, column: 14 });
      expect((error as OrcError).message).toContain('runtime, full');
    }
    writeFileSync(join(dir, 'orc-state.config.json'), '{ "module_index": { "include": ["src/**"], "style": "rst" } }\n');
    expect(() => loadGateConfig(dir)).toThrow(/module_index.style" must be one of jsdoc, block, line, hash, docstring/);
    writeFileSync(join(dir, 'orc-state.config.json'), '{ "module_index": { "style": "hash" } }\n');
    expect(() => loadGateConfig(dir)).toThrow(/needs "include"/);
    writeFileSync(join(dir, 'orc-state.config.json'), '{}\n');
    await expect(runCompliance({ root: dir, sections: [], profile: 'docs' })).rejects.toThrow(/unknown profile "docs"/);
  });
});

describe('MOD-IDX-001 where configured', () => {
  it('checks the configured globs in the configured style, with fixes that fit the repo', async () => {
    const dir = await userRepo();
    mkdirSync(join(dir, 'lib/pkg'), { recursive: true });
    mkdirSync(join(dir, 'lib/gen'), { recursive: true });
    const good = '#!/usr/bin/env python3\n# Loads tasks.\n# Public API (stable): load().\n# Integration points: cli.py.\n# Dependencies: json.\nimport json\n';
    writeFileSync(join(dir, 'lib/pkg/good.py'), good);
    writeFileSync(join(dir, 'lib/pkg/partial.py'), '# Public API (internal): x.\nimport os\n');
    writeFileSync(join(dir, 'lib/pkg/none.py'), '\nimport os\n');
    writeFileSync(join(dir, 'lib/gen/skip.py'), 'import os\n');
    writeFileSync(join(dir, 'lib/pkg/notes.txt'), 'not a module\n');
    writeFileSync(join(dir, 'orc-state.config.json'), JSON.stringify({ profile: 'full', module_index: { include: ['lib/**/*.py'], exclude: ['lib/gen/**'], style: 'hash' } }));
    const report = await runCompliance({ root: dir, requirements: ['MOD-IDX-001'] });
    const r = byId(report, 'MOD-IDX-001');
    expect(r.status).toBe('FAIL');
    expect(r.findings.map((f) => [f.file, f.line])).toEqual([
      ['lib/pkg/none.py', 2],
      ['lib/pkg/partial.py', 1],
    ]);
    for (const f of r.findings) {
      expect(f.fix).not.toContain('src/errors.ts');
      expect(f.fix).toContain('# ');
    }
    expect(r.findings[1]!.message).toContain('integration points');

    writeFileSync(join(dir, 'orc-state.config.json'), JSON.stringify({ profile: 'full', module_index: { include: ['lib/**/*.py'], exclude: ['lib/gen/**'], style: 'hash', example: 'lib/pkg/good.py' } }));
    const withExample = byId(await runCompliance({ root: dir, requirements: ['MOD-IDX-001'] }), 'MOD-IDX-001');
    expect(withExample.findings.every((f) => f.fix.includes('see lib/pkg/good.py'))).toBe(true);

    writeFileSync(join(dir, 'lib/pkg/none.py'), good);
    writeFileSync(join(dir, 'lib/pkg/partial.py'), good);
    expect(byId(await runCompliance({ root: dir, requirements: ['MOD-IDX-001'] }), 'MOD-IDX-001').status).toBe('PASS');
  });

  it('recognises each header style and refuses code before the header', () => {
    const body = 'Public API (stable): f. Integration points: cli. Dependencies: none.';
    expect(headerProblems(`// ${body}\nexport {};\n`, 'line')).toMatchObject({ hasHeader: true, missing: [] });
    expect(headerProblems(`/* ${body} */\n`, 'block')).toMatchObject({ hasHeader: true, missing: [] });
    expect(headerProblems(`/* ${body} */\n`, 'jsdoc').hasHeader).toBe(false);
    expect(headerProblems(`# coding: utf-8\n"""${body}"""\n`, 'docstring')).toMatchObject({ hasHeader: true, missing: [], line: 2 });
    expect(headerProblems(`import os\n"""${body}"""\n`, 'docstring').hasHeader).toBe(false);
    expect(headerProblems(`x = 1\n# ${body}\n`, 'hash').hasHeader).toBe(false);
    expect(headerProblems(`# Public API: f.\n`, 'hash').missing).toHaveLength(3);
  });
});
