/**
 * Turn ajv errors into located findings a person can act on.
 *
 * Public API (stable): schemaFindings(errors, opts) → Finding[], loadSchemaDocument(kind, version),
 *   describeValue(v), displayPath(path), closest(word, candidates), pointerToPath(instancePath).
 * Behaviour: each error is placed on the offending value (`required` → the
 * parent object's opening brace naming the missing property; additional
 * properties → the offending key, with a "did you mean" from the allowed
 * names), worded in plain language ("`execution.timeout_seconds` must be an
 * integer ≥ 1, got "600" (a string)") with a concrete fix taken from the
 * schema's own descriptions. The requirement id comes from the nearest
 * `x-requirement` annotation in the schema when it is one the caller owns.
 * Integration points: src/repo/load-tasks.ts, src/registry/ (any reader that
 * validates user files with src/schema/registry.ts).
 * Dependencies: node:fs, ajv types, ../schema/registry.js, ../paths.js, ../model.js.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorObject } from 'ajv/dist/2020.js';
import type { Finding } from '../model.js';
import { schemasDir } from '../paths.js';
import { schemaFile } from '../schema/registry.js';

type Json = Record<string, unknown>;
const docs = new Map<string, Json>();

/** The raw schema document (for descriptions, allowed names, annotations). */
export function loadSchemaDocument(kind: string, version: string): Json {
  const key = `${kind}@${version}`;
  let doc = docs.get(key);
  if (!doc) {
    doc = JSON.parse(readFileSync(join(schemasDir(), schemaFile(kind, version)), 'utf8')) as Json;
    docs.set(key, doc);
  }
  return doc;
}

export function pointerToPath(pointer: string): Array<string | number> {
  if (pointer === '' || pointer === '#') return [];
  return pointer
    .replace(/^#?\//, '')
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

export function displayPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out === '' ? '(the top-level object)' : out;
}

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string': {
      const s = v.length > 60 ? `${v.slice(0, 57)}...` : v;
      return `${JSON.stringify(s)} (a string)`;
    }
    case 'number':
      return `${v} (${Number.isInteger(v) ? 'an integer' : 'a number'})`;
    case 'boolean':
      return `${v} (a boolean)`;
    case 'object':
      return 'an object';
    default:
      return String(v);
  }
}

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The candidate nearest to `word` when it is plausibly a typo of it. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const lw = word.toLowerCase();
  for (const c of candidates) {
    const lc = c.toLowerCase();
    if (lc === lw) return c;
    const head = lc.split(/[_.-]/)[0] ?? lc;
    const d = Math.min(levenshtein(lw, lc), head.length >= 3 ? levenshtein(lw, head) + 1 : Infinity, lc.startsWith(lw) && lw.length >= 3 ? 1 : Infinity);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD < word.length && bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function schemaNodes(doc: Json, schemaPath: string): Json[] {
  const nodes: Json[] = [doc];
  let cur: unknown = doc;
  for (const seg of pointerToPath(schemaPath)) {
    if (cur === null || typeof cur !== 'object') break;
    cur = (cur as Record<string, unknown>)[String(seg)];
    if (cur && typeof cur === 'object' && !Array.isArray(cur)) nodes.push(cur as Json);
  }
  return nodes;
}

function getIn(value: unknown, path: ReadonlyArray<string | number>): unknown {
  let cur = value;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

function article(t: string): string {
  if (t === 'null') return 'null';
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function example(schema: Json | undefined): string {
  if (!schema) return '…';
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return JSON.stringify(schema.enum[0]);
  switch (schema.type) {
    case 'array':
      return '[]';
    case 'object':
      return '{ … }';
    case 'integer':
    case 'number':
      return String(typeof schema.minimum === 'number' ? Math.max(schema.minimum, 1) : 1);
    case 'boolean':
      return 'false';
    case 'string':
      return schema.format === 'date-time' ? '"2026-01-05T09:00:00Z"' : '"…"';
    default:
      return '…';
  }
}

export interface SchemaFindingOptions {
  file: string;
  value: unknown;
  locate: (path: ReadonlyArray<string | number>, opts?: { key?: boolean }) => { line: number; column: number };
  schema: Json;
  /** Requirement id when no owned annotation applies. */
  requirement: string;
  /** `x-requirement` values this caller reports; others fall back to `requirement`. */
  ownedRequirements?: ReadonlySet<string>;
  /** Prefix for property paths in messages (e.g. "Capabilities[2]"). */
  severity?: Finding['severity'];
}

export function schemaFindings(errors: readonly ErrorObject[], o: SchemaFindingOptions): Finding[] {
  // Collapse anyOf/oneOf: keep the combinator error, drop its branch errors.
  const combinators = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const kept = errors.filter(
    (e) =>
      e.keyword !== 'if' &&
      (e.keyword === 'anyOf' ||
        e.keyword === 'oneOf' ||
        !combinators.some((c) => c.instancePath === e.instancePath && e.schemaPath.startsWith(`${c.schemaPath}/`))),
  );
  // propertyNames errors come twice (the inner keyword and propertyNames itself): keep the outer one.
  const filtered = kept.filter(
    (e) => !(e.propertyName !== undefined && e.keyword !== 'propertyNames' && kept.some((k) => k.keyword === 'propertyNames' && k.instancePath === e.instancePath)),
  );
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const e of filtered) {
    const f = oneFinding(e, o);
    const key = `${f.line}:${f.column}:${f.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

function requirementFor(e: ErrorObject, nodes: Json[], o: SchemaFindingOptions): string {
  const owned = o.ownedRequirements;
  const accept = (r: unknown): r is string => typeof r === 'string' && (!owned || owned.has(r));
  if (e.keyword === 'required') {
    const parent = nodes[nodes.length - 1];
    const props = parent?.properties as Record<string, Json> | undefined;
    const r = props?.[(e.params as { missingProperty: string }).missingProperty]?.['x-requirement'];
    if (accept(r)) return r;
  }
  for (let i = nodes.length - 1; i >= 1; i--) {
    const r = nodes[i]?.['x-requirement'];
    if (accept(r)) return r;
  }
  return o.requirement;
}

function oneFinding(e: ErrorObject, o: SchemaFindingOptions): Finding {
  const path = pointerToPath(e.instancePath);
  const nodes = schemaNodes(o.schema, e.schemaPath);
  // The schema node holding the failed keyword (schemaPath ends with the keyword).
  const owner = nodes[nodes.length - 1];
  const requirement = requirementFor(e, nodes, o);
  const where = displayPath(path);
  const q = path.length > 0 ? `\`${where}\`` : 'the top level of the file';
  const actual = getIn(o.value, path);
  let loc = o.locate(path);
  let message: string;
  let fix: string;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const missing = String(p.missingProperty);
      const propSchema = (owner?.properties as Record<string, Json> | undefined)?.[missing];
      const desc = typeof propSchema?.description === 'string' ? ` (${propSchema.description})` : '';
      message =
        path.length === 0
          ? `required property \`${missing}\` is missing`
          : `${q} is missing the required property \`${missing}\``;
      const cond = e.schemaPath.endsWith('/then/required') ? nodes[nodes.length - 2]?.if : undefined;
      if (cond && typeof cond === 'object') {
        const conds = Object.entries(((cond as Json).properties as Record<string, Json> | undefined) ?? {})
          .filter(([, v]) => 'const' in v)
          .map(([k, v]) => `${k} is ${JSON.stringify(v.const)}`);
        if (conds.length) message += ` (required when ${conds.join(' and ')})`;
      }
      fix = `add "${missing}": ${example(propSchema)}${desc}`;
      break;
    }
    case 'additionalProperties': {
      const extra = String(p.additionalProperty);
      const allowed = Object.keys((owner?.properties as Json | undefined) ?? {});
      const guess = closest(extra, allowed);
      const full = [...path, extra];
      loc = o.locate(full, { key: true });
      message = `unknown property \`${displayPath(full)}\``;
      fix = guess
        ? `did you mean \`${guess}\`? Rename the key to "${guess}"`
        : `remove it; allowed here: ${allowed.join(', ')}${owner?.patternProperties && '^x-' in (owner.patternProperties as Json) ? ' (or prefix it with "x-" to keep it as an extension)' : ''}`;
      break;
    }
    case 'type': {
      const t = String(p.type).split(',').map(article).join(' or ');
      message = `${q} must be ${t}, got ${describeValue(actual)}`;
      if (typeof actual === 'string' && /^-?\d+(\.\d+)?$/.test(actual) && /integer|number/.test(String(p.type))) {
        fix = `write the number without quotes: ${actual}`;
      } else if ((typeof actual === 'number' || typeof actual === 'boolean') && String(p.type).includes('string')) {
        fix = `put the value in double quotes: "${String(actual)}"`;
      } else if (p.type === 'boolean') {
        fix = typeof actual === 'string' && /^(true|false)$/i.test(actual) ? `write ${actual.toLowerCase()} without quotes` : 'write true or false (without quotes)';
      } else if (String(p.type).includes('array') && typeof actual === 'string') {
        fix = `wrap the value in a list: [${JSON.stringify(actual)}]`;
      } else {
        fix = `change the value to ${t}`;
      }
      break;
    }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]) ?? [];
      const guess = typeof actual === 'string' ? closest(actual, allowed.map(String)) : undefined;
      message = `${q} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}; got ${describeValue(actual)}`;
      fix = guess ? `use ${JSON.stringify(guess)}` : `use one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`;
      break;
    }
    case 'const':
      message = `${q} must be ${JSON.stringify(p.allowedValue)}, got ${describeValue(actual)}`;
      fix = `set it to ${JSON.stringify(p.allowedValue)}`;
      break;
    case 'pattern': {
      const desc = typeof owner?.description === 'string' ? owner.description : '';
      const isId = String(p.pattern).includes('A-Za-z0-9._-');
      const isPath = desc.includes('repo-relative');
      if (isPath) {
        message = `${q} ${describeValue(actual)} must be a repo-relative path that stays inside the repository (no leading "/", no drive letter, no "..")`;
        fix = 'write the path relative to the repository root, e.g. "src/module.py"';
        break;
      }
      message = isId
        ? `${q} ${describeValue(actual)} is not a safe id: use letters, digits, ".", "_" and "-", start with a letter or digit, at most 128 characters, no ".." or path separators`
        : `${q} ${describeValue(actual)} has the wrong form${desc ? `: ${desc}` : ''}`;
      fix = isId
        ? `rename it, e.g. ${JSON.stringify(String(actual ?? '').replace(/\.\.+/g, '.').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'task-1')}`
        : String(p.pattern).includes('(0|[1-9]') ? 'use a semantic version such as "1.2.0"' : `make it match ${String(p.pattern)}`;
      break;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const sym = { minimum: '≥', maximum: '≤', exclusiveMinimum: '>', exclusiveMaximum: '<' }[e.keyword];
      const typeWord = owner?.type === 'integer' ? 'an integer' : 'a number';
      message = `${q} must be ${typeWord} ${sym} ${String(p.limit)}, got ${describeValue(actual)}`;
      fix = `set it to a value ${sym} ${String(p.limit)}`;
      break;
    }
    case 'minLength':
      message = `${q} must not be empty`;
      fix = typeof owner?.description === 'string' ? `write a value: ${owner.description}` : 'write a non-empty value';
      break;
    case 'maxLength':
      message = `${q} is longer than ${String(p.limit)} characters`;
      fix = 'shorten it (put details in description)';
      break;
    case 'format':
      message = `${q} must be ${p.format === 'date-time' ? 'an ISO-8601 date-time with a timezone' : `in ${String(p.format)} format`}, got ${describeValue(actual)}`;
      fix = p.format === 'date-time' ? 'write it like "2026-01-05T09:00:00Z"' : `use a valid ${String(p.format)}`;
      break;
    case 'uniqueItems': {
      const i = Math.max(Number(p.i), Number(p.j));
      const j = Math.min(Number(p.i), Number(p.j));
      loc = o.locate([...path, i]);
      message = `${q} lists ${describeValue(getIn(actual, [i]))} twice (items ${j} and ${i})`;
      fix = `remove the repeated entry at position ${i}`;
      break;
    }
    case 'propertyNames': {
      const name = String(p.propertyName);
      loc = o.locate([...path, name], { key: true });
      message = `${q} has a key ${JSON.stringify(name)} that is not a valid id`;
      fix = 'use an id made of letters, digits, ".", "_" and "-"';
      break;
    }
    case 'anyOf':
    case 'oneOf': {
      const branches = ((owner?.[e.keyword] as Json[] | undefined) ?? []).map((b) =>
        Array.isArray(b.enum) ? b.enum.map((x) => JSON.stringify(x)).join(' or ') : b.type === 'integer' ? `a ${typeof b.minimum === 'number' && b.minimum >= 1 ? 'positive ' : ''}integer` : String(b.type ?? 'another form'),
      );
      message = `${q} must be ${branches.join(', or ')}; got ${describeValue(actual)}`;
      fix = `use ${branches.join(' or ')}`;
      break;
    }
    case 'minItems':
      message = `${q} must have at least ${String(p.limit)} item(s)`;
      fix = 'add the missing entries';
      break;
    default:
      message = `${q} ${e.message ?? 'is invalid'}`;
      fix = typeof owner?.description === 'string' ? `expected: ${owner.description}` : 'correct the value';
  }
  return { requirement, severity: o.severity ?? 'error', file: o.file, line: loc.line, column: loc.column, message, fix };
}
