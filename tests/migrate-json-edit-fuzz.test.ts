import { describe, expect, it } from 'vitest';
import { reconcileJson } from '../src/migrate/json-edit.js';
import { rng } from '../src/util/random.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function randomValue(r: () => number, depth: number): Json {
  const k = r();
  if (depth > 2 || k < 0.4) {
    const p = r();
    if (p < 0.25) return Math.floor(r() * 1000);
    if (p < 0.5) return `s${Math.floor(r() * 100)}`;
    if (p < 0.7) return r() < 0.5;
    if (p < 0.8) return null;
    return 'x "quoted" \\ é';
  }
  if (k < 0.65) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  const obj: Record<string, Json> = {};
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) obj[`k${Math.floor(r() * 20)}`] = randomValue(r, depth + 1);
  return obj;
}

function mutate(r: () => number, value: Json, depth: number): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return r() < 0.3 ? randomValue(r, depth) : value;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) {
    const p = r();
    if (p < 0.15) continue; // removed
    out[k] = p < 0.5 ? mutate(r, v, depth + 1) : v;
    if (r() < 0.15) out[`n${Math.floor(r() * 50)}`] = randomValue(r, depth + 1); // inserted after k
  }
  if (r() < 0.3) out[`tail${Math.floor(r() * 9)}`] = randomValue(r, depth + 1);
  return out;
}

function render(r: () => number, value: Json): string {
  const style = Math.floor(r() * 4);
  if (style === 0) return JSON.stringify(value);
  if (style === 1) return `${JSON.stringify(value, null, 2)}\n`;
  if (style === 2) return `${JSON.stringify(value, null, 4).replace(/\n/g, '\r\n')}\r\n`;
  return JSON.stringify(value, null, '\t');
}

describe('reconcileJson (randomised)', () => {
  it('always yields the target value, keeps the newline style, and round-trips back to the same bytes', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const r = rng(seed);
      const base: Record<string, Json> = { a: 1, ...(randomValue(r, 0) as object) };
      const text = render(r, base);
      const target = mutate(r, base, 0);
      const out = reconcileJson(text, target).text;
      expect(JSON.parse(out), `seed ${seed}`).toEqual(target);
      if (text.includes('\r\n')) expect(out.replace(/\r\n/g, '').includes('\n'), `seed ${seed} CRLF`).toBe(false);
      else expect(out.includes('\r'), `seed ${seed} LF`).toBe(false);
      expect(/\r?\n$/.test(out), `seed ${seed} final newline`).toBe(/\r?\n$/.test(text));
      // Undoing the edit restores the original bytes when only members were added (the migration case).
      const addOnly = { ...base, added: { list: ['a', 'b'], n: 1 } };
      const up = reconcileJson(text, addOnly).text;
      expect(reconcileJson(up, base).text, `seed ${seed} round trip`).toBe(text);
    }
  });
});
