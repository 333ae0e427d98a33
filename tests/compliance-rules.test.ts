import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCompliance } from '../src/compliance/runner.js';
import { scanMarkdown, findHeading, normaliseHeading, mentions } from '../src/compliance/markdown.js';
import { headerProblems } from '../src/compliance/rules/MOD-IDX-001.js';
import { checkSchemaPair, expectedKindFor } from '../src/compliance/rules/SCHEMA-VER-001.js';
import { specMentions } from '../src/compliance/rules/COMPLIANCE-001.js';
import { catalogEntries } from '../src/compliance/failure-modes.js';
import type { Report } from '../src/compliance/types.js';
import { copyExampleRepo, removeDirs } from './compliance-helpers.js';

const dirs: string[] = [];
afterAll(() => removeDirs(dirs));
let dir = '';
beforeAll(() => {
  dir = copyExampleRepo('orc-rules-');
  dirs.push(dir);
});

/** A fresh copy per test that edits files. */
function repo(): string {
  const d = copyExampleRepo('orc-rules-');
  dirs.push(d);
  return d;
}
const edit = (d: string, rel: string, fn: (t: string) => string) => writeFileSync(join(d, rel), fn(readFileSync(join(d, rel), 'utf8')));
const one = async (root: string, id: string) => (await runCompliance({ root, requirements: [id] })).requirements[0]!;
const lineOf = (d: string, rel: string, re: RegExp) => readFileSync(join(d, rel), 'utf8').split('\n').findIndex((l) => re.test(l)) + 1;

describe('markdown scanning', () => {
  it('ignores headings inside fenced code and counts prose words', () => {
    const scan = scanMarkdown('# T\n\n```md\n## Not a heading\n```\n\n## Real one ##\nsome words here\n~~~\n## nor this\n~~~\n');
    expect(scan.headings.map((h) => [h.level, h.text, h.line])).toEqual([
      [1, 'T', 1],
      [2, 'Real one', 7],
    ]);
    expect(scan.code.map((c) => [c.lang, c.line])).toEqual([
      ['md', 3],
      ['', 9],
    ]);
    expect(scan.proseWords).toBe(3);
  });

  it('matches topics case-insensitively as whole words, ignoring numbering and markup', () => {
    const scan = scanMarkdown('## 2. Data `Flow`\n## Checkpoints & Rollback\n## Dataflows\n');
    expect(findHeading(scan, 'Data Flow', 2)?.line).toBe(1);
    expect(findHeading(scan, 'Checkpoints and Rollback', 2)?.line).toBe(2);
    expect(normaliseHeading('3.1 Priority!')).toBe('priority');
    expect(findHeading(scanMarkdown('## Dataflows\n'), 'Data Flow', 2)).toBeUndefined();
    expect(mentions('use `task_timeout` here', 'task_timeout')).toBe(true);
    expect(mentions('use task_timeouts here', 'task_timeout')).toBe(false);
  });
});

describe('EXEC-DOC', () => {
  it('the shipped documents pass', async () => {
    const report = await runCompliance({ root: dir, requirements: ['EXEC-DOC-001', 'EXEC-DOC-002', 'EXEC-DOC-003', 'EXEC-DOC-004', 'EXEC-DOC-005', 'EXEC-DOC-006'] });
    expect(report.requirements.map((r) => [r.id, r.status])).toEqual([
      ['EXEC-DOC-001', 'PASS'],
      ['EXEC-DOC-002', 'PASS'],
      ['EXEC-DOC-003', 'PASS'],
      ['EXEC-DOC-004', 'PASS'],
      ['EXEC-DOC-005', 'PASS'],
      ['EXEC-DOC-006', 'PASS'],
    ]);
  });

  it('a missing document fails EXEC-DOC-001 and its topic rule skips with the reason', async () => {
    const d = repo();
    rmSync(join(d, 'docs/execution_model/WORKERS.md'));
    const report = await runCompliance({ root: d, requirements: ['EXEC-DOC-001', 'EXEC-DOC-005'] });
    expect(report.requirements[0]).toMatchObject({ status: 'FAIL', findings: [expect.objectContaining({ file: 'docs/execution_model/WORKERS.md', line: 1, message: expect.stringContaining('does not exist') })] });
    expect(report.requirements[1]).toMatchObject({ status: 'SKIP', reason: expect.stringContaining('EXEC-DOC-001') });
  });

  it('STATE_MACHINE.md must name every state and trigger of the machines, reported at its section', async () => {
    const d = repo();
    const rel = 'docs/execution_model/STATE_MACHINE.md';
    edit(d, rel, (t) => t.replace(/\bunresponsive\b/g, 'not answering').replace(/\bscheduler_assigned\b/g, 'assigned'));
    const r = await one(d, 'EXEC-DOC-003');
    expect(r.status).toBe('FAIL');
    const states = lineOf(d, rel, /^## States/);
    const triggers = lineOf(d, rel, /^## Triggers/);
    expect(r.findings.map((f) => [f.line, f.message])).toEqual([
      [triggers, expect.stringContaining('task machine\'s trigger "scheduler_assigned"')],
      [states, expect.stringContaining('worker machine\'s state "unresponsive"')],
    ]);
  });

  it('a topic at any heading level counts (content, not form); an empty section does not', async () => {
    const d = repo();
    const rel = 'docs/execution_model/OVERVIEW.md';
    edit(d, rel, (t) => t.replace(/^(## Components\n)[\s\S]*?(?=^## )/m, '$1\n'));
    edit(d, rel, (t) => t.replace(/^## Performance\s*$/m, '### Performance'));
    const r = await one(d, 'EXEC-DOC-002');
    expect(r.status).toBe('FAIL');
    expect(r.findings.map((f) => [f.line, f.message])).toEqual([[lineOf(d, rel, /^## Components/), 'section "## Components" is empty']]);
  });

  it('the upstream form: a level-3 "Components" heading, topics as table rows; still fails on a bad one', async () => {
    const d = repo();
    const rel = 'docs/execution_model/OVERVIEW.md';
    edit(d, rel, (t) => t.replace(/^## Components\s*$/m, '### Components'));
    expect((await one(d, 'EXEC-DOC-002')).status).toBe('PASS');
    // Performance as a table row with a description instead of a heading
    edit(d, rel, (t) => t.replace(/^## Performance\s*$/m, '## Numbers').concat('\n| Topic | Notes |\n|---|---|\n| Performance | 10k tasks validate in under a second |\n'));
    expect((await one(d, 'EXEC-DOC-002')).status).toBe('PASS');
    // a row with an empty description, or the word only in prose or a longer cell, is no topic
    edit(d, rel, (t) => t.replace('| Performance | 10k tasks validate in under a second |', '| Performance |  |'));
    const empty = await one(d, 'EXEC-DOC-002');
    expect(empty.findings.map((f) => f.message)).toEqual([expect.stringContaining('table row with nothing in its other cells')]);
    edit(d, rel, (t) => t.replace('| Performance |  |', '| performance budget | fast |'));
    expect((await one(d, 'EXEC-DOC-002')).findings.map((f) => f.message)).toEqual([expect.stringContaining('no section on "Performance"')]);
    // the document title does not stand in for a topic
    const sched = 'docs/execution_model/SCHEDULING.md';
    edit(d, sched, (t) => t.replace(/^## Scheduling\b.*$/m, '## Queueing').replace(/^# .*$/m, '# Scheduling'));
    expect((await one(d, 'EXEC-DOC-004')).findings.map((f) => f.message)).toEqual(expect.arrayContaining([expect.stringContaining('no section on "Scheduling"')]));
  });
});

describe('ERR-FM', () => {
  it('a malformed example event is located in the Markdown file', async () => {
    const d = repo();
    const rel = 'docs/failure_modes/task-timeout.md';
    edit(d, rel, (t) => t.replace('"seq": 4188,', '"seq": 4188,,'));
    const r = await one(d, 'ERR-FM-001');
    expect(r.status).toBe('FAIL');
    const line = lineOf(d, rel, /"seq": 4188,,/);
    expect(r.findings).toEqual([expect.objectContaining({ file: rel, line, column: 15, message: expect.stringContaining('not valid JSON') })]);
  });

  it('schema errors of the example point at the offending value', async () => {
    const d = repo();
    const rel = 'docs/failure_modes/task-timeout.md';
    edit(d, rel, (t) => t.replace('"entity_type": "task",', '"entity_type": "job",'));
    const r = await one(d, 'ERR-FM-001');
    const line = lineOf(d, rel, /"entity_type": "job"/);
    expect(r.findings.some((f) => f.line === line && f.column === 18 && /entity_type/.test(f.message))).toBe(true);
  });

  it('a catalog link to a missing file is reported at the link', async () => {
    const d = repo();
    rmSync(join(d, 'docs/failure_modes/state-corruption.md'));
    const r = await one(d, 'ERR-FM-002');
    const line = lineOf(d, 'docs/failure_modes/CATALOG.md', /\(state-corruption\.md\)/);
    expect(r.status).toBe('FAIL');
    expect(r.findings).toEqual([expect.objectContaining({ file: 'docs/failure_modes/CATALOG.md', line, column: 3, message: expect.stringContaining('does not exist') })]);
  });

  it('parses catalog table links and headings, not links in prose', () => {
    const scan = scanMarkdown('# Catalog\n\nIntro [X](x.md)\n\n| a | b |\n|---|---|\n| [Task-Failed](task-failed.md) | y |\n| [Ext](https://e.x/a.md) | z |\n\n### 1. Task Timeout\n\ntext\n\n## [Worker-Unresponsive](worker-unresponsive.md)\n');
    const entries = catalogEntries({ exists: true, file: 'docs/failure_modes/CATALOG.md', text: '', scan, bytes: 0 });
    expect(entries).toEqual([
      { name: 'Task-Failed', target: 'task-failed.md', file: 'docs/failure_modes/task-failed.md', line: 7, column: 3, kind: 'row' },
      { name: 'Ext', target: 'https://e.x/a.md', line: 8, column: 3, kind: 'row' },
      { name: '1. Task Timeout', target: '', line: 10, column: 1, kind: 'heading' },
      { name: 'Worker-Unresponsive', target: 'worker-unresponsive.md', file: 'docs/failure_modes/worker-unresponsive.md', line: 14, column: 1, kind: 'heading' },
    ]);
  });

  it('ERR-FM-002 accepts modes listed as headings (the upstream form) and still fails on a missing mode or file', async () => {
    const d = repo();
    const rel = 'docs/failure_modes/CATALOG.md';
    const modes = ['Task-Timeout', 'Task-Failed', 'Worker-Unresponsive', 'Resource-Exhaustion', 'Validation-Failed', 'Dependency-Cycle', 'Context-Overflow', 'State-Corruption'];
    const asHeadings = (list: string[]) => `# Failure Mode Catalog\n\n${list.map((m, i) => `### ${i + 1}. ${m.replace('-', ' ')}\n\nDetected by the engine; see the mode's file.\n`).join('\n')}`;
    writeFileSync(join(d, rel), asHeadings(modes));
    expect((await one(d, 'ERR-FM-002')).status).toBe('PASS');
    writeFileSync(join(d, rel), asHeadings(modes.filter((m) => m !== 'Context-Overflow')));
    const missing = await one(d, 'ERR-FM-002');
    expect(missing.findings.map((f) => f.message)).toEqual(['failure mode Context-Overflow is not listed in the catalog (as a table row or a heading)']);
    writeFileSync(join(d, rel), asHeadings(modes));
    rmSync(join(d, 'docs/failure_modes/state-corruption.md'));
    const noFile = await one(d, 'ERR-FM-002');
    expect(noFile.findings).toEqual([expect.objectContaining({ line: lineOf(d, rel, /State Corruption/), message: expect.stringContaining('docs/failure_modes/state-corruption.md does not exist') })]);
  });

  it('a decision tree that covers no escalation is a warning (SHOULD)', async () => {
    const d = repo();
    const rel = 'docs/failure_modes/task-timeout.md';
    edit(d, rel, (t) => t.replace(/escalat\w*/gi, 'go on'));
    const r = await one(d, 'ERR-FM-003');
    expect(r.status).toBe('WARN');
    expect(r.findings).toEqual([expect.objectContaining({ file: rel, severity: 'warning', line: lineOf(d, rel, /^## Decision Tree/), message: expect.stringContaining('escalation') })]);
  });
});

describe('MOD-IDX-001', () => {
  it('recognises complete, partial and missing headers', () => {
    const full = '/**\n * X.\n * Public API (stable): f.\n * Integration points: cli.\n * Dependencies: none.\n */\nexport {};\n';
    expect(headerProblems(full)).toEqual({ line: 1, column: 1, hasHeader: true, missing: [] });
    expect(headerProblems(`#!/usr/bin/env node\n\n${full}`).line).toBe(3);
    expect(headerProblems('/**\n * Public API: f.\n */').missing).toEqual([
      'the stability of its exports (stable, experimental or internal)',
      'its integration points',
      'its dependencies',
    ]);
    expect(headerProblems('import x from "y";\n/** Public API (stable) Integration points Dependencies */').hasHeader).toBe(false);
    expect(headerProblems('// Public API (stable) Integration points Dependencies\n').hasHeader).toBe(false);
  });

  it('reports each module without a header at its first line', async () => {
    const d = repo();
    writeFileSync(join(d, 'src/extra.ts'), '\n\nexport const x = 1;\n');
    const r = await one(d, 'MOD-IDX-001');
    expect(r.findings.filter((f) => f.file === 'src/extra.ts')).toEqual([expect.objectContaining({ line: 3, column: 1, message: expect.stringContaining('does not open with a doc comment') })]);
  });
});

describe('SCHEMA-VER-001', () => {
  const at = () => ({ line: 2, column: 3 });
  it('checks presence, semver, URL shape, kind and agreement', () => {
    const ok = { schema_version: '2.0.0', schema_url: 'https://orc-state.dev/schemas/snapshot/2.0.0.json' };
    expect(checkSchemaPair('f', ok, 'snapshot', at)).toEqual([]);
    const msgs = (v: Record<string, unknown>, kind?: string, opts = {}) => checkSchemaPair('f', v, kind, at, opts).map((f) => f.message);
    expect(msgs({}, 'snapshot')).toEqual(['the file has no schema_version', 'the file has no schema_url']);
    expect(msgs({ ...ok, schema_version: '2.0' }, 'snapshot')[0]).toContain('not a semantic version');
    expect(msgs({ ...ok, schema_url: 'http://x/y' }, 'snapshot')[0]).toContain('not an orc-state schema id');
    expect(msgs({ ...ok, schema_url: 'https://orc-state.dev/schemas/task/2.0.0.json' }, 'snapshot')[0]).toContain('names the "task" schema');
    expect(msgs({ ...ok, schema_url: 'https://orc-state.dev/schemas/snapshot/7.0.0.json' }, 'snapshot')[0]).toContain('does not know');
    expect(msgs({ schema_version: '1.0.0', schema_url: 'https://orc-state.dev/schemas/task/2.0.0.json' }, 'task')[0]).toContain('schema_version is 1.0.0');
    expect(msgs({ schema_version: '2.0.0' }, 'event', { urlOptional: true })).toEqual([]);
    expect(msgs({ schema_version: '3.1.0' }, 'event', { urlOptional: true })[0]).toContain('not a known event schema version');
    expect(expectedKindFor('execution_plan_ws.json')).toBe('execution-plan');
    expect(expectedKindFor('by_status.json')).toBe('index');
  });

  it('an event without a valid schema_version is located at its log line', async () => {
    const d = repo();
    const engine = await import('../src/engine/init.js');
    const commit = await import('../src/engine/commit.js');
    await engine.initStore(d);
    await commit.syncDefinitions(d);
    const log = join(d, '.state/transitions.jsonl');
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    const ev = JSON.parse(lines[2]!);
    ev.schema_version = 'two';
    lines[2] = JSON.stringify(ev);
    writeFileSync(log, `${lines.join('\n')}\n`);
    const r = await one(d, 'SCHEMA-VER-001');
    expect(r.findings).toEqual([expect.objectContaining({ file: '.state/transitions.jsonl', line: 3, message: expect.stringContaining('"two" is not a semantic version') })]);
  });
});

describe('COMPLIANCE-001', () => {
  it('reads ids and ranges from the spec', () => {
    const ids = specMentions('EXEC-DOC-002..006 and STATE-OBS-001; OBS-001–002; XSTATE-OBS-009');
    expect([...ids].sort()).toEqual(['EXEC-DOC-002', 'EXEC-DOC-003', 'EXEC-DOC-004', 'EXEC-DOC-005', 'EXEC-DOC-006', 'OBS-001', 'OBS-002', 'STATE-OBS-001', 'XSTATE-OBS-009'].sort());
    expect(specMentions('STATE-OBS-002').has('OBS-002')).toBe(false);
  });

  it('reports a requirement the spec never names', async () => {
    const d = repo();
    edit(d, 'specifications/content/orchestration/spec.md', (t) => t.replace(/(?<![A-Za-z0-9-])OBS-002(?![0-9])/g, 'the exposition requirement'));
    const report: Report = await runCompliance({ root: d, requirements: ['COMPLIANCE-001'] });
    const specFindings = report.requirements[0]!.findings.filter((f) => f.file === 'specifications/content/orchestration/spec.md');
    expect(specFindings.map((f) => f.message)).toEqual([expect.stringContaining('never names requirement OBS-002')]);
  });
});

describe('document rules judge content, not form (and still fail on a bad document)', () => {
  const demote = (t: string) => t.replace(/^## /gm, '### ');
  it('SCHEMA-VER-002: sections at any heading level; a missing one still fails', async () => {
    const d = repo();
    const rel = 'docs/schema_migrations/task_v1_to_v2.md';
    edit(d, rel, demote);
    expect((await one(d, 'SCHEMA-VER-002')).status).toBe('PASS');
    edit(d, rel, (t) => t.replace(/^### Compatibility Window\s*$/m, '### Support'));
    expect((await one(d, 'SCHEMA-VER-002')).findings.map((f) => f.message)).toEqual([expect.stringContaining('no "Compatibility Window" section')]);
  });

  it('AUDIT-002: a rotation heading at any level counts, the title alone does not', async () => {
    const d = repo();
    const rel = 'docs/operations/AUDIT_RETENTION.md';
    edit(d, rel, (t) => t.replace(/^## Rotation policy\s*$/m, '#### Rotation policy'));
    expect((await one(d, 'AUDIT-002')).status).toBe('PASS');
    edit(d, rel, (t) => t.replace(/^#### Rotation policy\s*$/m, '## Sealing the log'));
    const r = await one(d, 'AUDIT-002');
    expect(r.findings.map((f) => f.message)).toEqual([expect.stringContaining('no section on the rotation policy')]);
  });

  it('ERR-FM-001/003: mode sections at any heading level; a missing one still fails', async () => {
    const d = repo();
    const rel = 'docs/failure_modes/task-timeout.md';
    edit(d, rel, demote);
    expect((await one(d, 'ERR-FM-001')).status).toBe('PASS');
    expect((await one(d, 'ERR-FM-003')).status).toBe('PASS');
    edit(d, rel, (t) => t.replace(/^### Impact\s*$/m, '### Consequences'));
    expect((await one(d, 'ERR-FM-001')).findings.map((f) => f.message)).toEqual([expect.stringContaining('no section on "Impact"')]);
  });
});
