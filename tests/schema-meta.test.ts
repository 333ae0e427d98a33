// Every bundled schema is a valid draft 2020-12 schema (the runtime registry skips this meta-validation
// on start-up for speed, so it is checked here), and the runtime registry compiles each of them.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getValidator } from '../src/schema/registry.js';
import { PROJECT } from './fixtures/engine/build.js';

const requireCjs = createRequire(import.meta.url);

describe('bundled schemas', () => {
  it('pass draft 2020-12 meta-validation and compile in the runtime registry', () => {
    const { Ajv2020 } = requireCjs('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
    const addFormats = (requireCjs('ajv-formats') as { default: (a: unknown) => void }).default;
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    addFormats(ajv);
    ajv.addKeyword({ keyword: 'x-requirement', schemaType: 'string' });
    const files = readdirSync(join(PROJECT, 'schemas')).filter((f) => f.endsWith('.schema.json'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const schema = JSON.parse(readFileSync(join(PROJECT, 'schemas', f), 'utf8')) as object;
      expect(ajv.validateSchema(schema), `${f}: ${ajv.errorsText(ajv.errors)}`).toBe(true);
      ajv.addSchema(schema);
    }
    for (const f of files) {
      const [, kind, version] = /^([a-z-]+)\.v(\d+\.\d+\.\d+)\.schema\.json$/.exec(f)!;
      expect(typeof getValidator(kind!, version!), f).toBe('function');
    }
  });

  it('a broken schema is still refused by meta-validation (the check above can fail)', () => {
    const { Ajv2020 } = requireCjs('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
    const ajv = new Ajv2020({ strict: true });
    expect(ajv.validateSchema({ type: 'object', properties: { a: { type: 'strng' } } })).toBe(false);
  });
});
