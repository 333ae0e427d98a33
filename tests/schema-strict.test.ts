/**
 * Every schema in schemas/ compiles under ajv's strict mode (strict: true sets
 * strictSchema, strictTypes, strictTuples, strictRequired), with the annotation
 * keywords the registry registers (ANNOTATION_KEYWORDS, e.g. x-requirement),
 * each in a fresh instance so no schema leans on another's compilation; and an
 * unknown keyword is still refused, so the check can fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsPkg from 'ajv-formats';
import { ANNOTATION_KEYWORDS, addAnnotationKeywords } from '../src/schema/registry.js';

const DIR = join(__dirname, '..', 'schemas');
const files = readdirSync(DIR).filter((f) => f.endsWith('.schema.json')).sort();
const load = (f: string) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Record<string, unknown>;

function strictAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormatsPkg.default(ajv);
  addAnnotationKeywords(ajv);
  // $refs between our schemas resolve by $id: add all, compile one at a time.
  for (const f of files) ajv.addSchema(load(f));
  return ajv;
}

describe('schemas under ajv strict mode', () => {
  it('registers the annotation keywords our schemas use', () => {
    const used = new Set(files.flatMap((f) => [...readFileSync(join(DIR, f), 'utf8').matchAll(/"(x-[a-z-]+)"\s*:/g)].map((m) => m[1]!)));
    expect([...used].sort()).toEqual([...ANNOTATION_KEYWORDS].filter((k) => used.has(k)).sort());
    for (const k of used) expect(ANNOTATION_KEYWORDS).toContain(k);
  });

  it.each(files)('%s compiles with strict: true', (f) => {
    const ajv = strictAjv();
    const id = load(f).$id as string;
    expect(() => ajv.getSchema(id) ?? ajv.compile(load(f))).not.toThrow();
    expect(ajv.getSchema(id)).toBeTypeOf('function');
  });

  it('an unknown keyword is still refused in strict mode', () => {
    const ajv = strictAjv();
    expect(() => ajv.compile({ type: 'object', 'x-unknown-annotation': 1 })).toThrow(/unknown keyword/);
  });
});
