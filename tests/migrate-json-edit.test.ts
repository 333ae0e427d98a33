import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyJsonEdits, detectStyle, reconcileJson } from '../src/migrate/json-edit.js';
import { diffLines, unifiedDiff } from '../src/migrate/diff.js';

describe('detectStyle', () => {
  it('finds 2/4/tab indentation, LF/CRLF, final newline and inline arrays', () => {
    expect(detectStyle('{\n  "a": 1\n}\n')).toMatchObject({ indent: '  ', newline: '\n', finalNewline: true });
    expect(detectStyle('{\r\n    "a": [\r\n        1\r\n    ]\r\n}')).toMatchObject({ indent: '    ', newline: '\r\n', finalNewline: false, inlineArrays: false });
    expect(detectStyle('{\n\t"a": ["x"]\n}\n')).toMatchObject({ indent: '\t', inlineArrays: true });
    expect(detectStyle('{"a":1}')).toMatchObject({ indent: '' });
  });
});

describe('applyJsonEdits', () => {
  it('replaces a value and keeps every other byte', () => {
    const text = '{\n  "b": 1.50,\n  "a": "x\\u0041",\n  "c": [1, 2]\n}\n';
    const out = applyJsonEdits(text, [{ op: 'set', path: ['a'], value: 'y' }]);
    expect(out).toBe('{\n  "b": 1.50,\n  "a": "y",\n  "c": [1, 2]\n}\n');
  });

  it('inserts after a named sibling with the sibling indentation', () => {
    const text = '{\n    "execution": {\n        "command": "x"\n    },\n    "state": {}\n}';
    const out = applyJsonEdits(text, [{ op: 'set', path: ['extra'], value: { n: 1 }, after: ['execution'] }]);
    expect(out).toBe('{\n    "execution": {\n        "command": "x"\n    },\n    "extra": {\n        "n": 1\n    },\n    "state": {}\n}');
  });

  it('creates missing parent objects and fills an empty object', () => {
    const out = applyJsonEdits('{\n  "a": {}\n}\n', [{ op: 'set', path: ['a', 'b', 'c'], value: true }]);
    expect(JSON.parse(out)).toEqual({ a: { b: { c: true } } });
    expect(out).toBe('{\n  "a": {\n    "b": {\n      "c": true\n    }\n  }\n}\n');
  });

  it('removes first, middle, last and only members without leaving commas', () => {
    const text = '{\n  "a": 1,\n  "b": 2,\n  "c": 3\n}\n';
    expect(applyJsonEdits(text, [{ op: 'remove', path: ['a'] }])).toBe('{\n  "b": 2,\n  "c": 3\n}\n');
    expect(applyJsonEdits(text, [{ op: 'remove', path: ['b'] }])).toBe('{\n  "a": 1,\n  "c": 3\n}\n');
    expect(applyJsonEdits(text, [{ op: 'remove', path: ['c'] }])).toBe('{\n  "a": 1,\n  "b": 2\n}\n');
    expect(applyJsonEdits('{"only": 1}', [{ op: 'remove', path: ['only'] }])).toBe('{}');
  });

  it('keeps one-line objects on one line inside a pretty file', () => {
    const text = '{\n\t"wr": {"capabilities": ["python"]},\n\t"ex": {"command": "x", "n": 1}\n}';
    const out = applyJsonEdits(text, [
      { op: 'set', path: ['wr', 'min_version'], value: '1.0.0' },
      { op: 'set', path: ['ex', 'command'], value: { argv: ['a', 'b'] } },
    ]);
    expect(out).toBe('{\n\t"wr": {"capabilities": ["python"], "min_version": "1.0.0"},\n\t"ex": {"command": {"argv": ["a", "b"]}, "n": 1}\n}');
  });

  it('edits compact one-line documents compactly', () => {
    expect(applyJsonEdits('{"a":1}', [{ op: 'set', path: ['b'], value: [1] }])).toBe('{"a":1,"b":[1]}');
  });

  it('keeps a BOM and refuses invalid JSON', () => {
    const out = applyJsonEdits('\ufeff{\n  "a": 1\n}\n', [{ op: 'set', path: ['a'], value: 2 }]);
    expect(out).toBe('\ufeff{\n  "a": 2\n}\n');
    expect(() => applyJsonEdits('{"a": 1,}', [{ op: 'set', path: ['a'], value: 2 }])).toThrow(/not valid JSON/);
  });
});

describe('reconcileJson', () => {
  it('round-trips: adding then removing the same members restores the bytes', () => {
    const original = '{\r\n    "x-keep": {"deep": [1, 2]},\r\n    "execution": {"command": "c"},\r\n    "state": {}\r\n}\r\n';
    const value = JSON.parse(original);
    const target = { 'x-keep': value['x-keep'], execution: value.execution, added: { list: ['a', 'b'] }, more: 1, state: {} };
    const up = reconcileJson(original, target).text;
    expect(JSON.parse(up)).toEqual(target);
    expect(Object.keys(JSON.parse(up))).toEqual(['x-keep', 'execution', 'added', 'more', 'state']);
    expect(up).not.toMatch(/[^\r]\n/); // CRLF kept throughout
    expect(reconcileJson(up, value).text).toBe(original);
  });

  it('is a no-op when the value already matches (number spelling kept)', () => {
    const text = '{ "n": 1.0, "e": 1e3 }';
    expect(reconcileJson(text, { n: 1, e: 1000 }).text).toBe(text);
  });

  it('uses placement hints for new members', () => {
    const text = '{\n  "a": 1,\n  "b": 2,\n  "c": 3\n}';
    const out = reconcileJson(text, { a: 1, b: 2, c: 3, n: 0 }, { placement: { n: ['a'] } }).text;
    expect(out).toBe('{\n  "a": 1,\n  "n": 0,\n  "b": 2,\n  "c": 3\n}');
  });
});

describe('unified diff', () => {
  it('matches diff -u hunks for a change in a long file', () => {
    const a = Array.from({ length: 40 }, (_, i) => `line ${i}\n`).join('');
    const b = a.replace('line 5\n', 'line five\n').replace('line 30\n', '').replace('line 39\n', 'line 39\nline 40\n');
    const dir = mkdtempSync(join(tmpdir(), 'orc-diff-'));
    writeFileSync(join(dir, 'a'), a);
    writeFileSync(join(dir, 'b'), b);
    let expected = '';
    try {
      execFileSync('diff', ['-u', join(dir, 'a'), join(dir, 'b')], { encoding: 'utf8' });
    } catch (error) {
      expected = (error as { stdout: string }).stdout;
    }
    const ours = unifiedDiff(a, b, { oldName: 'a', newName: 'b' });
    const hunks = (s: string) => s.split('\n').filter((l) => !l.startsWith('---') && !l.startsWith('+++'));
    expect(hunks(ours)).toEqual(hunks(expected));
  });

  it('marks a missing final newline and is empty for equal texts', () => {
    expect(unifiedDiff('x', 'x', { oldName: 'a', newName: 'b' })).toBe('');
    expect(unifiedDiff('a\nb', 'a\nc', { oldName: 'a', newName: 'b' })).toBe('--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n');
  });

  it('produces a minimal edit script', () => {
    const ops = diffLines(['a', 'b', 'c', 'a', 'b', 'b', 'a'], ['c', 'b', 'a', 'b', 'a', 'c']);
    expect(ops.filter((o) => o.kind !== ' ').length).toBe(5); // Myers' example: D = 5
  });
});
