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
import type { GateConfig, Profile } from './profile.js';

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
  /**
   * The gate profile of this run (src/compliance/profile.ts). Absent when a
   * rule is called directly (tests): then every part is checked, as in `full`.
   */
  readonly profile?: Profile;
  /** The gate settings of orc-state.config.json (module_index for MOD-IDX-001). */
  readonly gate?: GateConfig;
  /** Memoise an expensive load (e.g. `ctx.once('tasks', () => loadTasks(ctx.root, { texts: 'on-demand' }))`). */
  once<T>(key: string, load: () => T): T;
}

export type RuleOutcome =
  | { findings: Finding[] }
  /** Nothing to inspect: never reported as PASS. */
  | { skip: string }
  /** The requirement does not apply to this repository (e.g. not configured): status N/A with the reason. */
  | { na: string };

export interface Rule {
  id: string;
  level: Level;
  section: Section;
  title: string;
  /** True when `--fix` can repair some of its findings. */
  fixable?: boolean;
  /**
   * Document requirement: `true` = the whole rule applies only in the `full`
   * profile (N/A otherwise); a string = the part of the rule that only runs in
   * the full profile (the rule checks `ctx.profile`, the rest runs everywhere).
   */
  documents?: true | string;
  /**
   * 'summary': of each loaded task the rule reads only `summaryOf(task)`, `file`, `sourceVersion` and `locate`.
   * When every rule of a run says so, the runner loads the tasks without keeping whole definitions.
   */
  tasks?: 'summary';
  /**
   * Called by the runner for every selected rule before the first one runs: register the shared
   * loads the rule will ask for (e.g. its visitor of the one pass over the event log, src/engine/event-pass.ts).
   */
  prepare?(ctx: RuleContext): void;
  check(ctx: RuleContext): RuleOutcome | Promise<RuleOutcome>;
}

/** N/A: the requirement is outside this run's gate profile (never a pass, never a failure). */
export type RequirementStatus = 'PASS' | 'FAIL' | 'WARN' | 'SKIP' | 'ERROR' | 'N/A';

export interface RequirementResult {
  id: string;
  level: Level;
  section: Section;
  title: string;
  status: RequirementStatus;
  /** Why a SKIP, ERROR or N/A happened. */
  reason?: string;
  /** The part of the requirement left out because it is outside the profile (the status covers the rest). */
  not_in_profile?: string;
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
  /** The gate profile the run used (runtime | full). */
  profile?: Profile;
  /** `na`: requirements outside the profile. */
  summary: { pass: number; fail: number; warn: number; skip: number; error: number; na: number };
  requirements: RequirementResult[];
}
