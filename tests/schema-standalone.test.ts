// The build-time standalone validators (scripts/build-validators.ts) give exactly the verdicts and errors of a
// fresh ajv compile of schemas/, on every JSON document and JSON-lines record the fixtures and the repo hold,
// against every schema; a generated file whose fingerprint is not that of the schemas on disk is not used.
// The date-time format's remembered last verdict gives the same verdicts and errors on runs of repeated,
// alternating and invalid timestamps; its character-code check of the engine's form gives ajv-formats' verdict on
// every date of a leap and a common year (and days 0, 32), every hour, minute and second in and out of range.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { DATE_TIME_CHECK, UUID_CHECK, generateValidatorSources, writeValidators } from '../scripts/build-validators.js';
import { createSchemaAjv, getValidator, loadStandalone, schemaEntries, schemaId, schemasFingerprint, standaloneFile } from '../src/schema/registry.js';

// Inside the package, so the generated code's require('ajv-formats/dist/formats') resolves as it does from dist/.
const DIR = join('test-artifacts', `standalone-${process.pid}`);
mkdirSync(DIR, { recursive: true });
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

function documents(dir: string, out: unknown[] = []): unknown[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) documents(p, out);
    else if (st.size > 256 * 1024) continue;
    else if (name.endsWith('.json')) {
      try {
        out.push(JSON.parse(readFileSync(p, 'utf8')));
      } catch {
        /* broken-syntax fixtures */
      }
    } else if (name.endsWith('.jsonl')) {
      for (const line of readFileSync(p, 'utf8').split('\n').slice(0, 200)) {
        try {
          out.push(JSON.parse(line));
        } catch {
          /* torn or corrupt lines */
        }
      }
    }
  }
  return out;
}

describe('standalone validators', () => {
  const dir = join(process.cwd(), DIR, 'validators');
  const written = writeValidators(dir);

  it('match a fresh ajv compile, verdict and errors, on every fixture document against every schema', () => {
    expect(written).toBe(schemaEntries().length);
    const ajv = createSchemaAjv();
    const base = [...documents('tests/fixtures'), ...documents('tasks'), ...documents('.state'), ...documents('capabilities')];
    expect(base.length).toBeGreaterThan(100);
    // Every object also with keys a closed schema does not list, some of them Object.prototype's own names:
    // the inlined key comparisons (inlineKnownProperties) must refuse exactly what hasOwnProperty refused.
    const extraKeys = ['x-extra', 'constructor', 'toString', 'hasOwnProperty', '__proto__', ''];
    const withExtra = (v: unknown, depth = 0): unknown => {
      if (depth > 3 || v === null || typeof v !== 'object') return v;
      if (Array.isArray(v)) return v.slice(0, 3).map((x) => withExtra(x, depth + 1));
      const out: Record<string, unknown> = JSON.parse('{"__proto__": 1}') as Record<string, unknown>; // an own __proto__ key, as JSON.parse makes it
      for (const [k, x] of Object.entries(v)) out[k] = withExtra(x, depth + 1);
      out[extraKeys[depth % extraKeys.length]!] = 1;
      return out;
    };
    // Every array of strings with an item repeated, or with two "__proto__" / "constructor" items: the Map form of
    // uniqueItems (uniqueStringsInMaps) must report exactly the repeats ajv's object form reports.
    const withRepeats = (v: unknown, extra: (a: string[]) => string[], depth = 0): unknown => {
      if (depth > 4 || v === null || typeof v !== 'object') return v;
      if (Array.isArray(v)) return v.length > 0 && v.every((x) => typeof x === 'string') ? extra(v as string[]) : v.map((x) => withRepeats(x, extra, depth + 1));
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withRepeats(x, extra, depth + 1)]));
    };
    const repeats = [(a: string[]) => [...a, a[0]!], (a: string[]) => [...a, '__proto__', '__proto__'], (a: string[]) => ['constructor', ...a, 'constructor'], (a: string[]) => [...a, 'toString']];
    const docs = [...base, ...base.slice(0, 400).map((d) => withExtra(d)), ...repeats.flatMap((r) => base.slice(0, 300).map((d) => withRepeats(d, r)))];
    const differ: string[] = [];
    let valid = 0;
    for (const { kind, version } of schemaEntries()) {
      const id = schemaId(kind, version);
      const fresh = ajv.getSchema(id)!;
      const built = loadStandalone(dir, kind, version);
      expect(typeof built, id).toBe('function');
      for (const doc of docs) {
        const a = fresh(doc) as boolean;
        const b = built!(doc) as boolean;
        if (a) valid++;
        const ea = JSON.stringify(fresh.errors ?? null);
        const eb = JSON.stringify(built!.errors ?? null);
        if (a !== b || ea !== eb) differ.push(`${id}: ${a}/${b} ${ea.slice(0, 200)} vs ${eb.slice(0, 200)}`);
      }
    }
    expect(differ).toEqual([]);
    expect(valid).toBeGreaterThan(20); // valid documents too, not only refusals
  });

  it('are ignored when generated from other schemas (stale fingerprint) or when the file is missing', () => {
    const stale = join(process.cwd(), DIR, 'stale');
    mkdirSync(stale, { recursive: true });
    const name = standaloneFile('task', '2.0.0');
    writeFileSync(join(stale, name), generateValidatorSources().get(name)!.replace(schemasFingerprint(), 'not-these-schemas'));
    expect(loadStandalone(stale, 'task', '2.0.0')).toBeNull();
    expect(loadStandalone(stale, 'task', '2.1.0')).toBeNull();
  });

  it('remember the last date-time verdict without changing any verdict or error (repeats, alternations, invalid dates)', () => {
    const ajv = createSchemaAjv();
    const fresh = ajv.getSchema(schemaId('event', '2.0.0'))!;
    const built = loadStandalone(dir, 'event', '2.0.0')!;
    expect(readFileSync(join(dir, standaloneFile('event', '2.0.0')), 'utf8')).toContain('if (s === last) return ok;');
    const event = (timestamp: unknown) => ({
      schema_version: '2.0.0',
      seq: 1,
      event_id: '1c83f5d5-0e2d-4da7-ae87-84f7764b7c5f',
      timestamp,
      event: 'workstream_created',
      trigger: 'workstream_created',
      entity_type: 'workstream',
      entity_id: 'ws-000',
      workstream_id: 'ws-000',
      from_state: null,
      to_state: 'planned',
      severity: 'info',
      caused_by: null,
      metadata: {},
      actor: 'test',
    });
    const ok = '2026-12-01T23:07:41.189Z';
    const feb30 = '2026-02-30T10:00:00.000Z'; // the pattern accepts it, the date-time format does not
    const hour25 = '2026-01-31T25:00:00.000Z';
    const sequence = [ok, ok, feb30, feb30, ok, feb30, hour25, hour25, ok, '2028-02-29T00:00:00.000Z', '2027-02-29T00:00:00.000Z', '2027-02-29T00:00:00.000Z', 'not a date', 42, ok];
    let invalid = 0;
    for (const ts of sequence) {
      const a = fresh(event(ts)) as boolean;
      const b = built(event(ts)) as boolean;
      expect(b, String(ts)).toBe(a);
      expect(JSON.stringify(built.errors ?? null), String(ts)).toBe(JSON.stringify(fresh.errors ?? null));
      if (!a) invalid++;
    }
    expect(invalid).toBe(9);
  });

  it("judge the engine's timestamp form from character codes exactly as ajv-formats does", () => {
    const library = (createRequire(import.meta.url)('ajv-formats/dist/formats') as { fullFormats: Record<string, { validate(s: string): boolean }> }).fullFormats['date-time']!;
    // Each check gets a fresh wrapper call sequence; a new wrapper per case keeps the remembered verdict out of it.
    const wrap = new Function(`return ${DATE_TIME_CHECK}`)() as (f: typeof library) => { validate(s: unknown): boolean };
    const ours = wrap(library);
    const p2 = (n: number) => String(n).padStart(2, '0');
    const cases: string[] = [];
    for (const year of ['2024', '2026', '1900', '2000', '0000', '9999'])
      for (let month = 0; month <= 13; month++) for (let day = 0; day <= 32; day++) cases.push(`${year}-${p2(month)}-${p2(day)}T12:00:00.000Z`);
    for (let h = 0; h <= 25; h++) for (let mi = 0; mi <= 61; mi++) for (const sec of ['00', '30', '59', '60', '61', '99']) for (const ms of ['000', '999']) cases.push(`2026-06-30T${p2(h)}:${p2(mi)}:${sec}.${ms}Z`);
    // Near the form: other separators, case, offsets, digits, lengths (these go to ajv-formats itself).
    cases.push('2026-06-30t12:00:00.000Z', '2026-06-30T12:00:00.000z', '2026-06-30 12:00:00.000Z', '2026-06-30T12:00:00.000+01:00', '2026-06-30T12:00:00Z', '2026-06-30T12:00:00.0000Z', '2026-06-3aT12:00:00.000Z', '2026-06-30T12:0a:00.000Z', '+2026-06-30T12:00:00.00Z', '2026/06/30T12:00:00.000Z', '2026-06-30T12:00:00,000Z', '2026-06-30T23:59:60.999Z', '2026-06-30T23:59:61.000Z', '');
    let accepted = 0;
    for (const c of cases) {
      expect(ours.validate(c), c).toBe(library.validate(c));
      expect(wrap(library).validate(c), c).toBe(library.validate(c)); // without a remembered verdict
      if (library.validate(c)) accepted++;
    }
    expect(accepted).toBeGreaterThan(1000); // the grid holds both verdicts in number
    expect(cases.length - accepted).toBeGreaterThan(1000);
  });

  it("accept the common uuid form from a table exactly where ajv-formats' regexp does", () => {
    const library = (createRequire(import.meta.url)('ajv-formats/dist/formats') as { fullFormats: { uuid: RegExp } }).fullFormats.uuid;
    const ours = (new Function(`return ${UUID_CHECK}`)() as (re: RegExp) => { test(s: unknown): boolean })(library);
    const good = '1c83f5d5-0e2d-4da7-ae87-84f7764b7c5f';
    const cases: string[] = [good, good.toUpperCase(), `urn:uuid:${good}`, `URN:UUID:${good}`, good.slice(1), `${good}0`, '', '-'.repeat(36)];
    // Every position replaced by every character that matters: hex digits of both cases, their neighbours, dashes, non-ASCII.
    for (let i = 0; i < 36; i++) for (const c of ['0', '9', 'a', 'f', 'A', 'F', 'g', 'G', '/', ':', '@', '`', '-', ' ', 'é', '\u0130', '\u212a']) cases.push(good.slice(0, i) + c + good.slice(i + 1));
    let accepted = 0;
    for (const c of cases) {
      expect(ours.test(c), c).toBe(library.test(c));
      if (library.test(c)) accepted++;
    }
    expect(accepted).toBeGreaterThan(100);
    expect(cases.length - accepted).toBeGreaterThan(100);
  });

  it('count string lengths in code points as ajv does, walking a string only when its UTF-16 length cannot decide', () => {
    const ajv = createSchemaAjv();
    const fresh = ajv.getSchema(schemaId('event', '2.0.0'))!;
    const built = loadStandalone(dir, 'event', '2.0.0')!;
    expect(readFileSync(join(dir, standaloneFile('event', '2.0.0')), 'utf8')).toContain('.length > 256 && func1(');
    const astral = '\u{1F600}'; // two UTF-16 units, one code point
    // entity_id: minLength 1, maxLength 256; actor: minLength 1.
    const ids = ['', 'a', astral, 'a'.repeat(256), 'a'.repeat(257), astral.repeat(256), astral.repeat(257), astral.repeat(128) + 'a'.repeat(128), astral.repeat(129) + 'a'.repeat(128), '\ud800', '\ud800'.repeat(257)];
    for (const entity_id of ids)
      for (const actor of ['', 'x', astral]) {
        const event = { schema_version: '2.0.0', seq: 1, event_id: '1c83f5d5-0e2d-4da7-ae87-84f7764b7c5f', timestamp: '2026-01-31T12:00:00.000Z', event: 'workstream_created', trigger: 'workstream_created', entity_type: 'workstream', entity_id, workstream_id: null, from_state: null, to_state: 'planned', severity: 'info', caused_by: null, metadata: {}, actor };
        expect(built(event), `${entity_id.length} units / ${actor}`).toBe(fresh(event));
        expect(JSON.stringify(built.errors ?? null)).toBe(JSON.stringify(fresh.errors ?? null));
      }
  });

  it('skip a nullable anyOf for null only, with the verdicts and errors of a fresh compile for every other value', () => {
    const ajv = createSchemaAjv();
    const fresh = ajv.getSchema(schemaId('event', '2.0.0'))!;
    const built = loadStandalone(dir, 'event', '2.0.0')!;
    expect(readFileSync(join(dir, standaloneFile('event', '2.0.0')), 'utf8')).toMatch(/if\(data\d+ !== null\)\{const _errs\d+ = errors;let valid\d+ = false;/);
    let invalid = 0;
    for (const caused_by of [null, '1c83f5d5-0e2d-4da7-ae87-84f7764b7c5f', 'not-a-uuid', '', 5, 0, false, true, {}, [], [null], 'null']) {
      const event = { schema_version: '2.0.0', seq: 2, event_id: '2c83f5d5-0e2d-4da7-ae87-84f7764b7c5f', timestamp: '2026-01-31T12:00:00.000Z', event: 'workstream_created', trigger: 'workstream_created', entity_type: 'workstream', entity_id: 'ws', workstream_id: null, from_state: null, to_state: 'planned', severity: 'info', caused_by, metadata: {}, actor: 'test' };
      // A previous record's errors must survive a skipped block too: validate an invalid event first.
      built({ ...event, seq: 0 });
      fresh({ ...event, seq: 0 });
      const a = fresh(event) as boolean;
      expect(built(event), JSON.stringify(caused_by)).toBe(a);
      expect(JSON.stringify(built.errors ?? null), JSON.stringify(caused_by)).toBe(JSON.stringify(fresh.errors ?? null));
      if (!a) invalid++;
    }
    expect(invalid).toBe(10);
  });

  it('getValidator keeps the schema document readable on the validator', () => {
    const v = getValidator('worker-output', '1.0.0')!;
    expect((v.schema as { $id?: string }).$id).toBe(schemaId('worker-output', '1.0.0'));
  });
});
