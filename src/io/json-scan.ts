/**
 * Cheap structural checks over JSON text that `JSON.parse` cannot do itself:
 * duplicate keys, prototype-polluting keys and nesting depth, plus
 * offset → line/column conversion.
 *
 * Public API (internal, used by located-json.ts and the registry readers):
 *   FORBIDDEN_KEYS, offsetToLineColumn(text, offset), quickStructureCheck(text, value, maxDepth),
 *   scanStructure(text, maxDepth) → StructureProblem[],
 *   locatePath(text, path, opts?) → LineColumn (where a value path starts in valid JSON text,
 *   as @humanwhocodes/momoa's tree places it, without building a tree: one forward scan that
 *   skips every value off the path; tests/json-locate-scan.test.ts holds it to momoa).
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
  // for-in allocates no key array; an inherited enumerable key (a polluted prototype) only makes the count
  // differ, and a differing count sends the text to the exact scan.
  for (const key in obj) {
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

const C_QUOTE = 0x22;
const C_BACKSLASH = 0x5c;
const C_LBRACE = 0x7b;
const C_RBRACE = 0x7d;
const C_LBRACKET = 0x5b;
const C_RBRACKET = 0x5d;
const C_COMMA = 0x2c;
const C_CR = 0x0d;
const C_LF = 0x0a;

function skipWs(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === C_LF || c === C_CR || c === 0x09) i++;
    else return i;
  }
}

/** Offset just past the string starting at `i` (text[i] is the opening quote). */
function skipString(text: string, i: number): number {
  for (let k = i + 1; ; ) {
    const q = text.indexOf('"', k);
    if (q < 0) return text.length;
    // an even number of backslashes before the quote: it closes the string
    let b = q - 1;
    while (text.charCodeAt(b) === C_BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1;
    k = q + 1;
  }
}

/** Offset just past the value starting at `i`. */
function skipValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === C_QUOTE) return skipString(text, i);
  if (c !== C_LBRACE && c !== C_LBRACKET) {
    let k = i;
    for (;;) {
      const d = text.charCodeAt(k);
      if (Number.isNaN(d) || d === C_COMMA || d === C_RBRACE || d === C_RBRACKET || d === 0x20 || d === C_LF || d === C_CR || d === 0x09) return k;
      k++;
    }
  }
  let depth = 0;
  for (let k = i; k < text.length; k++) {
    const d = text.charCodeAt(k);
    if (d === C_QUOTE) k = skipString(text, k) - 1;
    else if (d === C_LBRACE || d === C_LBRACKET) depth++;
    else if (d === C_RBRACE || d === C_RBRACKET) {
      if (--depth === 0) return k + 1;
    }
  }
  return text.length;
}

/** 1-based line and column of an offset, counting CR LF, CR and LF each as one line break (as momoa does). */
function lineColumnAt(text: string, offset: number): LineColumn {
  let line = 1;
  let lineStart = 0;
  for (let k = 0; k < offset; k++) {
    const c = text.charCodeAt(k);
    if (c === C_LF) {
      line++;
      lineStart = k + 1;
    } else if (c === C_CR) {
      if (text.charCodeAt(k + 1) === C_LF) k++;
      line++;
      lineStart = k + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Where the value at `path` starts in syntactically valid JSON `text` (no BOM), 1-based.
 * A path that leaves the document stops at the deepest value it reached; the last of
 * duplicate keys wins (as in JSON.parse); `key: true` points at the member's key instead
 * (when the path ends on an object member).
 */
export function locatePath(text: string, path: ReadonlyArray<string | number>, opts?: { key?: boolean }): LineColumn {
  let at = skipWs(text, 0);
  let keyAt = -1;
  for (const seg of path) {
    keyAt = -1;
    const c = text.charCodeAt(at);
    let found = -1;
    if (c === C_LBRACE) {
      const want = String(seg);
      let i = skipWs(text, at + 1);
      while (text.charCodeAt(i) === C_QUOTE) {
        const keyStart = i;
        const keyEnd = skipString(text, i);
        const raw = text.slice(keyStart + 1, keyEnd - 1);
        const name = raw.includes('\\') ? (JSON.parse(text.slice(keyStart, keyEnd)) as string) : raw;
        i = skipWs(text, skipWs(text, keyEnd) + 1); // past the colon
        if (name === want) {
          found = i; // the last one wins
          keyAt = keyStart;
        }
        i = skipWs(text, skipValue(text, i));
        if (text.charCodeAt(i) !== C_COMMA) break;
        i = skipWs(text, i + 1);
      }
    } else if (c === C_LBRACKET) {
      const want = typeof seg === 'number' ? seg : Number(seg);
      let i = skipWs(text, at + 1);
      for (let n = 0; text.charCodeAt(i) !== C_RBRACKET && i < text.length; n++) {
        if (n === want) {
          found = i;
          break;
        }
        i = skipWs(text, skipValue(text, i));
        if (text.charCodeAt(i) !== C_COMMA) break;
        i = skipWs(text, i + 1);
      }
    }
    if (found < 0) {
      keyAt = -1;
      break;
    }
    at = found;
  }
  return lineColumnAt(text, opts?.key && keyAt >= 0 ? keyAt : at);
}
