/**
 * Human-readable report: one line per requirement (`PASS  ID  title`), each
 * finding as `  file:line:column  message` with `    fix: …`, repairs done
 * under --fix, and a summary line.
 *
 * Public API (stable): formatText(report, options?) → string.
 * Integration points: `orc-state validate --format text` (default); colours
 * come from the caller's Output.paint so NO_COLOR/non-TTY are honoured there.
 * Dependencies: ../types.js, ../runner.js (gate figures).
 */
import type { Finding } from '../../model.js';
import type { Report, RequirementStatus } from '../types.js';
import { countWarnings } from '../runner.js';

export type Paint = (style: 'red' | 'green' | 'yellow' | 'cyan' | 'dim' | 'bold', text: string) => string;

export interface TextOptions {
  paint?: Paint;
  /** Exit code the gate will return (shown in the summary). */
  exitCode?: number;
  /** Also list findings of severity notice on passing rules. */
  verbose?: boolean;
}

const STYLE: Record<RequirementStatus, Parameters<Paint>[0]> = {
  PASS: 'green',
  FAIL: 'red',
  WARN: 'yellow',
  SKIP: 'dim',
  ERROR: 'red',
  'N/A': 'dim',
};

export function formatText(report: Report, options: TextOptions = {}): string {
  const paint: Paint = options.paint ?? ((_s, t) => t);
  const idWidth = Math.max(0, ...report.requirements.map((r) => r.id.length));
  const lines: string[] = [];
  for (const r of report.requirements) {
    const head = `${paint(STYLE[r.status], r.status.padEnd(4))}  ${r.id.padEnd(idWidth)}  ${r.title}`;
    if (r.status === 'SKIP' && r.reason) lines.push(`${head} ${paint('dim', `(skipped: ${r.reason})`)}`);
    else if (r.status === 'N/A' && r.reason) lines.push(`${head} ${paint('dim', `(${r.reason})`)}`);
    else lines.push(head);
    if (r.not_in_profile) lines.push(`  ${paint('dim', `part N/A: ${r.not_in_profile}`)}`);
    if (r.status === 'ERROR' && r.reason) lines.push(`  ${paint('red', r.reason)}`);
    for (const f of r.findings) {
      if (f.severity === 'notice' && !options.verbose) continue;
      lines.push(...findingLines(f, paint));
    }
    for (const f of r.fixed ?? []) {
      lines.push(`  ${paint('cyan', 'fixed')} ${location(f)}  ${oneLine(f.message)}`);
    }
  }
  const s = report.summary;
  const warnings = countWarnings(report);
  const parts = [
    paint('green', `${s.pass} passed`),
    paint(s.fail ? 'red' : 'dim', `${s.fail} failed`),
    paint(s.warn ? 'yellow' : 'dim', `${s.warn} warned (${warnings} warning${warnings === 1 ? '' : 's'})`),
    paint('dim', `${s.skip} skipped`),
    ...(s.na ? [paint('dim', `${s.na} N/A (not in profile ${report.profile ?? 'runtime'})`)] : []),
    paint(s.error ? 'red' : 'dim', `${s.error} could not be evaluated`),
  ];
  const verdict = report.ok ? paint('green', 'gate passed') : paint('red', 'gate FAILED');
  const code = options.exitCode === undefined ? '' : ` (exit ${options.exitCode})`;
  lines.push('', `${report.requirements.length} requirements: ${parts.join(', ')}; ${verdict}${code}`);
  return `${lines.join('\n')}\n`;
}

function location(f: Finding): string {
  return `${f.file}:${f.line}:${f.column}`;
}

function oneLine(text: string): string {
  return text.replace(/\r?\n/g, ' ⏎ ');
}

function findingLines(f: Finding, paint: Paint): string[] {
  const tag = f.severity === 'error' ? '' : `${paint(f.severity === 'warning' ? 'yellow' : 'dim', f.severity)} `;
  const out = [`  ${paint('bold', location(f))}  ${tag}${oneLine(f.message)}`];
  if (f.fix) out.push(`    ${paint('dim', 'fix:')} ${oneLine(f.fix)}`);
  return out;
}
