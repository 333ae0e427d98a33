/**
 * One ajv instance for every JSON Schema in schemas/, each compiled once.
 *
 * Public API (stable): schemaId(kind, version), schemaFile(kind, version),
 * getValidator(kind, version), knownVersions(kind), validate(kind, version, value),
 * ANNOTATION_KEYWORDS, addAnnotationKeywords(ajv) (for anyone compiling our
 * schemas with ajv in strict mode: register these first).
 * Integration points: every reader of user files validates through here, so
 * schemas/ is the single source of truth for file shapes.
 * Conventions: `schemas/<kind>.v<version>.schema.json` with
 * `$id = https://orc-state.dev/schemas/<kind>/<version>.json`; instances carry
 * `schema_version` and `schema_url` (the `$id`).
 * Dependencies: ajv (draft 2020-12), ajv-formats (both required lazily, on the first validation).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import type addFormatsPkg from 'ajv-formats';
import { schemasDir } from '../paths.js';

// ajv (+ formats) costs ~70 ms to load: it is required on the first validation, not at import,
// so commands that never validate (status, --help, --version) do not pay for it.
const requireCjs = createRequire(import.meta.url);
const ID_BASE = 'https://orc-state.dev/schemas';
const FILE_PATTERN = /^([a-z][a-z0-9-]*)\.v(\d+\.\d+\.\d+)\.schema\.json$/;

export function schemaId(kind: string, version: string): string {
  return `${ID_BASE}/${kind}/${version}.json`;
}

export function schemaFile(kind: string, version: string): string {
  return `${kind}.v${version}.schema.json`;
}

/** Annotation keywords our schemas use (no validation meaning): x-requirement ties a property to a requirement id. */
export const ANNOTATION_KEYWORDS = ['x-requirement'] as const;

/** Register the annotation keywords with an ajv instance so strict mode accepts our schemas. */
export function addAnnotationKeywords(target: Pick<Ajv2020, 'addKeyword'>): void {
  for (const keyword of ANNOTATION_KEYWORDS) target.addKeyword({ keyword, schemaType: 'string' });
}

let ajv: Ajv2020 | undefined;
const versions = new Map<string, string[]>();
const compiled = new Map<string, ValidateFunction>();

function instance(): Ajv2020 {
  if (ajv) return ajv;
  const { Ajv2020: AjvClass } = requireCjs('ajv/dist/2020.js') as { Ajv2020: typeof Ajv2020 };
  const addFormats = (requireCjs('ajv-formats') as typeof addFormatsPkg).default;
  // The bundled schemas are meta-validated by tests/schema-meta.test.ts, not in every process (~100 ms on start-up);
  // strict mode still rejects unknown keywords and formats when a schema is compiled. allowUnionTypes only as a
  // safety net: tests/schema-strict.test.ts holds every schema to strict: true without it, so users compiling our schemas can.
  const created = new AjvClass({ allErrors: true, strict: true, allowUnionTypes: true, validateSchema: false });
  addFormats(created);
  addAnnotationKeywords(created);
  const dir = schemasDir();
  for (const name of readdirSync(dir).sort()) {
    const match = FILE_PATTERN.exec(name);
    if (!match) continue;
    const [, kind, version] = match as unknown as [string, string, string];
    const schema = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { $id?: string };
    if (schema.$id !== schemaId(kind, version)) {
      throw new Error(`schemas/${name}: $id must be ${schemaId(kind, version)}`);
    }
    created.addSchema(schema);
    versions.set(kind, [...(versions.get(kind) ?? []), version]);
  }
  ajv = created;
  return created;
}

export function knownVersions(kind: string): string[] {
  instance();
  return versions.get(kind) ?? [];
}

export function getValidator(kind: string, version: string): ValidateFunction | undefined {
  const id = schemaId(kind, version);
  let fn = compiled.get(id);
  if (!fn) {
    fn = instance().getSchema(id);
    if (!fn) return undefined;
    compiled.set(id, fn);
  }
  return fn;
}

export interface SchemaCheck {
  valid: boolean;
  errors: ErrorObject[];
}

/** Validate a value; an unknown kind/version is a programming error, not user input. */
export function validate(kind: string, version: string, value: unknown): SchemaCheck {
  const fn = getValidator(kind, version);
  if (!fn) throw new Error(`no schema ${schemaId(kind, version)} in schemas/`);
  const valid = fn(value) as boolean;
  return { valid, errors: valid ? [] : [...(fn.errors ?? [])] };
}
