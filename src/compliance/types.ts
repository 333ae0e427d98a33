/**
 * The contract between compliance rules, the runner and the formatters.
 *
 * Public API (stable): Rule, RuleContext, RuleOutcome, RequirementResult, Report,
 * REPORT_SCHEMA_VERSION, Section.
 * Integration points: src/compliance/rules/*.ts each export one `rule` (or an
 * array `rules`); the runner builds a Report; formatters turn it into text.
 * Dependencies: ../model.js.
 */
import type { Finding, Level } from '../model.js';
import { REPORT_VERSION } from '../core/versions.js';

export const REPORT_SCHEMA_VERSION = REPORT_VERSION;

export const SECTIONS = [
  'state',
  'tasks',
  'dag',
  'failure-modes',
  'docs',
  'registry',
  'machines',
  'audit',
  'metrics',
] as const;
export type Section = (typeof SECTIONS)[number];

/** Shared, memoised access to the repo so no file is read twice in one run. */
export interface RuleContext {
  /** Absolute repo root. */
  readonly root: string;
  /** When true the rule may repair what is safe and must report each repair as a finding with severity 'notice'. */
  readonly fix: boolean;
  /** Memoise an expensive load (e.g. `ctx.once('tasks', () => loadTasks(ctx.root))`). */
  once<T>(key: string, load: () => T): T;
}

export type RuleOutcome =
  | { findings: Finding[] }
  /** Nothing to inspect: never reported as PASS. */
  | { skip: string };

export interface Rule {
  id: string;
  level: Level;
  section: Section;
  title: string;
  /** True when `--fix` can repair some of its findings. */
  fixable?: boolean;
  check(ctx: RuleContext): RuleOutcome | Promise<RuleOutcome>;
}

export type RequirementStatus = 'PASS' | 'FAIL' | 'WARN' | 'SKIP' | 'ERROR';

export interface RequirementResult {
  id: string;
  level: Level;
  section: Section;
  title: string;
  status: RequirementStatus;
  /** Why a SKIP or ERROR happened. */
  reason?: string;
  findings: Finding[];
  /** Repairs done under --fix. */
  fixed?: Finding[];
  duration_ms: number;
}

/** The `--format json` document (shape pinned by issue 2; later fields only added). */
export interface Report {
  schema_version: string;
  ok: boolean;
  root: string;
  summary: { pass: number; fail: number; warn: number; skip: number; error: number };
  requirements: RequirementResult[];
}
