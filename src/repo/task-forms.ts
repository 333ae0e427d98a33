/**
 * Task files as people write them: the one place that decides what a task
 * file may leave out or add and still load. Every reader of task files
 * (the task loader behind validate, sync, plan, ready, watch; migrate) checks
 * a file through checkTaskForm, so they all accept and refuse the same files.
 *
 * Public API (stable):
 *   checkTaskForm(obj, version, at) → { ok, value, findings, unknownPaths }
 *   TaskFormLocation
 * What is accepted, with what finding:
 *   - `schema_url` missing: warning (under TASK-DEF-002, where plain `validate` shows it) that `orc-state validate
 *     --fix` mends; a different URL: warning naming orc-state's; the file is
 *     read with orc-state's URL in memory. Never a load error.
 *   - schema 2.0.0 (and its minor 2.1.0) without `context_requirements` / `validation_rules` (the
 *     upstream calls them optional): the SCHEMA-VER-002 defaults of the
 *     v1 → v2 migration are applied in memory; a SHOULD-level warning for aider
 *     tasks (as the upstream validator gives), a notice for the others.
 *   - unknown properties (anywhere the schema closes an object): a warning
 *     with "did you mean" when close to a known name; the property stays in
 *     the file (migrate and --fix keep it) and is left out of the value
 *     returned for the engine.
 *   Anything else the schema refuses stays an error.
 * Integration points: src/repo/load-tasks.ts, src/migrate/run.ts.
 * Dependencies: ../schema/registry.js, ./schema-findings.js,
 * ../migrate/steps/task-v1-v2.js (the defaults), ../model.js.
 */
import type { ErrorObject } from 'ajv/dist/2020.js';
import type { Finding } from '../model.js';
import { getValidator, schemaId } from '../schema/registry.js';
import { defaultContextRequirements, defaultValidationRules } from '../migrate/steps/task-v1-v2.js';
import { loadSchemaDocument, pointerToPath, schemaFindings } from './schema-findings.js';

export interface TaskFormLocation {
  file: string;
  locate: (path: ReadonlyArray<string | number>, opts?: { key?: boolean }) => { line: number; column: number };
  /** Requirement for schema findings (default TASK-DEF-002). */
  requirement?: string;
  ownedRequirements?: ReadonlySet<string>;
}

export interface TaskFormResult {
  ok: boolean;
  /** What the engine reads: orc-state's schema_url, defaults applied, unknown properties left out. */
  value: Record<string, unknown>;
  findings: Finding[];
  /** Paths of the unknown properties (kept in the file). */
  unknownPaths: Array<Array<string | number>>;
}

/** Versions whose schema requires context_requirements/validation_rules that the upstream makes optional. */
const OPTIONAL_IN: ReadonlySet<string> = new Set(['2.0.0', '2.1.0']); // 2.1.0 is a minor of 2.0.0: what 2.0.0 leaves optional stays so

const unknownPropertyError = (e: ErrorObject): boolean => e.keyword === 'additionalProperties' && !/\/(anyOf|oneOf|not)\//.test(e.schemaPath);

export function checkTaskForm(obj: Record<string, unknown>, version: string, at: TaskFormLocation): TaskFormResult {
  const validator = getValidator('task', version);
  if (!validator) throw new Error(`schemas/task.v${version}.schema.json missing`);
  const requirement = at.requirement ?? 'TASK-DEF-002';
  // Fast path: a file that is exactly what the schema wants.
  const valid: boolean = validator(obj);
  if (valid) return { ok: true, value: obj, findings: [], unknownPaths: [] };

  const findings: Finding[] = [];
  const F = (req: string, severity: Finding['severity'], path: Array<string | number>, message: string, fix: string, key = false): void => {
    const p = at.locate(path, { key });
    findings.push({ requirement: req, severity, file: at.file, line: p.line, column: p.column, message, fix });
  };
  let value: Record<string, unknown> = obj;
  const own = (): Record<string, unknown> => (value === obj ? (value = { ...obj }) : value);

  const ours = schemaId('task', version);
  if (!Object.prototype.hasOwnProperty.call(obj, 'schema_url')) {
    own().schema_url = ours;
    F(requirement, 'warning', [], `task file has no schema_url; read as task schema ${version}`, `run \`orc-state validate --fix\` to add "schema_url": "${ours}" (editors then check the file as you type)`);
  } else if (obj.schema_url !== ours) {
    own().schema_url = ours;
    const other = typeof obj.schema_url === 'string' ? /^https:\/\/orc-state\.dev\/schemas\/task\/(\d+\.\d+\.\d+)\.json$/.exec(obj.schema_url)?.[1] : undefined;
    F(
      requirement,
      'warning',
      ['schema_url'],
      other
        ? `schema_url names task schema ${other} but schema_version is ${version}; the file is read as ${version}`
        : `schema_url ${JSON.stringify(obj.schema_url)} is not orc-state's; the file is read as task schema ${version} (${ours})`,
      `set "schema_url": "${ours}" to name the schema orc-state checks it against`,
    );
  }
  if (OPTIONAL_IN.has(version)) {
    const missing: string[] = [];
    if (!Object.prototype.hasOwnProperty.call(obj, 'context_requirements')) {
      own().context_requirements = defaultContextRequirements(obj.type);
      missing.push('context_requirements');
    }
    if (!Object.prototype.hasOwnProperty.call(obj, 'validation_rules')) {
      own().validation_rules = defaultValidationRules(obj.type);
      missing.push('validation_rules');
    }
    if (missing.length > 0) {
      const list = missing.join(' and ');
      if (obj.type === 'aider') {
        F(requirement, 'warning', [], `aider task without ${list}: the defaults of the v1 → v2 migration apply (SCHEMA-VER-002); aider tasks SHOULD state their context and validation`, `add ${missing.map((k) => `"${k}"`).join(' and ')} (e.g. max_context_tokens, required_files; pre_execution/post_execution checks)`);
      } else {
        F(requirement, 'notice', [], `no ${list}: the defaults of the v1 → v2 migration apply (SCHEMA-VER-002)`, `add ${missing.map((k) => `"${k}"`).join(' and ')} to state them explicitly`);
      }
    }
  }

  const firstErrors = validator.errors ?? [];
  let errors = value === obj ? firstErrors : (validator(value) as boolean) ? [] : (validator.errors ?? []);
  const unknownPaths: Array<Array<string | number>> = [];
  const unknown = errors.filter(unknownPropertyError);
  if (unknown.length > 0) {
    const schema = loadSchemaDocument('task', version);
    for (const f of schemaFindings(unknown, { file: at.file, value, locate: at.locate, schema, requirement, ownedRequirements: at.ownedRequirements })) {
      findings.push({ ...f, severity: 'warning', message: `${f.message}: kept in the file, ignored by orc-state`, fix: f.fix.startsWith('did you mean') ? `${f.fix} (or keep it: it is ignored)` : 'keep it if it is yours (it is ignored), or remove it; an "x-" prefix marks it as an extension' });
    }
    // Leave them out of what the engine reads: copy the objects along each path, then delete.
    const copy = structuredClone(value);
    for (const e of unknown) {
      const path = pointerToPath(e.instancePath);
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      let cur: unknown = copy;
      for (const seg of path) cur = cur !== null && typeof cur === 'object' ? (cur as Record<string | number, unknown>)[seg] : undefined;
      if (cur !== null && typeof cur === 'object') delete (cur as Record<string, unknown>)[extra];
      unknownPaths.push([...path, extra]);
    }
    value = copy;
    errors = (validator(value) as boolean) ? [] : (validator.errors ?? []);
  }
  if (errors.length > 0) {
    findings.push(
      ...schemaFindings(errors, { file: at.file, value, locate: at.locate, schema: loadSchemaDocument('task', version), requirement, ownedRequirements: at.ownedRequirements }),
    );
  }
  findings.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: errors.length === 0, value, findings, unknownPaths };
}
