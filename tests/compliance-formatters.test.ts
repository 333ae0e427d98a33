import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import Ajv from 'ajv';
import addFormatsPkg from 'ajv-formats';
import type { Report, RequirementResult } from '../src/compliance/types.js';
import { buildSarif, formatSarif, SARIF_MAX_RESULTS } from '../src/compliance/formatters/sarif.js';
import { formatJunit, stripInvalidXml } from '../src/compliance/formatters/junit.js';
import { escapeData, escapeProperty, formatGithub, formatGithubSummary } from '../src/compliance/formatters/github.js';
import { formatText } from '../src/compliance/formatters/text.js';
import { formatJson } from '../src/compliance/formatters/json.js';
import { formatReport, parseFormatSpec } from '../src/compliance/formatters/index.js';
import type { Finding } from '../src/model.js';

const addFormats = addFormatsPkg.default;
const AjvCtor = (Ajv as unknown as { default: typeof Ajv }).default ?? Ajv;

function finding(over: Partial<Finding> = {}): Finding {
  return {
    requirement: 'TASK-DEF-002',
    severity: 'error',
    file: 'tasks/ws-a/t-1.json',
    line: 5,
    column: 24,
    message: 'type must be one of aider, pytest',
    fix: 'set "type": "aider"',
    ...over,
  };
}

function result(over: Partial<RequirementResult>): RequirementResult {
  return { id: 'TASK-DEF-002', level: 'MUST', section: 'tasks', title: 'Task files validate', status: 'PASS', findings: [], duration_ms: 1.5, ...over };
}

const HOSTILE = 'bad: 100%, a,b\r\nnext line & <tag attr="x"> \'q\' \u0001\u0008 end';

function sampleReport(): Report {
  const requirements: RequirementResult[] = [
    result({ id: 'TASK-DEF-001', title: 'One task per file', status: 'PASS' }),
    result({ status: 'FAIL', findings: [finding(), finding({ file: 'tasks/ws b/t 2.json', line: 1, column: 1, endLine: 1, endColumn: 9, message: HOSTILE, fix: HOSTILE })] }),
    result({ id: 'ERR-FM-003', level: 'SHOULD', section: 'failure-modes', title: 'Decision trees', status: 'WARN', findings: [finding({ requirement: 'ERR-FM-003', file: 'docs/failure_modes/task-failed.md', severity: 'warning', message: 'no decision tree' })] }),
    result({ id: 'DAG-VIEW-001', section: 'dag', title: 'DAG files', status: 'SKIP', reason: 'no workstreams' }),
    result({ id: 'OBS-001', section: 'metrics', title: 'metrics', status: 'ERROR', reason: 'could not evaluate: boom & <bang>' }),
  ];
  return { schema_version: '1.0.0', ok: false, root: '/repo', summary: { pass: 1, fail: 1, warn: 1, skip: 1, error: 1 }, requirements };
}

function sarifValidator() {
  const schema = JSON.parse(readFileSync(join(__dirname, 'fixtures/compliance/sarif/sarif-2.1.0-rtm.5.json'), 'utf8')) as Record<string, unknown>;
  // draft-04 → draft-07: only the root `id` differs for this schema (see the fixture README).
  schema.$id = schema.id;
  delete schema.id;
  delete schema.$schema;
  const ajv = new AjvCtor({ allErrors: true, strict: false, unicodeRegExp: false }) // the schema's `language` pattern is not valid with the u flag;
  addFormats(ajv);
  return ajv.compile(schema);
}

describe('SARIF', () => {
  const validate = sarifValidator();

  it('validates against the official SARIF 2.1.0 schema', () => {
    const doc = JSON.parse(formatSarif(sampleReport()));
    const ok = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check can fail (sanity): a bad level is rejected', () => {
    const doc = buildSarif(sampleReport()) as { runs: Array<{ results: Array<Record<string, unknown>> }> };
    doc.runs[0]!.results[0]!.level = 'fatal';
    expect(validate(doc)).toBe(false);
  });

  it('has rules, explicit levels, repo-relative URIs and 1-based regions', () => {
    const doc = buildSarif(sampleReport()) as any;
    const run = doc.runs[0];
    expect(doc.version).toBe('2.1.0');
    expect(run.tool.driver.name).toBe('orc-state');
    expect(run.tool.driver.rules.map((r: any) => r.id)).toEqual(['TASK-DEF-001', 'TASK-DEF-002', 'ERR-FM-003', 'DAG-VIEW-001', 'OBS-001']);
    for (const r of run.tool.driver.rules) {
      expect(r.shortDescription.text).toBeTruthy();
      expect(r.fullDescription.text).toBeTruthy();
      expect(r.help.text).toBeTruthy();
    }
    expect(run.results).toHaveLength(3);
    expect(run.results.map((r: any) => r.level)).toEqual(['error', 'error', 'warning']);
    const loc = run.results[1].locations[0].physicalLocation;
    expect(loc.artifactLocation.uri).toBe('tasks/ws%20b/t%202.json');
    expect(loc.region).toEqual({ startLine: 1, startColumn: 1, endLine: 1, endColumn: 9 });
    expect(run.results[0].locations[0].physicalLocation.region).toEqual({ startLine: 5, startColumn: 24 });
    expect(run.invocations[0].executionSuccessful).toBe(false);
    expect(run.invocations[0].toolExecutionNotifications[0].message.text).toContain('OBS-001');
  });

  it(`caps results at ${SARIF_MAX_RESULTS} and says so`, () => {
    const many = Array.from({ length: SARIF_MAX_RESULTS + 7 }, (_, i) => finding({ line: i + 1 }));
    const report = sampleReport();
    report.requirements[1] = result({ status: 'FAIL', findings: many });
    const doc = buildSarif(report) as any;
    expect(doc.runs[0].results).toHaveLength(SARIF_MAX_RESULTS);
    const notes = doc.runs[0].invocations[0].toolExecutionNotifications.map((n: any) => n.message.text).join('\n');
    expect(notes).toContain(`8 of ${SARIF_MAX_RESULTS + 8}`);
    expect(validate(doc)).toBe(true);
  });
});

/** A strict XML 1.0 well-formedness check for the subset we emit (elements, attributes, text, entity refs). */
function parseXml(xml: string): { name: string; attrs: Record<string, string>; children: any[]; text: string } {
  if (/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(xml)) throw new Error('forbidden XML character');
  let i = 0;
  const decl = /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/.exec(xml);
  if (!decl) throw new Error('missing XML declaration');
  i = decl[0].length;
  const decode = (s: string) => {
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(s)) throw new Error(`bad entity in ${JSON.stringify(s)}`);
    if (/</.test(s)) throw new Error(`raw < in ${JSON.stringify(s)}`);
    return s
      .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
      .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
  };
  const ws = () => { while (/\s/.test(xml[i] ?? '')) i++; };
  const element = (): any => {
    const open = /^<([A-Za-z_][\w.-]*)/.exec(xml.slice(i));
    if (!open) throw new Error(`expected element at ${i}`);
    i += open[0].length;
    const node = { name: open[1]!, attrs: {} as Record<string, string>, children: [] as any[], text: '' };
    for (;;) {
      ws();
      if (xml.startsWith('/>', i)) { i += 2; return node; }
      if (xml[i] === '>') { i++; break; }
      const a = /^([A-Za-z_][\w.-]*)="([^"]*)"/.exec(xml.slice(i));
      if (!a) throw new Error(`bad attribute at ${i}: ${xml.slice(i, i + 30)}`);
      if (a[1]! in node.attrs) throw new Error(`duplicate attribute ${a[1]}`);
      node.attrs[a[1]!] = decode(a[2]!);
      i += a[0].length;
    }
    for (;;) {
      const lt = xml.indexOf('<', i);
      if (lt < 0) throw new Error(`unclosed <${node.name}>`);
      node.text += decode(xml.slice(i, lt));
      i = lt;
      if (xml.startsWith(`</${node.name}>`, i)) { i += node.name.length + 3; return node; }
      if (xml.startsWith('</', i)) throw new Error(`mismatched close at ${i}`);
      node.children.push(element());
    }
  };
  const root = element();
  ws();
  if (i !== xml.length) throw new Error('content after the root element');
  return root;
}

describe('JUnit XML', () => {
  it('is well-formed XML with a suite per section and a case per requirement', () => {
    const xml = formatJunit(sampleReport());
    const root = parseXml(xml);
    expect(root.name).toBe('testsuites');
    expect(root.attrs).toMatchObject({ tests: '5', failures: '1', errors: '1', skipped: '1' });
    const suites = root.children;
    expect(suites.map((s: any) => s.attrs.name)).toEqual(['tasks', 'failure-modes', 'dag', 'metrics']);
    const cases = suites.flatMap((s: any) => s.children);
    const keys = cases.map((c: any) => `${c.attrs.classname}|${c.attrs.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    const fail = cases.find((c: any) => c.attrs.name.startsWith('TASK-DEF-002'));
    expect(fail.children[0].name).toBe('failure');
    expect(fail.children[0].text).toContain('tasks/ws-a/t-1.json:5:24');
    // Hostile text survives escaping (minus the characters XML 1.0 forbids).
    expect(fail.children[0].text).toContain('bad: 100%, a,b\r\nnext line & <tag attr="x"> \'q\'  end');
    expect(cases.find((c: any) => c.attrs.name.startsWith('OBS-001')).children[0].name).toBe('error');
    expect(cases.find((c: any) => c.attrs.name.startsWith('DAG-VIEW-001')).children[0].name).toBe('skipped');
    const warn = cases.find((c: any) => c.attrs.name.startsWith('ERR-FM-003'));
    expect(warn.children[0].name).toBe('system-out');
    expect(fail.attrs.time).toBe('0.002');
  });

  it('treats WARN as failure under strict', () => {
    const root = parseXml(formatJunit(sampleReport(), { strict: true }));
    expect(root.attrs.failures).toBe('2');
  });

  it('the well-formedness check can fail (sanity)', () => {
    expect(() => parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<a>x & y</a>')).toThrow();
    expect(() => parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<a b="1" b="2"/>')).toThrow();
    expect(() => parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<a>\u0001</a>')).toThrow();
  });

  it('strips characters XML 1.0 forbids, including lone surrogates', () => {
    expect(stripInvalidXml('a\u0000b\u000Bc\uFFFEd\uD800e😀')).toBe('abcde😀');
  });
});

describe('GitHub annotations', () => {
  it('escapes data and properties as the runner expects', () => {
    expect(escapeData('100% done\r\nnext')).toBe('100%25 done%0D%0Anext');
    expect(escapeProperty('a:b,c%d\ne')).toBe('a%3Ab%2Cc%25d%0Ae');
    // `%` first: an already-escaped-looking sequence is not left ambiguous.
    expect(escapeData('%0A')).toBe('%250A');
  });

  it('emits one command per line with hostile content escaped', () => {
    const out = formatGithub(sampleReport());
    const lines = out.trimEnd().split('\n');
    const hostile = lines.find((l) => l.includes('ws b'))!;
    expect(hostile).toBe(
      `::error file=tasks/ws b/t 2.json,line=1,col=1,endLine=1,endColumn=9,title=TASK-DEF-002 Task files validate::${escapeData(`${HOSTILE}\nfix: ${HOSTILE}`)}`,
    );
    expect(hostile).not.toMatch(/[\r]/);
    expect(lines.some((l) => l.startsWith('::warning file=docs/failure_modes/task-failed.md,line=5,col=24,title=ERR-FM-003 Decision trees::'))).toBe(true);
    expect(lines.some((l) => l.startsWith('::error title=OBS-001 could not be evaluated::'))).toBe(true);
  });

  it('escapes `:` and `,` inside property values (file names, titles)', () => {
    const report = sampleReport();
    report.requirements = [result({ status: 'FAIL', title: 'a: b, c', findings: [finding({ file: 'tasks/a,b/c:d.json' })] })];
    const line = formatGithub(report).split('\n')[0]!;
    expect(line).toContain('file=tasks/a%2Cb/c%3Ad.json,');
    expect(line).toContain('title=TASK-DEF-002 a%3A b%2C c::');
  });

  it('caps at 10 errors and 10 warnings and says how many were left out', () => {
    const report = sampleReport();
    report.requirements = [
      result({ status: 'FAIL', findings: Array.from({ length: 13 }, (_, i) => finding({ line: i + 1 })) }),
      result({ id: 'ERR-FM-003', level: 'SHOULD', status: 'WARN', findings: Array.from({ length: 12 }, (_, i) => finding({ line: i + 1 })) }),
    ];
    const lines = formatGithub(report).trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('::error ')).length).toBe(10);
    expect(lines.filter((l) => l.startsWith('::warning ')).length).toBe(10);
    const notice = lines.find((l) => l.startsWith('::notice '))!;
    expect(notice).toContain('3 more error(s) and 2 more warning(s)');
    const summary = formatGithubSummary(report);
    expect(summary.split('\n').filter((l) => l.startsWith('| TASK-DEF-002 | `')).length).toBe(13);
    expect(summary.split('\n').filter((l) => l.startsWith('| ERR-FM-003 | `')).length).toBe(12);
  });

  it('the summary escapes table pipes and newlines', () => {
    const report = sampleReport();
    report.requirements = [result({ status: 'FAIL', findings: [finding({ message: 'a | b\nc' })] })];
    expect(formatGithubSummary(report)).toContain('a \\| b<br>c');
  });
});

describe('text and json', () => {
  it('prints a line per requirement, findings with location and fix, and a summary', () => {
    const text = formatText(sampleReport(), { exitCode: 2 });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^PASS  TASK-DEF-001 +One task per file$/);
    expect(lines[1]).toMatch(/^FAIL  TASK-DEF-002 +Task files validate$/);
    expect(lines[2]).toBe('  tasks/ws-a/t-1.json:5:24  type must be one of aider, pytest');
    expect(lines[3]).toBe('    fix: set "type": "aider"');
    expect(text).toContain('SKIP  DAG-VIEW-001');
    expect(text).toContain('(skipped: no workstreams)');
    expect(text).toContain('ERROR  OBS-001');
    expect(text).toContain('could not evaluate: boom');
    expect(text).toMatch(/5 requirements: 1 passed, 1 failed, 1 warned \(1 warning\), 1 skipped, 1 could not be evaluated; gate FAILED \(exit 2\)\n$/);
    expect(text).not.toContain('\u001b[');
  });

  it('uses the caller\'s paint for colour', () => {
    const text = formatText(sampleReport(), { paint: (s, t) => `<${s}>${t}</${s}>` });
    expect(text).toContain('<red>FAIL</red>');
    expect(text).toContain('<green>PASS</green>');
  });

  it('json keeps the pinned shape', () => {
    const doc = JSON.parse(formatJson(sampleReport()));
    expect(Object.keys(doc)).toEqual(expect.arrayContaining(['schema_version', 'ok', 'summary', 'requirements']));
    expect(doc.summary).toMatchObject({ pass: 1, fail: 1, warn: 1 });
    expect(doc.requirements[1]).toMatchObject({ id: 'TASK-DEF-002', level: 'MUST', status: 'FAIL' });
    expect(doc.requirements[1].findings[0]).toMatchObject({ file: 'tasks/ws-a/t-1.json', line: 5, column: 24, message: expect.any(String), fix: expect.any(String) });
  });

  it('parses format specs and refuses unknown ones', () => {
    expect(parseFormatSpec('sarif=out/x.sarif')).toEqual({ format: 'sarif', file: 'out/x.sarif' });
    expect(parseFormatSpec('JSON')).toEqual({ format: 'json' });
    expect(() => parseFormatSpec('xml')).toThrow(/unknown format/);
    expect(() => parseFormatSpec('sarif=')).toThrow(/empty/);
    expect(formatReport('junit', sampleReport())).toContain('<testsuites');
  });
});
