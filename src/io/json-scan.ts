/**
 * Cheap structural checks over JSON text that `JSON.parse` cannot do itself:
 * duplicate keys, prototype-polluting keys and nesting depth, plus
 * offset → line/column conversion.
 *
 * Public API (internal, used by located-json.ts and the registry readers):
 *   FORBIDDEN_KEYS, offsetToLineColumn(text, offset), quickStructureCheck(text, value, maxDepth),
 *   scanStructure(text, maxDepth) → StructureProblem[].
 * Integration points: src/io/located-json.ts runs quickStructureCheck on every
 * file (a walk of the parsed value plus one native colon count) and falls back
 * to scanStructure (a tokenising pass that yields offsets) only when the quick
 * check says something is off.
 * Dependencies: none.
 */

/** Keys rejected in every user file: they can alter object prototypes when data is copied carelessly. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export interface LineColumn {
  line: number;
  column: number;
}

/** 1-based line and column (UTF-16 units, as editors count) of a string offset. */
export function offsetToLineColumn(text: string, offset: number): LineColumn {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  let idx = text.indexOf('\n');
  while (idx !== -1 && idx < end) {
    line++;
    lineStart = idx + 1;
    idx = text.indexOf('\n', lineStart);
  }
  return { line, column: end - lineStart + 1 };
}

export type QuickVerdict = 'clean' | 'suspect';

/**
 * Decide, without tokenising, whether `value` (the result of JSON.parse(text))
 * can hide a duplicate key, a forbidden key or excessive depth.
 *
 * Duplicate keys: in valid JSON each key is followed by exactly one `:` outside
 * strings, so (colons in the text) == (keys in the parsed value) + (colons
 * inside parsed strings and keys) exactly when no key was dropped by a
 * duplicate. `\u` escapes could encode a colon, so such texts are 'suspect'.
 */
export function quickStructureCheck(text: string, value: unknown, maxDepth: number): QuickVerdict {
  if (text.includes('\\u')) return 'suspect';
  const counted = countKeysAndColons(value, 1, maxDepth);
  return counted >= 0 && counted === colonsIn(text) ? 'clean' : 'suspect';
}

function colonsIn(s: string): number {
  let n = 0;
  for (let i = s.indexOf(':'); i !== -1; i = s.indexOf(':', i + 1)) n++;
  return n;
}

/** Keys + colons inside keys and strings; negative when a forbidden key or excessive depth is seen. */
function countKeysAndColons(v: unknown, depth: number, maxDepth: number): number {
  if (typeof v === 'string') return colonsIn(v);
  if (v === null || typeof v !== 'object') return 0;
  if (depth > maxDepth) return -1;
  let n = 0;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const c = countKeysAndColons(v[i], depth + 1, maxDepth);
      if (c < 0) return -1;
      n += c;
    }
    return n;
  }
  const obj = v as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') return -1;
    const c = countKeysAndColons(obj[key], depth + 1, maxDepth);
    if (c < 0) return -1;
    n += 1 + c + (key.includes(':') ? colonsIn(key) : 0);
  }
  return n;
}

export type StructureProblem =
  | { kind: 'duplicate'; key: string; offset: number; firstOffset: number }
  | { kind: 'forbidden'; key: string; offset: number }
  | { kind: 'depth'; depth: number; offset: number };

const TOKEN = /("(?:[^"\\]|\\.)*")(\s*:)?|[{}[\]]/gs;

/**
 * Tokenise syntactically valid JSON text and report every duplicate key (at
 * its second occurrence), every forbidden key, and the first bracket that
 * nests deeper than maxDepth (root container = depth 1). Offsets are string
 * offsets into `text`.
 */
export function scanStructure(text: string, maxDepth: number): StructureProblem[] {
  const problems: StructureProblem[] = [];
  const stack: Array<Map<string, number> | null> = [];
  let depthReported = false;
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m !== null; m = TOKEN.exec(text)) {
    const tok = m[0];
    if (m[1] !== undefined) {
      if (m[2] === undefined) continue; // a string value
      const raw = m[1];
      let key: string;
      try {
        key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
      } catch {
        key = raw.slice(1, -1);
      }
      const top = stack[stack.length - 1];
      if (FORBIDDEN_KEYS.has(key)) problems.push({ kind: 'forbidden', key, offset: m.index });
      if (top) {
        const first = top.get(key);
        if (first !== undefined) problems.push({ kind: 'duplicate', key, offset: m.index, firstOffset: first });
        else top.set(key, m.index);
      }
      continue;
    }
    if (tok === '{' || tok === '[') {
      stack.push(tok === '{' ? new Map() : null);
      if (stack.length > maxDepth && !depthReported) {
        depthReported = true;
        problems.push({ kind: 'depth', depth: stack.length, offset: m.index });
      }
    } else {
      stack.pop();
    }
  }
  return problems;
}
