/**
 * The compliance runner: selects rules (all, by section, by requirement id),
 * runs each against one shared RuleContext, turns outcomes into
 * PASS/FAIL/WARN/SKIP/ERROR and computes the gate's exit code.
 *
 * Public API (stable): runCompliance(options) → Report, gateExitCode(report,
 * gate), statusFor(level, findings), countWarnings(report), RunOptions, GateOptions.
 * Integration points: `orc-state validate` (src/cli/commands/validate.ts),
 * scripts/validate/ drop-ins (through the CLI), the per-requirement fixture
 * harness (tests/compliance-fixtures.test.ts) and bench/compliance.ts call
 * runCompliance in-process. Under `fix`, the generic fixers in ./fix/ run
 * first and their repairs are reported in `fixed` of TASK-DEF-002 and
 * SCHEMA-VER-001; then the rules run with ctx.fix = true.
 * Profiles (./profile.js): a rule declaring `documents: true` is N/A outside
 * the `full` profile (never run, never PASS or FAIL); one declaring a
 * document part runs with ctx.profile and its result names the part left out.
 * Before the first rule, each selected rule's `prepare` registers its shared
 * loads (its visitor of the one pass over the event log, src/engine/event-pass.ts).
 * Status rules: SKIP never counts as pass; a rule that throws is ERROR (exit 2,
 * "could not evaluate"), never a stack trace; MUST + error findings → FAIL;
 * SHOULD + findings → WARN; warning findings only → WARN; notices never change status.
 * Dependencies: ./discover.js, ./context.js, ./profile.js, ./requirements.js, ./fix/index.js,
 * ./types.js, ../errors.js, ../model.js, node:fs.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { OrcError, EXIT } from '../errors.js';
import type { Finding, Level } from '../model.js';
import { createContext } from './context.js';
import { discoverRules, listRuleFiles, rulesDir as defaultRulesDir, type DiscoveredRule, type RuleLoadProblem } from './discover.js';
import { REQUIREMENTS, requirementInfo } from './requirements.js';
import { notInProfileReason, resolveProfile, type GateConfig } from './profile.js';
import {
  REPORT_SCHEMA_VERSION,
  SECTIONS,
  type Report,
  type RequirementResult,
  type RequirementStatus,
  type Rule,
  type RuleOutcome,
  type Section,
} from './types.js';

export interface GateOptions {
  /** WARN fails the gate too. */
  strict?: boolean;
  /** More warning findings than this fails the gate. */
  maxWarnings?: number;
}

export interface RunOptions extends GateOptions {
  root: string;
  /** Only rules of these sections (intersected with `requirements` when both are given). */
  sections?: readonly string[];
  /** Only these requirement ids. */
  requirements?: readonly string[];
  /** Let rules (and the generic fixers) repair what is safe. */
  fix?: boolean;
  /** Where to discover rules (tests); default src|dist/compliance/rules. */
  rulesDir?: string;
  /** The gate profile (runtime | full); default: orc-state.config.json's "profile", else runtime. */
  profile?: string;
  /** Called before each rule runs (progress line). */
  onProgress?: (index: number, total: number, id: string) => void;
}

export async function runCompliance(options: RunOptions): Promise<Report> {
  const root = resolve(options.root);
  assertReadableRoot(root);
  const gate = resolveProfile(root, options.profile);
  const sections = normaliseSections(options.sections);
  const wanted = normaliseIds(options.requirements);
  // Only the selected rules' modules are imported (by the catalog id their file is named after).
  const discovered = await discoverRules(options.rulesDir ?? defaultRulesDir(), sections || wanted ? (id, section) => selects(id, section, sections, wanted) : undefined);

  const selected = discovered.rules.filter((d) => selects(d.rule.id, d.rule.section, sections, wanted));
  const problems = discovered.problems.filter((p) => {
    const base = p.file.replace(/\.[a-z]+$/, '');
    const section = requirementInfo(p.id)?.section ?? requirementInfo(base)?.section;
    return selects(p.id, section, sections, wanted) || selects(base, section, sections, wanted);
  });
  if (wanted) {
    const have = new Set([...selected.map((d) => d.rule.id), ...problems.flatMap((p) => [p.id, p.file.replace(/\.[a-z]+$/, '')])]);
    const missing = [...wanted].filter((id) => !have.has(id));
    if (missing.length > 0) {
      // Rule files left unimported by the selection still implement their id.
      const implemented = new Set([...discovered.rules.map((d) => d.rule.id), ...listRuleFiles(options.rulesDir ?? defaultRulesDir()).map((f) => f.replace(/\.[a-z]+$/, ''))]);
      const unimplemented = missing.filter((id) => requirementInfo(id) && !implemented.has(id));
      const unknown = missing.filter((id) => !requirementInfo(id));
      if (unknown.length > 0) {
        throw new OrcError('USAGE', `unknown requirement id${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, {
          fix: `use ids from the catalog, e.g. ${REQUIREMENTS.slice(0, 3).map((r) => r.id).join(', ')} (see specifications/content/orchestration/spec.md)`,
        });
      }
      if (unimplemented.length > 0) {
        throw new OrcError('USAGE', `no rule implements ${unimplemented.join(', ')} yet`, {
          fix: `add src/compliance/rules/<ID>.ts for each, or drop them from --requirement`,
        });
      }
      throw new OrcError('USAGE', `${missing.join(', ')} not in the selected section(s) ${[...(sections ?? [])].join(', ')}`, {
        fix: 'drop --section or pick the section the requirement belongs to',
      });
    }
  }
  if (selected.length === 0 && problems.length === 0) {
    throw new OrcError('USAGE', 'no compliance rule matches the selection', {
      fix: 'check --section/--requirement, or run with --compliance for every rule',
    });
  }

  const ctx = createContext(root, { fix: options.fix, profile: gate.profile, gate });
  const repairs = new Map<string, Finding[]>();
  const inProfile = (d: DiscoveredRule) => gate.profile === 'full' || d.rule.documents !== true;
  if (options.fix) {
    const ids = new Set(selected.filter(inProfile).map((d) => d.rule.id));
    const { runGenericFixes } = await import('./fix/index.js'); // only under --fix (jsonc-parser, migrate edits)
    for (const [id, list] of runGenericFixes(root, ids)) repairs.set(id, list);
  }

  // When every rule that runs reads no more of a task than its summary (plain `validate`: the tasks and registry
  // sections), load the tasks keeping no whole definitions (src/repo/load-tasks.ts, definitions 'on-demand'):
  // the rules' own ctx.once('tasks') then finds this set. A load error is memoised for them to report.
  const running = selected.filter(inProfile);
  if (running.length > 0 && running.every((d) => d.rule.tasks === 'summary')) {
    const { loadTasks } = await import('../repo/load-tasks.js');
    try {
      ctx.once('tasks', () => loadTasks(root, { texts: 'on-demand', definitions: 'on-demand' }));
    } catch {
      /* memoised: the first rule asking for the tasks reports it */
    }
  }

  // Shared loads first (one pass over the event log serves every rule that reads events).
  for (const entry of running) {
    if (!entry.rule.prepare) continue;
    try {
      entry.rule.prepare(ctx);
    } catch {
      /* the rule asks again when it runs, and reports a failure there */
    }
  }

  const results: RequirementResult[] = [];
  const total = selected.length;
  for (let i = 0; i < selected.length; i++) {
    const entry = selected[i]!;
    options.onProgress?.(i, total, entry.rule.id);
    if (!inProfile(entry)) {
      results.push(notInProfile(entry, gate));
      continue;
    }
    const result = await runRule(entry, ctx, repairs.get(entry.rule.id) ?? [], Boolean(options.fix));
    if (gate.profile !== 'full' && typeof entry.rule.documents === 'string') result.not_in_profile = notInProfileReason(entry.rule.documents, gate.profile, gate.source);
    results.push(result);
  }
  for (const problem of problems) results.push(problemResult(problem));
  results.sort((a, b) => orderOf(a.id) - orderOf(b.id) || (a.id < b.id ? -1 : 1));

  const report: Report = {
    schema_version: REPORT_SCHEMA_VERSION,
    ok: true,
    root,
    profile: gate.profile,
    summary: summarise(results),
    requirements: results,
  };
  report.ok = gateExitCode(report, options) === EXIT.ok;
  return report;
}

async function runRule(entry: DiscoveredRule, ctx: ReturnType<typeof createContext>, repairs: Finding[], fix: boolean): Promise<RequirementResult> {
  const { rule } = entry;
  const started = performance.now();
  const base = { id: rule.id, level: rule.level, section: rule.section, title: rule.title };
  let outcome: RuleOutcome;
  try {
    outcome = await rule.check(ctx);
  } catch (error) {
    return {
      ...base,
      status: 'ERROR',
      reason: `could not evaluate: ${describeError(error)}`,
      findings: [],
      ...(repairs.length ? { fixed: repairs } : {}),
      duration_ms: elapsed(started),
    };
  }
  const shape = outcomeProblem(outcome);
  if (shape) {
    return { ...base, status: 'ERROR', reason: `could not evaluate: ${shape}`, findings: [], duration_ms: elapsed(started) };
  }
  if ('na' in outcome) {
    return { ...base, status: 'N/A', reason: outcome.na, findings: [], ...(repairs.length ? { fixed: repairs } : {}), duration_ms: elapsed(started) };
  }
  if ('skip' in outcome) {
    return { ...base, status: 'SKIP', reason: outcome.skip, findings: [], ...(repairs.length ? { fixed: repairs } : {}), duration_ms: elapsed(started) };
  }
  const normalised = outcome.findings.map((f) => normaliseFinding(f, rule));
  const fixed = [...repairs];
  let findings = normalised;
  if (fix) {
    fixed.push(...normalised.filter((f) => f.severity === 'notice'));
    findings = normalised.filter((f) => f.severity !== 'notice');
  }
  return {
    ...base,
    status: statusFor(rule.level, findings),
    findings,
    ...(fixed.length ? { fixed } : {}),
    duration_ms: elapsed(started),
  };
}

function notInProfile(entry: DiscoveredRule, gate: GateConfig): RequirementResult {
  const { rule } = entry;
  return {
    id: rule.id,
    level: rule.level,
    section: rule.section,
    title: rule.title,
    status: 'N/A',
    reason: notInProfileReason('a document requirement', gate.profile, gate.source),
    findings: [],
    duration_ms: 0,
  };
}

function problemResult(problem: RuleLoadProblem): RequirementResult {
  const info = requirementInfo(problem.id);
  return {
    id: problem.id,
    level: info?.level ?? 'MUST',
    section: info?.section ?? 'docs',
    title: info?.title ?? `rule module ${problem.file}`,
    status: 'ERROR',
    reason: `could not evaluate: src/compliance/rules/${problem.file}: ${problem.message}`,
    findings: [],
    duration_ms: 0,
  };
}

/** PASS/FAIL/WARN for a rule that looked (SKIP and ERROR are decided elsewhere). */
export function statusFor(level: Level, findings: readonly Finding[]): RequirementStatus {
  const errors = findings.some((f) => f.severity === 'error');
  const warnings = findings.some((f) => f.severity === 'warning');
  if (errors) return level === 'MUST' ? 'FAIL' : 'WARN';
  if (warnings) return 'WARN';
  return 'PASS';
}

/** Warning findings: every non-notice finding of a WARN requirement. */
export function countWarnings(report: Report): number {
  let n = 0;
  for (const r of report.requirements) {
    if (r.status === 'WARN') n += r.findings.filter((f) => f.severity !== 'notice').length;
  }
  return n;
}

/** 0 pass; 1 FAIL (or WARN under strict, or too many warnings); 2 ERROR (could not evaluate). */
export function gateExitCode(report: Report, gate: GateOptions = {}): number {
  if (report.summary.error > 0) return EXIT.usage;
  if (report.summary.fail > 0) return EXIT.findings;
  if (gate.strict && report.summary.warn > 0) return EXIT.findings;
  if (gate.maxWarnings !== undefined && countWarnings(report) > gate.maxWarnings) return EXIT.findings;
  return EXIT.ok;
}

function summarise(results: readonly RequirementResult[]): Report['summary'] {
  const summary = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0, na: 0 };
  for (const r of results) summary[r.status === 'N/A' ? 'na' : (r.status.toLowerCase() as Exclude<keyof typeof summary, 'na'>)]++;
  return summary;
}

function selects(id: string, section: string | undefined, sections: Set<string> | undefined, wanted: Set<string> | undefined): boolean {
  if (wanted && !wanted.has(id)) return false;
  if (sections && (section === undefined || !sections.has(section))) return false;
  return true;
}

function normaliseSections(input: readonly string[] | undefined): Set<string> | undefined {
  if (!input || input.length === 0) return undefined;
  const out = new Set<string>();
  for (const raw of input.flatMap((s) => s.split(','))) {
    const s = raw.trim().toLowerCase();
    if (!s) continue;
    if (!SECTIONS.includes(s as Section)) {
      throw new OrcError('USAGE', `unknown section "${raw.trim()}"`, { fix: `use one of: ${SECTIONS.join(', ')}` });
    }
    out.add(s);
  }
  return out.size ? out : undefined;
}

function normaliseIds(input: readonly string[] | undefined): Set<string> | undefined {
  if (!input || input.length === 0) return undefined;
  const out = new Set(input.flatMap((s) => s.split(',')).map((s) => s.trim().toUpperCase()).filter(Boolean));
  return out.size ? out : undefined;
}

function assertReadableRoot(root: string): void {
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch (error) {
    throw new OrcError('UNREADABLE_INPUT', `cannot read the repository root ${root}: ${describeError(error)}`, {
      location: { file: root },
      fix: 'pass an existing directory with --root (default: the current directory)',
    });
  }
  if (!isDir) {
    throw new OrcError('UNREADABLE_INPUT', `the repository root ${root} is not a directory`, {
      location: { file: root },
      fix: 'pass the directory that holds tasks/ and .state/ with --root',
    });
  }
}

function outcomeProblem(outcome: unknown): string | undefined {
  if (!outcome || typeof outcome !== 'object') return 'the rule returned no outcome';
  const o = outcome as Record<string, unknown>;
  if ('skip' in o) return typeof o.skip === 'string' && o.skip.trim() ? undefined : 'a skip needs a reason';
  if ('na' in o) return typeof o.na === 'string' && o.na.trim() ? undefined : 'an N/A outcome needs a reason';
  if (!Array.isArray(o.findings)) return 'the rule returned neither findings nor a skip reason';
  for (const f of o.findings as unknown[]) {
    const x = f as Partial<Finding> | null;
    if (!x || typeof x !== 'object' || typeof x.file !== 'string' || typeof x.message !== 'string') {
      return `the rule returned a malformed finding: ${safeJson(f)}`;
    }
  }
  return undefined;
}

function normaliseFinding(f: Finding, rule: Rule): Finding {
  const line = Number.isInteger(f.line) && f.line >= 1 ? f.line : 1;
  const column = Number.isInteger(f.column) && f.column >= 1 ? f.column : 1;
  const severity = f.severity === 'warning' || f.severity === 'notice' ? f.severity : 'error';
  return {
    ...f,
    requirement: f.requirement || rule.id,
    severity,
    file: f.file.replace(/\\/g, '/'),
    line,
    column,
    fix: typeof f.fix === 'string' ? f.fix : '',
  };
}

const ORDER = new Map(REQUIREMENTS.map((r, i) => [r.id, i]));
function orderOf(id: string): number {
  return ORDER.get(id) ?? Number.MAX_SAFE_INTEGER;
}

function describeError(error: unknown): string {
  if (error instanceof OrcError) {
    const loc = error.details.location;
    const where = loc ? `${loc.file}${loc.line ? `:${loc.line}:${loc.column ?? 1}` : ''}: ` : '';
    return `${where}${error.message}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return String(value);
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
