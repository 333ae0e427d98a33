import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { locateInText, parseJsonText, readJsonFile, type JsonRead } from '../src/io/located-json.js';
import { quickStructureCheck, scanStructure } from '../src/io/json-scan.js';

const DIR = 'tests/fixtures/json';
const read = (name: string, opts = {}): JsonRead => readJsonFile(join(DIR, name), `${DIR}/${name}`, opts);

function failure(r: JsonRead) {
  if (r.ok) throw new Error('expected a failed read');
  return r.findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.requirement} ${f.severity}`);
}

const tmp = mkdtempSync(join(tmpdir(), 'orc-json-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('readJsonFile: bad input classes, located', () => {
  it('malformed JSON (missing comma) points at the next property', () => {
    const r = read('malformed.json');
    expect(failure(r)).toEqual([`${DIR}/malformed.json:3:3 TASK-DEF-002 error`]);
    expect(r.ok || r.findings[0]!.fix).toMatch(/","/);
  });

  it('trailing comma is named as such, at the comma', () => {
    const r = read('trailing-comma.json');
    expect(failure(r)).toEqual([`${DIR}/trailing-comma.json:3:13 TASK-DEF-002 error`]);
    expect(r.ok || r.findings[0]!.message).toMatch(/trailing comma/);
  });

  it('BOM is stripped with a warning and the file still loads', () => {
    const r = read('bom.json');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toEqual({ a: 1 });
    expect(r.notices.map((n) => `${n.line}:${n.column} ${n.severity}`)).toEqual(['1:1 warning']);
    expect(r.notices[0]!.message).toMatch(/byte-order mark/);
    expect(r.locate(['a'])).toEqual({ line: 2, column: 8 });
  });

  it('CRLF files load and report correct lines and columns', () => {
    const r = read('crlf.json');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.locate(['b', 'c'])).toEqual({ line: 4, column: 10 });
    expect(r.locate(['b'], { key: true })).toEqual({ line: 3, column: 3 });
  });

  it('duplicate key is reported at the second occurrence, naming the first', () => {
    const r = read('duplicate-key.json');
    expect(failure(r)).toEqual([`${DIR}/duplicate-key.json:5:5 TASK-DEF-002 error`]);
    expect(r.ok || r.findings[0]!.message).toMatch(/first defined at line 4, column 5/);
  });

  it('__proto__ key is rejected and Object.prototype stays untouched', () => {
    const r = read('proto-key.json');
    expect(failure(r)).toEqual([`${DIR}/proto-key.json:3:3 TASK-DEF-002 error`]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('constructor and prototype keys are rejected, each located', () => {
    const r = read('constructor-key.json');
    expect(failure(r)).toEqual([`${DIR}/constructor-key.json:3:5 TASK-DEF-002 error`, `${DIR}/constructor-key.json:3:22 TASK-DEF-002 error`]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('nesting over the depth limit is refused at the first bracket too deep', () => {
    expect(failure(read('deep.json'))).toEqual([`${DIR}/deep.json:1:65 TASK-DEF-002 error`]);
    expect(failure(read('deep.json', { maxDepth: 10 }))).toEqual([`${DIR}/deep.json:1:11 TASK-DEF-002 error`]);
    expect(read('deep.json', { maxDepth: 70 }).ok).toBe(true);
  });

  it('empty file', () => {
    expect(failure(read('empty.json'))).toEqual([`${DIR}/empty.json:1:1 TASK-DEF-002 error`]);
  });

  it('non-UTF-8 bytes are located at the first bad byte', () => {
    const r = read('non-utf8.json');
    expect(failure(r)).toEqual([`${DIR}/non-utf8.json:2:15 TASK-DEF-002 error`]);
    expect(r.ok || r.findings[0]!.message).toMatch(/0xe9/);
  });

  it('raw tab inside a string (accepted by lenient parsers) is refused like JSON.parse does', () => {
    expect(failure(read('raw-tab.json'))).toEqual([`${DIR}/raw-tab.json:2:12 TASK-DEF-002 error`]);
  });

  it('truncated file', () => {
    expect(failure(read('truncated.json'))).toEqual([`${DIR}/truncated.json:3:1 TASK-DEF-002 error`]);
  });

  it('file over the size limit is not read', () => {
    const big = join(tmp, 'big.json');
    writeFileSync(big, `{"a": "${'x'.repeat(1024 * 1024)}"}`);
    const r = readJsonFile(big, 'big.json');
    expect(failure(r)).toEqual(['big.json:1:1 TASK-DEF-002 error']);
    expect(r.ok || r.findings[0]!.message).toMatch(/over the 1048576-byte limit/);
    expect(readJsonFile(big, 'big.json', { maxBytes: 2 * 1024 * 1024 }).ok).toBe(true);
  });

  it('a missing file is a finding, not a throw', () => {
    expect(failure(readJsonFile(join(tmp, 'nope.json'), 'nope.json'))).toEqual(['nope.json:1:1 TASK-DEF-002 error']);
  });

  it('uses the requirement id the caller gives', () => {
    const r = readJsonFile(join(DIR, 'empty.json'), 'x.json', { requirement: 'CAP-REG-001' });
    expect(r.ok || r.findings[0]!.requirement).toBe('CAP-REG-001');
  });
});

describe('structure checks', () => {
  it('duplicates hidden behind colons inside strings or \\u escapes are still found', () => {
    for (const text of ['{"a": "x:y", "a": "z"}', '{"a": "\\u003a", "a": 1}', '{"k\\u003a": 1, "k:": 2}']) {
      const r = parseJsonText(text, 'f.json');
      expect(r.ok, text).toBe(false);
    }
  });

  it('the quick check agrees with the full scan on clean and dirty inputs', () => {
    const clean = ['{"a": "x:y", "b": {"c:d": [1, {"e": "f:"}]}}', '[]', '{"x": "\\"a\\": 1"}', '{"url": "http://x:80/"}'];
    for (const text of clean) {
      expect(quickStructureCheck(text, JSON.parse(text), 64), text).toBe('clean');
      expect(scanStructure(text, 64), text).toEqual([]);
    }
    const dirty = ['{"a": 1, "a": 1}', '{"b": {"c": 1, "c": 2}}', '[{"x": 1, "x": ":"}]'];
    for (const text of dirty) {
      expect(quickStructureCheck(text, JSON.parse(text), 64), text).toBe('suspect');
      expect(scanStructure(text, 64).map((p) => p.kind), text).toEqual(['duplicate']);
    }
  });

  it('locateInText maps value paths, array indexes and keys', () => {
    const text = '{\n  "deps": ["a", "b"],\n  "x": { "y": 1 }\n}';
    expect(locateInText(text, ['deps', 1])).toEqual({ line: 2, column: 17 });
    expect(locateInText(text, ['x', 'y'], { key: true })).toEqual({ line: 3, column: 10 });
    // a path that does not exist stops at the deepest existing node
    expect(locateInText(text, ['x', 'missing'])).toEqual({ line: 3, column: 8 });
  });
});
