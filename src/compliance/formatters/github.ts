/**
 * GitHub Actions workflow commands (`::error file=F,line=L,col=C,title=T::MESSAGE`).
 * Data is escaped `%` first, then CR and LF; properties also `:` and `,`.
 * GitHub shows only 10 error and 10 warning annotations per step, so at most
 * that many are emitted (plus one notice saying how many were left out); the
 * full list is the markdown summary, which the CLI appends to
 * $GITHUB_STEP_SUMMARY when that is set.
 *
 * Public API (stable): formatGithub(report) → string, formatGithubSummary(report) → string,
 * escapeData(text), escapeProperty(text), GITHUB_ANNOTATION_CAP.
 * Integration points: `orc-state validate --format github` in .github/workflows/compliance.yml.
 * Dependencies: ../types.js.
 */
import type { Finding } from '../../model.js';
import type { Report, RequirementResult } from '../types.js';

export const GITHUB_ANNOTATION_CAP = 10;

export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

type Kind = 'error' | 'warning' | 'notice';

function kindOf(r: RequirementResult, f: Finding): Kind {
  if (f.severity === 'notice') return 'notice';
  if (f.severity === 'warning') return 'warning';
  return r.level === 'MUST' ? 'error' : 'warning';
}

function command(kind: Kind, props: Record<string, string | number | undefined>, message: string): string {
  const p = Object.entries(props)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',');
  return `::${kind}${p ? ` ${p}` : ''}::${escapeData(message)}`;
}

export function formatGithub(report: Report): string {
  const shown = { error: 0, warning: 0, notice: 0 };
  const omitted = { error: 0, warning: 0, notice: 0 };
  const lines: string[] = [];
  const emit = (kind: Kind, line: string) => {
    if (shown[kind] >= GITHUB_ANNOTATION_CAP) {
      omitted[kind]++;
      return;
    }
    shown[kind]++;
    lines.push(line);
  };
  for (const r of report.requirements) {
    if (r.status === 'ERROR') {
      emit('error', command('error', { title: `${r.id} could not be evaluated` }, r.reason ?? 'could not evaluate'));
      continue;
    }
    if (r.status !== 'FAIL' && r.status !== 'WARN') continue;
    for (const f of r.findings) {
      const kind = kindOf(r, f);
      if (kind === 'notice') continue;
      emit(
        kind,
        command(
          kind,
          {
            file: f.file,
            line: f.line,
            col: f.column,
            endLine: f.endLine,
            endColumn: f.endColumn,
            title: `${r.id} ${r.title}`,
          },
          f.fix ? `${f.message}\nfix: ${f.fix}` : f.message,
        ),
      );
    }
  }
  const na = report.requirements.filter((r) => r.status === 'N/A');
  if (na.length > 0) {
    lines.push(command('notice', { title: `orc-state: ${na.length} requirement(s) N/A in profile ${report.profile ?? 'runtime'}` }, `${na.map((r) => r.id).join(', ')}: ${na[0]?.reason ?? 'not in the gate profile'}`));
  }
  if (omitted.error + omitted.warning > 0) {
    lines.push(
      command(
        'notice',
        { title: 'orc-state: more findings' },
        `${omitted.error} more error(s) and ${omitted.warning} more warning(s) are not annotated (GitHub shows ${GITHUB_ANNOTATION_CAP} of each per step); the job summary lists all of them.`,
      ),
    );
  }
  const s = report.summary;
  lines.push(`orc-state compliance: ${s.pass} passed, ${s.fail} failed, ${s.warn} warned, ${s.skip} skipped, ${s.error} could not be evaluated, ${s.na ?? 0} not in profile${report.profile ? ` ${report.profile}` : ''}`);
  return `${lines.join('\n')}\n`;
}

function md(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/** Every requirement and every finding, as GitHub-flavoured markdown for the job summary. */
export function formatGithubSummary(report: Report): string {
  const s = report.summary;
  const out = [
    `## orc-state compliance: ${report.ok ? 'passed' : 'FAILED'}`,
    '',
    `${s.pass} passed, ${s.fail} failed, ${s.warn} warned, ${s.skip} skipped, ${s.error} could not be evaluated, ${s.na ?? 0} not in profile${report.profile ? ` ${report.profile}` : ''}.`,
    '',
    '| Status | Requirement | Title | Findings |',
    '|---|---|---|---|',
    ...report.requirements.map((r) => `| ${r.status} | ${r.id} | ${md(r.title)} | ${r.status === 'SKIP' || r.status === 'ERROR' || r.status === 'N/A' ? md(r.reason ?? '') : `${r.findings.length}${r.not_in_profile ? ` (part N/A: ${md(r.not_in_profile)})` : ''}`} |`),
  ];
  const located = report.requirements.flatMap((r) => r.findings.filter((f) => f.severity !== 'notice').map((f) => ({ r, f })));
  if (located.length) {
    out.push('', '### Findings', '', '| Requirement | Location | Message | Fix |', '|---|---|---|---|');
    for (const { r, f } of located) out.push(`| ${r.id} | \`${md(`${f.file}:${f.line}:${f.column}`)}\` | ${md(f.message)} | ${md(f.fix)} |`);
  }
  return `${out.join('\n')}\n`;
}
