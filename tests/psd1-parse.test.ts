import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePsd1 } from '../src/registry/psd1.js';

const D = 'tests/fixtures/registry/';
const parseFile = (name: string) => parsePsd1(readFileSync(D + name, 'utf8'), D + name, 'CAP-REG-001');

describe('PowerShell data-file parser', () => {
  it('reads every supported literal form', () => {
    const r = parseFile('syntax.psd1');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(JSON.parse(JSON.stringify(r.value))).toEqual({
      Bare: "single 'quoted' text",
      'Quoted Key': 'double "quoted" with \t tab, \n newline, $dollar, "doubled" and `backtick',
      Numbers: [1, -2, 3.5, -0.25, 1000, 31],
      Bools: [true, false, null, true],
      Multi: ['one', 'two', 'three'],
      Empty: [],
      EmptyTable: {},
      Bare_List: ['a', 'b'],
      Nested: { Inner: { Deep: 42 }, Second: 'x' },
      Here: 'literal $notAVariable\n  keeps \'quotes\' and "doubles"',
      HereDouble: 'tab\there $escaped',
    });
    expect(r.locate(['Nested', 'Inner', 'Deep'])).toEqual({ line: 16, column: 35 });
    expect(r.locate(['Multi', 2])).toEqual({ line: 11, column: 16 });
    expect(r.locate(['Here'], { key: true })).toEqual({ line: 17, column: 5 });
    // hashtables are null-prototype objects
    expect(Object.getPrototypeOf(r.value)).toBeNull();
  });

  const cases: Array<[string, string, RegExp]> = [
    ['bad-variable.psd1', '3:12', /literal data: variable \$env:HOME/],
    ['bad-subexpression.psd1', '2:18', /literal data: .*expands a variable or expression/],
    ['bad-command.psd1', '2:12', /literal data: "Get-Date" is not a literal/],
    ['bad-unclosed.psd1', '3:12', /array @\( is never closed/],
    ['bad-duplicate.psd1', '3:5', /duplicate key "name".*first at line 2, column 5/],
    ['bad-string.psd1', '2:12', /string ' is never closed/],
  ];
  for (const [file, where, message] of cases) {
    it(`refuses ${file} with a located error`, () => {
      const r = parseFile(file);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.requirement}`)).toEqual([`${D}${file}:${where} CAP-REG-001`]);
      expect(r.findings[0]!.message).toMatch(message);
      expect(r.findings[0]!.fix.length).toBeGreaterThan(5);
    });
  }

  it('handles separators, comments and CRLF in every position', () => {
    const r = parsePsd1("@{ a = 1; b = @(1,2\r\n,3) # c\r\n  <# x #> c = 'y' ; }\r\n", 'x.psd1', 'CAP-REG-001');
    expect(r.ok && JSON.parse(JSON.stringify(r.value))).toEqual({ a: 1, b: [1, 2, 3], c: 'y' });
    if (r.ok) expect(r.locate(['c'])).toEqual({ line: 3, column: 15 });
  });

  it('refuses prototype keys, scriptblocks, casts and trailing garbage', () => {
    for (const [text, re] of [
      ["@{ __proto__ = 'x' }", /not allowed/],
      ['@{ a = { 1 } }', /scriptblock/],
      ['@{ a = [int]5 }', /type casts/],
      ['@{ a = 1 } extra', /after the end of the data/],
      ['', /empty/],
      ['@{ a = @(1,) }', /trailing ","/],
    ] as const) {
      const r = parsePsd1(text, 'x.psd1', 'CAP-REG-001');
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect(r.findings[0]!.message, text).toMatch(re);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
