/**
 * The validators of every JSON Schema in schemas/: build-time standalone code, or one
 * ajv instance compiling each schema once.
 *
 * Public API (stable): schemaId(kind, version), schemaFile(kind, version),
 * getValidator(kind, version), knownVersions(kind), validate(kind, version, value),
 * ANNOTATION_KEYWORDS, addAnnotationKeywords(ajv) (for anyone compiling our
 * schemas with ajv in strict mode: register these first).
 * Internal (the build step and its test): createSchemaAjv({ source }), schemasFingerprint(),
 * loadStandalone(dir, kind, version), STANDALONE_DIR, standaloneFile(kind, version), schemaEntries().
 * Validators come from ajv standalone code generated at build time
 * (scripts/build-validators.ts → dist/src/schema/validators/<kind>.v<version>.cjs, one
 * file per schema so a command loads only the code of the schemas it uses) when
 * that file was generated from exactly the schemas on disk (fingerprint of their
 * bytes, ajv's version and options); otherwise (under tests from src/, a schema
 * edited after the build, ORC_STATE_SCHEMA_COMPILE=1) they are compiled with ajv
 * here as before. Both give the same verdicts and errors (tests/schema-standalone.test.ts).
 * Integration points: every reader of user files validates through here, so
 * schemas/ is the single source of truth for file shapes.
 * Conventions: `schemas/<kind>.v<version>.schema.json` with
 * `$id = https://orc-state.dev/schemas/<kind>/<version>.json`; instances carry
 * `schema_version` and `schema_url` (the `$id`).
 * Dependencies: node:crypto, ajv (draft 2020-12), ajv-formats (both required lazily, only when compiling;
 * the standalone code requires ajv-formats/dist/formats and ajv/dist/runtime/*).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
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

/** The options every orc-state validator is compiled with (runtime compile and build-time standalone code alike). */
// The bundled schemas are meta-validated by tests/schema-meta.test.ts, not in every process (~100 ms on start-up);
// strict mode still rejects unknown keywords and formats when a schema is compiled. allowUnionTypes only as a
// safety net: tests/schema-strict.test.ts holds every schema to strict: true without it, so users compiling our schemas can.
const AJV_OPTIONS = { allErrors: true, strict: true, allowUnionTypes: true, validateSchema: false } as const;

/** Standalone validators written at build time (scripts/build-validators.ts): one file per schema in this directory beside the registry module. */
export const STANDALONE_DIR = 'validators';

/** The standalone validator file of one schema, inside a STANDALONE_DIR. */
export function standaloneFile(kind: string, version: string): string {
  return `${kind}.v${version}.cjs`;
}

interface SchemaFileEntry {
  name: string;
  kind: string;
  version: string;
}

let listing: SchemaFileEntry[] | undefined;
const versions = new Map<string, string[]>();
const compiled = new Map<string, ValidateFunction>();
let ajv: Ajv2020 | undefined;

/** schemas/<kind>.v<version>.schema.json, sorted by name (no file is parsed). */
export function schemaEntries(): ReadonlyArray<{ name: string; kind: string; version: string }> {
  return schemaFiles();
}

function schemaFiles(): SchemaFileEntry[] {
  if (listing) return listing;
  const out: SchemaFileEntry[] = [];
  for (const name of readdirSync(schemasDir()).sort()) {
    const match = FILE_PATTERN.exec(name);
    if (!match) continue;
    const [, kind, version] = match as unknown as [string, string, string];
    out.push({ name, kind, version });
    versions.set(kind, [...(versions.get(kind) ?? []), version]);
  }
  listing = out;
  return out;
}

/**
 * What standalone validators must have been generated from to be used: every schema file's
 * bytes, ajv's version and the compile options. Any edit of a schema changes it, so the
 * schemas stay the one source of truth (a stale generated file is ignored, not trusted).
 */
let fingerprint: string | undefined;
export function schemasFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  const hash = createHash('sha256');
  const ajvVersion = (requireCjs('ajv/package.json') as { version: string }).version;
  hash.update(`ajv ${ajvVersion} ${JSON.stringify(AJV_OPTIONS)} ${ANNOTATION_KEYWORDS.join(',')}\n`);
  const dir = schemasDir();
  for (const { name } of schemaFiles()) hash.update(`${name}\n`).update(readFileSync(join(dir, name))).update('\n');
  fingerprint = hash.digest('hex');
  return fingerprint;
}

/** A fresh ajv instance holding every bundled schema (the build-time generator compiles with the same). */
export function createSchemaAjv(options: { source?: boolean } = {}): Ajv2020 {
  const { Ajv2020: AjvClass } = requireCjs('ajv/dist/2020.js') as { Ajv2020: typeof Ajv2020 };
  const addFormats = (requireCjs('ajv-formats') as typeof addFormatsPkg).default;
  const created = new AjvClass({ ...AJV_OPTIONS, ...(options.source ? { code: { source: true } } : {}) });
  addFormats(created);
  addAnnotationKeywords(created);
  const dir = schemasDir();
  for (const { name, kind, version } of schemaFiles()) {
    const schema = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { $id?: string };
    if (schema.$id !== schemaId(kind, version)) {
      throw new Error(`schemas/${name}: $id must be ${schemaId(kind, version)}`);
    }
    created.addSchema(schema);
  }
  return created;
}

function instance(): Ajv2020 {
  ajv ??= createSchemaAjv();
  return ajv;
}

/**
 * The build-time validator of one schema in `dir` when it was generated from exactly these
 * schemas (same fingerprint), else null. Loading the task schema's costs a few ms; loading
 * ajv and compiling costs ~70 ms for the task schema alone and ~250 ms for every schema.
 */
export function loadStandalone(dir: string, kind: string, version: string): ValidateFunction | null {
  const file = join(dir, standaloneFile(kind, version));
  if (!existsSync(file)) return null;
  try {
    const mod = requireCjs(file) as { fingerprint?: unknown; validate?: ValidateFunction };
    if (mod.fingerprint !== schemasFingerprint() || typeof mod.validate !== 'function') return null;
    return mod.validate;
  } catch {
    return null;
  }
}

function standaloneValidator(kind: string, version: string): ValidateFunction | null {
  if (process.env.ORC_STATE_SCHEMA_COMPILE === '1') return null;
  return loadStandalone(fileURLToPath(new URL(`./${STANDALONE_DIR}/`, import.meta.url)), kind, version);
}

export function knownVersions(kind: string): string[] {
  schemaFiles();
  return versions.get(kind) ?? [];
}

/** kind → version → validator: per-record callers (every logged event) look up without building the $id. */
const byKind = new Map<string, Map<string, ValidateFunction>>();

export function getValidator(kind: string, version: string): ValidateFunction | undefined {
  const hit = byKind.get(kind)?.get(version);
  if (hit) return hit;
  const id = schemaId(kind, version);
  let fn = compiled.get(id);
  if (!fn) {
    const pre = knownVersions(kind).includes(version) ? standaloneValidator(kind, version) : null;
    if (pre) {
      // Standalone code carries no `schema`: give readers the document, parsed when first asked for.
      const file = join(schemasDir(), schemaFile(kind, version));
      let doc: unknown;
      Object.defineProperty(pre, 'schema', { configurable: true, get: () => (doc ??= JSON.parse(readFileSync(file, 'utf8'))) });
      fn = pre;
    } else {
      fn = instance().getSchema(id);
    }
    if (!fn) return undefined;
    compiled.set(id, fn);
  }
  let perVersion = byKind.get(kind);
  if (!perVersion) byKind.set(kind, (perVersion = new Map()));
  perVersion.set(version, fn);
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
