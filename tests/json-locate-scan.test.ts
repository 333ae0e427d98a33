// locatePath (a forward scan, no tree) places every value path exactly where @humanwhocodes/momoa's tree does:
// every path (and every key) of every JSON fixture, plus hand-made texts with CR/CRLF line ends, escapes,
// duplicate keys, non-BMP characters and paths that leave the document.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { DocumentNode, ValueNode } from '@humanwhocodes/momoa';
import { locatePath } from '../src/io/json-scan.js';

const momoa = createRequire(import.meta.url)('@humanwhocodes/momoa') as typeof import('@humanwhocodes/momoa');
type Path = Array<string | number>;
type At = { line: number; column: number };

/** The reference: walk momoa's tree (last duplicate wins; `key` → the member's key). */
function byTree(doc: DocumentNode, path: Path, key: boolean): At {
  let node: ValueNode = doc.body;
  let keyLoc: At | undefined;
  for (const seg of path) {
    keyLoc = undefined;
    let next: ValueNode | undefined;
    if (node.type === 'Object') {
      for (const m of node.members) {
        const name = m.name.type === 'String' ? m.name.value : m.name.name;
        if (name === String(seg)) {
          next = m.value;
          keyLoc = { line: m.name.loc.start.line, column: m.name.loc.start.column };
        }
      }
    } else if (node.type === 'Array') {
      next = node.elements[typeof seg === 'number' ? seg : Number(seg)]?.value;
    }
    if (!next) break;
    node = next;
  }
  if (key && keyLoc) return keyLoc;
  return { line: node.loc.start.line, column: node.loc.start.column };
}

/** Every path in the tree, plus a missing key and an out-of-range index under each container. */
function paths(node: ValueNode, prefix: Path, out: Path[]): Path[] {
  out.push(prefix);
  if (node.type === 'Object') {
    for (const m of node.members) paths(m.value, [...prefix, m.name.type === 'String' ? m.name.value : m.name.name], out);
    out.push([...prefix, 'no-such-key'], [...prefix, 'no-such-key', 0]);
  } else if (node.type === 'Array') {
    node.elements.forEach((el, i) => paths(el.value, [...prefix, i], out));
    out.push([...prefix, node.elements.length], [...prefix, 'x'], [...prefix, '0']);
  } else {
    out.push([...prefix, 'below-a-scalar']);
  }
  return out;
}

/** Compare every path; mismatches are collected (one expect per file keeps the test fast). */
function expectSame(text: string, label: string): number {
  const doc = momoa.parse(text, { mode: 'json' });
  const wrong: string[] = [];
  let n = 0;
  for (const p of paths(doc.body, [], [])) {
    for (const key of [false, true]) {
      const got = locatePath(text, p, { key });
      const want = byTree(doc, p, key);
      if (got.line !== want.line || got.column !== want.column) wrong.push(`${label} ${JSON.stringify(p)} key=${key}: ${got.line}:${got.column}, momoa ${want.line}:${want.column}`);
      n++;
    }
  }
  expect(wrong).toEqual([]);
  return n;
}

function jsonFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) jsonFiles(p, out);
    else if (name.endsWith('.json')) out.push(p);
  }
  return out;
}

describe('locatePath agrees with the momoa tree', () => {
  it('on every fixture JSON file that parses (every path, values and keys)', () => {
    let checked = 0;
    for (const file of [...jsonFiles('tests/fixtures'), ...jsonFiles('schemas')]) {
      if (statSync(file).size > 64 * 1024) continue; // the vendored SARIF schema: every path of it would be quadratic
      let text = readFileSync(file, 'utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      try {
        JSON.parse(text);
      } catch {
        continue; // the broken-syntax fixtures: never located by path
      }
      checked += expectSame(text, file);
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('on line ends, escapes, duplicates, nesting and non-BMP text', () => {
    const texts = [
      '{"a":1,"b":[1,2,{"c":"x"}]}',
      '{\r\n  "a": 1,\r\n  "b": {\r\n    "c": [true, false, null]\r\n  }\r\n}\r\n',
      '{\r  "a": 1,\r  "b": [\r 2 ]\r}',
      '{\n\t"k\\"ey": "va\\\\lue\\"", "k\\u0041": {"x": "\\\\"}, "next": [ ]\n}',
      '{"dup": 1, "dup": {"inner": 2}, "other": 3}',
      '{"emoji 😀": "😀😀", "after": ["😀", {"z": -1.5e3}]}',
      '  [ {"a":{}} , [ [ ] , [ "]" , "}" ] ] , "\\"" , 0 ]  ',
      '"just a string"',
      '42',
      '{"a": {"b": {"c": {"d": [[[["deep"]]]]}}}}',
      '{"": 1, "0": [10, 20], "__": {"": ""}}',
    ];
    for (const t of texts) expectSame(t, JSON.stringify(t));
  });
});
