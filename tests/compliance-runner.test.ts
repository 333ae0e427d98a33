import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { OrcError } from '../src/errors.js';
import { countWarnings, gateExitCode, runCompliance, statusFor } from '../src/compliance/runner.js';
import { createContext } from '../src/compliance/context.js';
import { compareIds, discoverRules, listRuleFiles, rulesDir } from '../src/compliance/discover.js';
import { REQUIREMENTS } from '../src/compliance/requirements.js';
import type { Report } from '../src/compliance/types.js';

const RULES = join(__dirname, 'fixtures/compliance/rules-basic');
const root = mkdtempSync(join(tmpdir(), 'orc-runner-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const g = globalThis as { __fixtureLoads?: number };
beforeEach(() => {
  g.__fixtureLoads = 0;
});

const run = (opts: Partial<Parameters<typeof runCompliance>[0]> = {}) => runCompliance({ root, rulesDir: RULES, ...opts });
const byId = (r: Report, id: string) => r.requirements.find((x) => x.id === id)!;

describe('discovery', () => {
  it('lists rule modules and reports malformed ones instead of crashing', async () => {
    const { rules, problems } = await discoverRules(RULES);
    expect(rules.map((r) => r.rule.id)).toEqual(['TASK-DEF-001', 'TASK-DEF-002', 'DAG-VIEW-001', 'CAP-REG-002', 'ERR-FM-001', 'ERR-FM-003', 'SM-DEF-003', 'OBS-001'].sort((a, b) => compareIds(a, b)));
    expect(problems.map((p) => [p.id, p.message])).toEqual(
      expect.arrayContaining([
        ['OBS-003', expect.stringContaining('does not match its file name OBS-002')],
        ['CAP-REG-001', expect.stringContaining('level SHOULD differs from the catalog')],
      ]),
    );
  });

  it('a selection imports only the rule files whose catalog entry it accepts (and every file that is no catalog id)', async () => {
    const seen: Array<[string, string]> = [];
    const { rules } = await discoverRules(rulesDir(), (id, section) => {
      seen.push([id, section]);
      return section === 'tasks';
    });
    expect(rules.map((r) => r.rule.id).sort()).toEqual(REQUIREMENTS.filter((r) => r.section === 'tasks').map((r) => r.id).sort());
    expect(seen.length).toBe(listRuleFiles(rulesDir()).length);
    // the catalog section is what the rule declares, so selecting by it before importing loses no rule
    const all = await discoverRules();
    for (const { rule } of all.rules) expect(REQUIREMENTS.find((r) => r.id === rule.id)?.section, rule.id).toBe(rule.section);
  });

  it('the project rule directory holds only catalog ids, each once', async () => {
    const files = listRuleFiles(rulesDir());
    expect(files.length).toBeGreaterThan(0);
    const { rules, problems } = await discoverRules();
    expect(problems).toEqual([]);
    const ids = rules.map((r) => r.rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(REQUIREMENTS.some((r) => r.id === id)).toBe(true);
  });
});

describe('statuses and gate', () => {
  it('MUST error → FAIL with normalised locations; PASS; shared loads happen once', async () => {
    const report = await run({ requirements: ['TASK-DEF-001', 'TASK-DEF-002'] });
    expect(report.requirements.map((r) => [r.id, r.status])).toEqual([
      ['TASK-DEF-001', 'PASS'],
      ['TASK-DEF-002', 'FAIL'],
    ]);
    expect(byId(report, 'TASK-DEF-002').findings[0]).toMatchObject({ file: 'tasks/ws/t1.json', line: 1, column: 3, message: 'bad t1' });
    expect(g.__fixtureLoads).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.summary).toEqual({ pass: 1, fail: 1, warn: 0, skip: 0, error: 0, na: 0 });
    expect(gateExitCode(report)).toBe(1);
  });

  it('SHOULD error and MUST warning → WARN; strict and max-warnings decide', async () => {
    const report = await run({ sections: ['failure-modes'] });
    expect(report.requirements.map((r) => [r.id, r.status])).toEqual([
      ['ERR-FM-001', 'WARN'],
      ['ERR-FM-003', 'WARN'],
    ]);
    expect(report.ok).toBe(true);
    expect(countWarnings(report)).toBe(2);
    expect(gateExitCode(report)).toBe(0);
    expect(gateExitCode(report, { strict: true })).toBe(1);
    expect(gateExitCode(report, { maxWarnings: 1 })).toBe(1);
    expect(gateExitCode(report, { maxWarnings: 2 })).toBe(0);
    expect((await run({ sections: ['failure-modes'], strict: true })).ok).toBe(false);
  });

  it('SKIP is reported with its reason and never counts as pass', async () => {
    const report = await run({ requirements: ['DAG-VIEW-001'] });
    expect(byId(report, 'DAG-VIEW-001')).toMatchObject({ status: 'SKIP', reason: 'no workstreams' });
    expect(report.summary.pass).toBe(0);
    expect(report.summary.skip).toBe(1);
    expect(gateExitCode(report)).toBe(0);
  });

  it('a throwing rule is ERROR "could not evaluate" (exit 2), without a stack trace', async () => {
    const report = await run({ requirements: ['OBS-001'] });
    const r = byId(report, 'OBS-001');
    expect(r.status).toBe('ERROR');
    expect(r.reason).toBe('could not evaluate: boom');
    expect(gateExitCode(report)).toBe(2);
  });

  it('a malformed outcome or module is ERROR too', async () => {
    const report = await run({ sections: ['registry', 'metrics'] });
    expect(byId(report, 'CAP-REG-002')).toMatchObject({ status: 'ERROR', reason: expect.stringContaining('neither findings nor a skip') });
    expect(byId(report, 'CAP-REG-001')).toMatchObject({ status: 'ERROR', reason: expect.stringContaining('differs from the catalog') });
    expect(byId(report, 'OBS-003')).toMatchObject({ status: 'ERROR', reason: expect.stringContaining('OBS-002') });
    expect(gateExitCode(report)).toBe(2);
  });

  it('notices do not change status; under fix they are reported as repairs', async () => {
    const plain = await run({ requirements: ['SM-DEF-003'] });
    expect(byId(plain, 'SM-DEF-003')).toMatchObject({ status: 'PASS' });
    expect(byId(plain, 'SM-DEF-003').findings).toHaveLength(1);
    const fixed = await run({ requirements: ['SM-DEF-003'], fix: true });
    expect(byId(fixed, 'SM-DEF-003').findings).toEqual([]);
    expect(byId(fixed, 'SM-DEF-003').fixed?.[0]?.message).toBe('fixed: regenerated');
  });

  it('statusFor follows the level rules', () => {
    const f = (severity: 'error' | 'warning' | 'notice') => ({ requirement: 'X', severity, file: 'f', line: 1, column: 1, message: 'm', fix: '' });
    expect(statusFor('MUST', [])).toBe('PASS');
    expect(statusFor('MUST', [f('notice')])).toBe('PASS');
    expect(statusFor('MUST', [f('warning')])).toBe('WARN');
    expect(statusFor('MUST', [f('error')])).toBe('FAIL');
    expect(statusFor('SHOULD', [f('error')])).toBe('WARN');
  });
});

describe('selection and usage errors', () => {
  it('sections and requirement ids filter (ids case-insensitive, comma lists)', async () => {
    const report = await run({ requirements: ['task-def-001,DAG-VIEW-001'] });
    expect(report.requirements.map((r) => r.id)).toEqual(['TASK-DEF-001', 'DAG-VIEW-001']);
    const both = await run({ sections: ['tasks'], requirements: ['TASK-DEF-002'] });
    expect(both.requirements.map((r) => r.id)).toEqual(['TASK-DEF-002']);
  });

  it('refuses unknown sections, unknown ids, unimplemented ids, empty selections', async () => {
    await expect(run({ sections: ['nope'] })).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('unknown section') });
    await expect(run({ requirements: ['FOO-001'] })).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('unknown requirement id') });
    await expect(run({ requirements: ['AUDIT-001'] })).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('no rule implements AUDIT-001') });
    await expect(run({ sections: ['audit'] })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(run({ sections: ['dag'], requirements: ['TASK-DEF-001'] })).rejects.toBeInstanceOf(OrcError);
  });

  it('an unreadable root is UNREADABLE_INPUT (exit 2)', async () => {
    await expect(runCompliance({ root: join(root, 'missing'), rulesDir: RULES })).rejects.toMatchObject({ code: 'UNREADABLE_INPUT' });
  });
});

describe('RuleContext.once', () => {
  it('memoises values and failures per key', () => {
    const ctx = createContext('/r');
    let n = 0;
    expect(ctx.once('a', () => ++n)).toBe(1);
    expect(ctx.once('a', () => ++n)).toBe(1);
    expect(() => ctx.once('b', () => { n++; throw new Error('x'); })).toThrow('x');
    expect(() => ctx.once('b', () => { n++; return 0; })).toThrow('x');
    expect(n).toBe(2);
    expect(ctx.keys()).toEqual(['a', 'b']);
    ctx.invalidate('a');
    expect(ctx.once('a', () => 42)).toBe(42);
  });
});
