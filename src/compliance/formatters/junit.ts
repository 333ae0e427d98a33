/**
 * JUnit XML: a testsuite per section, a testcase per requirement (unique
 * classname+name), `failure` for a violated requirement, `error` for one that
 * could not be evaluated, `skipped` with the reason (a requirement outside the
 * gate profile is `skipped` with message "N/A: …", never a pass); WARN is a failure only
 * under strict (otherwise the warnings go to system-out). Text is escaped
 * (`& < > " '`) and characters XML 1.0 forbids are stripped.
 *
 * Public API (stable): formatJunit(report, options?) → string, xmlEscape(text), stripInvalidXml(text).
 * Integration points: `orc-state validate --format junit=FILE`.
 * Dependencies: ../types.js.
 */
import type { Finding } from '../../model.js';
import type { Report, RequirementResult } from '../types.js';

const INVALID_XML = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function stripInvalidXml(text: string): string {
  return text.replace(INVALID_XML, '');
}

export function xmlEscape(text: string, attribute = false): string {
  let out = stripInvalidXml(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
  if (attribute) out = out.replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
  return out;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function findingText(f: Finding): string {
  return `${f.file}:${f.line}:${f.column} [${f.severity}] ${f.message}${f.fix ? `\n  fix: ${f.fix}` : ''}`;
}

function testcase(r: RequirementResult, strict: boolean): string {
  const attrs = `classname="${xmlEscape(`orc-state.${r.section}`, true)}" name="${xmlEscape(`${r.id}: ${r.title}`, true)}" time="${seconds(r.duration_ms)}"`;
  const body: string[] = [];
  const details = r.findings.map(findingText).join('\n');
  const count = r.findings.filter((f) => f.severity !== 'notice').length;
  switch (r.status) {
    case 'FAIL':
      body.push(`      <failure message="${xmlEscape(`${r.id} violated: ${count} finding${count === 1 ? '' : 's'}`, true)}" type="FAIL">${xmlEscape(details)}</failure>`);
      break;
    case 'WARN':
      if (strict) body.push(`      <failure message="${xmlEscape(`${r.id} warned (strict): ${count} finding${count === 1 ? '' : 's'}`, true)}" type="WARN">${xmlEscape(details)}</failure>`);
      else body.push(`      <system-out>${xmlEscape(`WARN ${r.id}\n${details}`)}</system-out>`);
      break;
    case 'ERROR':
      body.push(`      <error message="${xmlEscape(r.reason ?? 'could not evaluate', true)}" type="ERROR">${xmlEscape(r.reason ?? '')}</error>`);
      break;
    case 'SKIP':
      body.push(`      <skipped message="${xmlEscape(r.reason ?? 'nothing to inspect', true)}"/>`);
      break;
    case 'N/A':
      body.push(`      <skipped message="${xmlEscape(`N/A: ${r.reason ?? 'not in the gate profile'}`, true)}"/>`);
      break;
    case 'PASS':
      break;
  }
  if (r.not_in_profile) body.push(`      <system-out>${xmlEscape(`part N/A: ${r.not_in_profile}`)}</system-out>`);
  if (r.fixed?.length) body.push(`      <system-err>${xmlEscape(`fixed:\n${r.fixed.map(findingText).join('\n')}`)}</system-err>`);
  return body.length ? `    <testcase ${attrs}>\n${body.join('\n')}\n    </testcase>` : `    <testcase ${attrs}/>`;
}

export function formatJunit(report: Report, options: { strict?: boolean } = {}): string {
  const strict = Boolean(options.strict);
  const bySection = new Map<string, RequirementResult[]>();
  for (const r of report.requirements) bySection.set(r.section, [...(bySection.get(r.section) ?? []), r]);
  const totals = { tests: 0, failures: 0, errors: 0, skipped: 0, ms: 0 };
  const suites: string[] = [];
  for (const [section, list] of bySection) {
    const failures = list.filter((r) => r.status === 'FAIL' || (strict && r.status === 'WARN')).length;
    const errors = list.filter((r) => r.status === 'ERROR').length;
    const skipped = list.filter((r) => r.status === 'SKIP' || r.status === 'N/A').length;
    const ms = list.reduce((a, r) => a + r.duration_ms, 0);
    totals.tests += list.length;
    totals.failures += failures;
    totals.errors += errors;
    totals.skipped += skipped;
    totals.ms += ms;
    suites.push(
      `  <testsuite name="${xmlEscape(section, true)}" tests="${list.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(ms)}">\n${list
        .map((r) => testcase(r, strict))
        .join('\n')}\n  </testsuite>`,
    );
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="orc-state compliance" tests="${totals.tests}" failures="${totals.failures}" errors="${totals.errors}" skipped="${totals.skipped}" time="${seconds(totals.ms)}">\n${suites.join('\n')}${suites.length ? '\n' : ''}</testsuites>\n`;
}
