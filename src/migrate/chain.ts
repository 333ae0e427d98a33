/**
 * The migration chain: a registry of value-level migration steps per file
 * kind, keyed by from→to version, so N→N+2 runs N→N+1→N+2.
 *
 * Public API:
 *   - FileKind, FILE_KINDS, MigrationStep                              (stable)
 *   - MigrationRegistry: register(step), steps(kind?), find(kind, from, to),
 *     path(kind, from, to) → MigrationStep[] (shortest chain; [] when equal;
 *     OrcError('USAGE') when none), versions(kind), currentVersion(kind)   (stable)
 *   - DEFAULT_REGISTRY: the real steps that exist (task 1.0.0 ↔ 2.0.0)    (stable)
 *   - stepId(kind, from, to) → e.g. "task_v1_to_v2"                      (stable)
 *   - migrateValue(kind, value, from, to, registry?) → { value, steps }    (stable)
 *   - upgradeInMemory(kind, value, fromVersion?, registry?) → { value, from, to, steps }
 *       upgrades an older file's value to the current version without touching
 *       the file; the task loader uses it for v1 files                    (stable)
 * Kinds with a single version (snapshot, event, dag, plan today) have no steps:
 * the registry reports their current version (from schemas/) and `path`
 * between equal versions is empty. No placeholder steps are registered.
 * Integration points: src/migrate/run.ts (orc-state migrate), src/repo/
 * load-tasks.ts (in-memory upgrade), rule SCHEMA-VER-002 (docs per step).
 * Dependencies: ./steps/task-v1-v2.js (A's pure step), ../schema/registry.js, ../errors.js, ../model.js.
 */
import { OrcError } from '../errors.js';
import { knownVersions } from '../schema/registry.js';
import { TASK_TYPES } from '../model.js';
import { DEFAULT_EXCLUDE_PATTERNS, defaultContextRequirements, defaultValidationRules, taskV1ToV2, taskV2ToV1 } from './steps/task-v1-v2.js';

export const FILE_KINDS = ['task', 'snapshot', 'event', 'dag', 'plan'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

/** Schema kind names in schemas/ for each file kind (first one present wins). */
const SCHEMA_KINDS: Record<FileKind, readonly string[]> = {
  task: ['task'],
  snapshot: ['snapshot', 'state-snapshot'],
  event: ['event'],
  dag: ['dag'],
  plan: ['execution-plan', 'plan'],
};

export interface MigrationStep {
  /** `<kind>_v<from>_to_v<to>`, e.g. task_v1_to_v2; names its doc in docs/schema_migrations/. */
  id: string;
  kind: FileKind;
  from: string;
  to: string;
  /** Name of the file in docs/schema_migrations/ documenting it (a downgrade shares its upgrade's doc). */
  doc: string;
  summary: string;
  /** Fields the step drops (data loss: the CLI states them and needs --yes). */
  lostFields: readonly string[];
  /** Facts its document must state (defaults, field names): rule SCHEMA-VER-002 checks the doc names each, so docs cannot drift. */
  docFacts?: readonly string[];
  /** Where new members go in the text (see reconcileJson placement). */
  placement?: Record<string, readonly string[]>;
  apply(value: Record<string, unknown>): Record<string, unknown>;
}

function shortVersion(v: string): string {
  return v.replace(/\.0\.0$/, '');
}

export function stepId(kind: FileKind, from: string, to: string): string {
  return `${kind}_v${shortVersion(from)}_to_v${shortVersion(to)}`;
}

function compareSemver(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export class MigrationRegistry {
  private readonly byKind = new Map<FileKind, MigrationStep[]>();

  constructor(
    steps: readonly MigrationStep[] = [],
    /** Override the versions read from schemas/ (tests of hypothetical chains). */
    private readonly versionOverride?: Partial<Record<FileKind, readonly string[]>>,
  ) {
    for (const step of steps) this.register(step);
  }

  register(step: MigrationStep): void {
    const list = this.byKind.get(step.kind) ?? [];
    if (list.some((s) => s.from === step.from && s.to === step.to)) {
      throw new OrcError('INTERNAL', `migration step ${step.kind} ${step.from}→${step.to} registered twice`);
    }
    list.push(step);
    this.byKind.set(step.kind, list);
  }

  steps(kind?: FileKind): MigrationStep[] {
    if (kind) return [...(this.byKind.get(kind) ?? [])];
    return FILE_KINDS.flatMap((k) => this.byKind.get(k) ?? []);
  }

  find(kind: FileKind, from: string, to: string): MigrationStep | undefined {
    return (this.byKind.get(kind) ?? []).find((s) => s.from === from && s.to === to);
  }

  /** Every version the kind is known in: schema files plus step endpoints, ascending. */
  versions(kind: FileKind): string[] {
    const set = new Set<string>(this.versionOverride?.[kind] ?? schemaVersions(kind));
    for (const s of this.byKind.get(kind) ?? []) {
      set.add(s.from);
      set.add(s.to);
    }
    return [...set].sort(compareSemver);
  }

  currentVersion(kind: FileKind): string | undefined {
    const all = this.versions(kind);
    return all[all.length - 1];
  }

  /** Shortest chain of steps from → to (breadth-first). */
  path(kind: FileKind, from: string, to: string): MigrationStep[] {
    if (from === to) return [];
    const steps = this.byKind.get(kind) ?? [];
    const prev = new Map<string, MigrationStep>();
    const queue = [from];
    const seen = new Set([from]);
    while (queue.length > 0) {
      const at = queue.shift() as string;
      if (at === to) break;
      for (const s of steps) {
        if (s.from !== at || seen.has(s.to)) continue;
        seen.add(s.to);
        prev.set(s.to, s);
        queue.push(s.to);
      }
    }
    if (!seen.has(to)) {
      const versions = this.versions(kind);
      const known = steps.length === 0 ? `${kind} files have a single version (${versions.join(', ') || 'none'}): there is nothing to migrate` : `registered steps: ${steps.map((s) => `${s.from}→${s.to}`).join(', ')}`;
      throw new OrcError('USAGE', `no migration path for ${kind} files from ${from} to ${to}; ${known}`, {
        fix: `choose --from/--to among ${versions.join(', ') || '(none)'}`,
      });
    }
    const chain: MigrationStep[] = [];
    for (let v = to; v !== from; ) {
      const s = prev.get(v) as MigrationStep;
      chain.unshift(s);
      v = s.from;
    }
    return chain;
  }
}

function schemaVersions(kind: FileKind): string[] {
  for (const name of SCHEMA_KINDS[kind]) {
    const versions = knownVersions(name);
    if (versions.length > 0) return versions;
  }
  return [];
}

/** The schema kind name in schemas/ for a file kind, when one exists. */
export function schemaKindFor(kind: FileKind): string | undefined {
  return SCHEMA_KINDS[kind].find((name) => knownVersions(name).length > 0);
}

/** An editor hint `"$schema": "…/task.v1.0.0.schema.json"` follows the file to the new version. */
function retargetSchemaHint(value: Record<string, unknown>, from: string, to: string): Record<string, unknown> {
  const hint = value.$schema;
  const needle = `task.v${from}.schema.json`;
  if (typeof hint !== 'string' || !hint.endsWith(needle)) return value;
  return { ...value, $schema: `${hint.slice(0, -needle.length)}task.v${to}.schema.json` };
}

export const TASK_V1_TO_V2: MigrationStep = {
  id: stepId('task', '1.0.0', '2.0.0'),
  kind: 'task',
  from: '1.0.0',
  to: '2.0.0',
  doc: 'task_v1_to_v2.md',
  summary: 'adds context_requirements (aider defaults) and validation_rules (by type); sets schema_version 2.0.0 and schema_url',
  lostFields: [],
  placement: { schema_url: ['schema_version', '$schema'], context_requirements: ['execution'], validation_rules: ['context_requirements', 'execution'] },
  docFacts: [
    'context_requirements',
    'validation_rules',
    'max_context_tokens',
    String((defaultContextRequirements('aider') as { max_context_tokens: number }).max_context_tokens),
    ...DEFAULT_EXCLUDE_PATTERNS,
    ...new Set(TASK_TYPES.flatMap((t) => [...defaultValidationRules(t).pre_execution, ...defaultValidationRules(t).post_execution])),
    'orc-state migrate',
  ],
  apply: (value) => retargetSchemaHint(taskV1ToV2(value), '1.0.0', '2.0.0'),
};

export const TASK_V2_TO_V1: MigrationStep = {
  id: stepId('task', '2.0.0', '1.0.0'),
  kind: 'task',
  from: '2.0.0',
  to: '1.0.0',
  doc: 'task_v1_to_v2.md',
  summary: 'removes context_requirements and validation_rules; sets schema_version 1.0.0 and schema_url',
  lostFields: ['context_requirements', 'validation_rules'],
  apply: (value) => retargetSchemaHint(taskV2ToV1(value), '2.0.0', '1.0.0'),
};

export const DEFAULT_REGISTRY = new MigrationRegistry([TASK_V1_TO_V2, TASK_V2_TO_V1]);

/** Run the chain from → to on a value (pure; the input is not mutated). */
export function migrateValue(
  kind: FileKind,
  value: Record<string, unknown>,
  from: string,
  to: string,
  registry: MigrationRegistry = DEFAULT_REGISTRY,
): { value: Record<string, unknown>; steps: MigrationStep[] } {
  const steps = registry.path(kind, from, to);
  let out = value;
  for (const step of steps) out = step.apply(out);
  return { value: out, steps };
}

/**
 * Upgrade a value read from an older file to the kind's current version, in
 * memory only. `fromVersion` defaults to the value's own `schema_version`.
 * A value already current (or newer: left for schema validation to report) is returned as is.
 */
export function upgradeInMemory(
  kind: FileKind,
  value: Record<string, unknown>,
  fromVersion?: string,
  registry: MigrationRegistry = DEFAULT_REGISTRY,
): { value: Record<string, unknown>; from: string | undefined; to: string | undefined; steps: string[] } {
  const from = fromVersion ?? (typeof value.schema_version === 'string' ? value.schema_version : undefined);
  const to = registry.currentVersion(kind);
  if (from === undefined || to === undefined || compareSemver(from, to) >= 0) return { value, from, to, steps: [] };
  const result = migrateValue(kind, value, from, to, registry);
  return { value: result.value, from, to, steps: result.steps.map((s) => s.id) };
}
