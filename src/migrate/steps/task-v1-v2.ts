/**
 * Value-level migration of one task definition between schema 1.0.0 and 2.0.0
 * (SCHEMA-VER-002). Pure functions: no IO, input never mutated.
 *
 * Public API (stable): taskV1ToV2(value), taskV2ToV1(value),
 *   defaultContextRequirements(type), defaultValidationRules(type),
 *   TASK_V1_URL, TASK_V2_URL.
 * v1 → v2 adds `context_requirements` (8000 tokens, no files, excludes
 * `**\/__pycache__/**`, `**\/*.pyc`, `**\/node_modules/**`) and
 * `validation_rules` by type (aider: pre git_clean, post no_lint_errors;
 * pytest: post tests_passing; lint and custom: none), keeping values already
 * present, and sets schema_version 2.0.0 / schema_url. v2 → v1 removes those two
 * fields and sets 1.0.0. Key order is preserved; the new keys go right after
 * `execution` (or before `state`).
 * Integration points: src/repo/load-tasks.ts (in-memory upgrade of v1 files),
 * src/migrate/ (E: the `orc-state migrate` chain, text-preserving rewrite).
 * Dependencies: none.
 */

export const TASK_V1_URL = 'https://orc-state.dev/schemas/task/1.0.0.json';
export const TASK_V2_URL = 'https://orc-state.dev/schemas/task/2.0.0.json';

export const DEFAULT_EXCLUDE_PATTERNS: readonly string[] = ['**/__pycache__/**', '**/*.pyc', '**/node_modules/**'];

export function defaultContextRequirements(_type: unknown): Record<string, unknown> {
  return { max_context_tokens: 8000, required_files: [], exclude_patterns: [...DEFAULT_EXCLUDE_PATTERNS] };
}

export function defaultValidationRules(type: unknown): { pre_execution: string[]; post_execution: string[] } {
  switch (type) {
    case 'aider':
      return { pre_execution: ['git_clean'], post_execution: ['no_lint_errors'] };
    case 'pytest':
      return { pre_execution: [], post_execution: ['tests_passing'] };
    default:
      return { pre_execution: [], post_execution: [] };
  }
}

export function taskV1ToV2(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const additions: Record<string, unknown> = {};
  if (!Object.prototype.hasOwnProperty.call(value, 'context_requirements')) {
    additions.context_requirements = defaultContextRequirements(value.type);
  }
  if (!Object.prototype.hasOwnProperty.call(value, 'validation_rules')) {
    additions.validation_rules = defaultValidationRules(value.type);
  }
  let inserted = false;
  const insert = (): void => {
    if (inserted) return;
    inserted = true;
    for (const [k, v] of Object.entries(additions)) out[k] = v;
  };
  for (const key of Object.keys(value)) {
    if (key === 'state' || key === 'resource_requirements') insert();
    const v = value[key];
    if (key === 'schema_version') out[key] = '2.0.0';
    else if (key === 'schema_url') out[key] = TASK_V2_URL;
    else out[key] = v;
    if (key === 'execution') insert();
  }
  insert();
  if (!('schema_version' in out)) out.schema_version = '2.0.0';
  if (!('schema_url' in out)) out.schema_url = TASK_V2_URL;
  return out;
}

export function taskV2ToV1(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (key === 'context_requirements' || key === 'validation_rules') continue;
    if (key === 'schema_version') out[key] = '1.0.0';
    else if (key === 'schema_url') out[key] = TASK_V1_URL;
    else out[key] = value[key];
  }
  if (!('schema_version' in out)) out.schema_version = '1.0.0';
  if (!('schema_url' in out)) out.schema_url = TASK_V1_URL;
  return out;
}
