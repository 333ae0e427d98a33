/**
 * Located JSON reading: read a user's JSON file once, refuse what is unsafe,
 * and map any value path back to a 1-based line and column.
 *
 * Public API (stable):
 *   readJsonFile(absPath, relPath, options?) → JsonRead
 *   parseJsonText(text, relPath, options?) → JsonRead   (text already in memory)
 *   locateInText(text, path, opts?) → { line, column }
 *   JsonRead, JsonReadOptions, Locate, DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH
 * Behaviour: JSON.parse decides validity (runtime semantics). Every problem is a
 * located Finding: syntax errors (trailing commas named as such), an empty
 * file, a file over the size limit (default 1 MiB), nesting over the depth
 * limit (default 64), bytes that are not UTF-8, duplicate keys (at the second
 * occurrence) and `__proto__`/`constructor`/`prototype` keys (never applied to
 * any prototype: JSON.parse defines them as own data properties and the read
 * is refused). A UTF-8 BOM is stripped with a warning; CRLF is fine.
 * Locations are found only when a caller asks for one, by a forward scan of the
 * text along the path (json-scan.ts locatePath, held to momoa's tree by a test), so
 * clean files cost one JSON.parse plus a cheap structural check and a finding costs
 * one scan of its file, with no tree built.
 * Integration points: src/repo/load-tasks.ts (task files), src/registry/ (JSON
 * registries), compliance rules that read JSON files.
 * Dependencies: node:fs, @humanwhocodes/momoa (syntax-error offsets only), ./json-scan.js, ../model.js.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { DocumentNode } from '@humanwhocodes/momoa';
import type { Finding } from '../model.js';
import { locatePath, offsetToLineColumn, quickStructureCheck, scanStructure, type LineColumn } from './json-scan.js';

// momoa is loaded only to place a syntax error V8's message gives no position for.
let momoa: typeof import('@humanwhocodes/momoa') | undefined;
function momoaParse(text: string, options: { mode: 'json' }): DocumentNode {
  momoa ??= createRequire(import.meta.url)('@humanwhocodes/momoa') as typeof import('@humanwhocodes/momoa');
  return momoa.parse(text, options);
}

export const DEFAULT_MAX_BYTES = 1024 * 1024;

/** Reused by every readJsonFile (synchronous, so never shared by two reads at once). */
const readBuffer = Buffer.allocUnsafe(64 * 1024);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
export const DEFAULT_MAX_DEPTH = 64;

export interface JsonReadOptions {
  maxBytes?: number;
  maxDepth?: number;
  /** Requirement id put on findings (default TASK-DEF-002). */
  requirement?: string;
}

/** Map a value path (object keys and array indexes) to where it starts; `key: true` points at the member's key instead. */
export type Locate = (path: ReadonlyArray<string | number>, opts?: { key?: boolean }) => LineColumn;

export type JsonRead =
  | { ok: true; value: unknown; text: string; locate: Locate; notices: Finding[] }
  | { ok: false; findings: Finding[] };

function finding(
  requirement: string,
  severity: Finding['severity'],
  file: string,
  at: LineColumn,
  message: string,
  fix: string,
): Finding {
  return { requirement, severity, file, line: at.line, column: at.column, message, fix };
}

/** A refused read: one error finding (after any notices already collected). */
function refuse(requirement: string, file: string, at: LineColumn, message: string, fix: string, notices: Finding[] = []): JsonRead {
  return { ok: false, findings: [...notices, finding(requirement, 'error', file, at, message, fix)] };
}

/** Read and check a JSON file. `relPath` (repo-relative, '/') names the file in findings. */
export function readJsonFile(absPath: string, relPath: string, options: JsonReadOptions = {}): JsonRead {
  const requirement = options.requirement ?? 'TASK-DEF-002';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let bytes: Buffer;
  let fd: number | undefined;
  try {
    fd = openSync(absPath, 'r');
    // One read into a reused buffer covers a task-sized file: no per-file Buffer, no fstat. A file that
    // fills it is measured (and refused over the limit) before the rest is read.
    let done = readSync(fd, readBuffer, 0, readBuffer.length, 0);
    if (done < readBuffer.length && done <= maxBytes) {
      bytes = readBuffer.subarray(0, done);
    } else {
      const size = fstatSync(fd).size;
      if (size > maxBytes) {
        return refuse(
          requirement,
          relPath,
          { line: 1, column: 1 },
          `file is ${size} bytes, over the ${maxBytes}-byte limit for one JSON file; it was not read`,
          'split the content into smaller files (one task per file) or remove generated data from it',
        );
      }
      bytes = Buffer.allocUnsafe(Math.max(size, done));
      readBuffer.copy(bytes, 0, 0, done);
      while (done < bytes.length) {
        const n = readSync(fd, bytes, done, bytes.length - done, done);
        if (n === 0) break;
        done += n;
      }
      if (done < bytes.length) bytes = bytes.subarray(0, done);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return refuse(
      requirement,
      relPath,
      { line: 1, column: 1 },
      `cannot read the file (${code}: ${(err as Error).message})`,
      code === 'EISDIR' ? 'rename the directory so it does not end in .json' : 'check that the file exists and is readable',
    );
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const decoded = decodeUtf8(bytes);
  if (typeof decoded !== 'string') {
    return refuse(
      requirement,
      relPath,
      decoded,
      `the file is not valid UTF-8 (first bad byte 0x${bytes[decoded.offset]?.toString(16).padStart(2, '0') ?? '??'} at byte ${decoded.offset})`,
      'save the file as UTF-8 (editors: "Save with Encoding → UTF-8")',
    );
  }
  return parseJsonText(decoded, relPath, options);
}

/** Check JSON text already in memory (BOM included if present). */
export function parseJsonText(rawText: string, relPath: string, options: JsonReadOptions = {}): JsonRead {
  const requirement = options.requirement ?? 'TASK-DEF-002';
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const notices: Finding[] = [];
  let text = rawText;
  if (text.charCodeAt(0) === 0xfeff) {
    text = text.slice(1);
    notices.push(
      finding(
        requirement,
        'warning',
        relPath,
        { line: 1, column: 1 },
        'the file starts with a byte-order mark (BOM); it was ignored, but JSON.parse and many tools reject it',
        'save the file as UTF-8 without BOM',
      ),
    );
  }
  if (text.length > maxBytes) {
    return refuse(requirement, relPath, { line: 1, column: 1 }, `text is over the ${maxBytes}-byte limit`, 'split the file');
  }
  if (text.length === 0 || (text.length < 64 && text.trim() === '')) {
    return refuse(requirement, relPath, { line: 1, column: 1 }, 'the file is empty: expected a JSON object', 'write the JSON content or delete the file', notices);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (/^\s*$/.test(text)) {
      return refuse(requirement, relPath, { line: 1, column: 1 }, 'the file is empty (only white space): expected a JSON object', 'write the JSON content or delete the file', notices);
    }
    return { ok: false, findings: [...notices, syntaxFinding(text, relPath, requirement, err as Error)] };
  }
  if (quickStructureCheck(text, value, maxDepth) === 'suspect') {
    const problems = scanStructure(text, maxDepth);
    if (problems.length > 0) {
      const findings = [...notices];
      for (const p of problems) {
        const at = offsetToLineColumn(text, p.offset);
        if (p.kind === 'duplicate') {
          const first = offsetToLineColumn(text, p.firstOffset);
          findings.push(
            finding(
              requirement,
              'error',
              relPath,
              at,
              `duplicate key "${p.key}" (first defined at line ${first.line}, column ${first.column}); JSON.parse would silently keep only this last one`,
              `keep one "${p.key}" entry: merge the two values and delete the other`,
            ),
          );
        } else if (p.kind === 'forbidden') {
          findings.push(
            finding(
              requirement,
              'error',
              relPath,
              at,
              `key "${p.key}" is not allowed: it can change object prototypes when the data is copied`,
              `rename or remove the "${p.key}" key`,
            ),
          );
        } else {
          findings.push(
            finding(
              requirement,
              'error',
              relPath,
              at,
              `nesting is deeper than the limit of ${maxDepth} levels`,
              'flatten the structure; task files need only a few levels',
            ),
          );
        }
      }
      return { ok: false, findings };
    }
  }
  // Located on demand by a forward scan of the text (json-scan.ts locatePath): no tree, nothing kept per file.
  const locate: Locate = (path, opts) => locatePath(text, path, opts);
  return { ok: true, value, text, locate, notices };
}

/** Locate a value path in JSON text (a BOM is skipped; text that is not JSON gives 1:1). */
export function locateInText(text: string, path: ReadonlyArray<string | number>, opts?: { key?: boolean }): LineColumn {
  const stripped = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    JSON.parse(stripped);
  } catch {
    // momoa also reads raw control characters inside strings, which the scan passes over as well.
    try {
      momoaParse(stripped, { mode: 'json' });
    } catch {
      return { line: 1, column: 1 };
    }
  }
  return locatePath(stripped, path, opts);
}

function syntaxFinding(text: string, relPath: string, requirement: string, err: Error): Finding {
  const v8 = err.message;
  let offset: number | undefined;
  const pos = /at position (\d+)/.exec(v8);
  if (pos) offset = Number(pos[1]);
  if (offset === undefined) {
    try {
      momoaParse(text, { mode: 'json' });
    } catch (merr) {
      const o = (merr as { offset?: unknown }).offset;
      if (typeof o === 'number') offset = o;
    }
  }
  if (offset === undefined) offset = text.length;
  // A trailing comma: the offending token is } or ] and the previous non-space character is a comma.
  const ch = text[offset];
  if (ch === '}' || ch === ']') {
    let k = offset - 1;
    while (k >= 0 && /\s/.test(text[k] ?? '')) k--;
    if (text[k] === ',') {
      return finding(
        requirement,
        'error',
        relPath,
        offsetToLineColumn(text, k),
        `trailing comma before "${ch}": JSON does not allow a comma after the last ${ch === '}' ? 'property' : 'element'}`,
        'delete this comma',
      );
    }
  }
  if (offset >= text.length || /Unexpected end of JSON input/.test(v8)) {
    return finding(
      requirement,
      'error',
      relPath,
      offsetToLineColumn(text, text.length),
      'the JSON ends too early: a closing bracket, brace or quote is missing',
      'close every open "{", "[" and string; check the end of the file',
    );
  }
  const message = v8.replace(/, ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
  const fixes: Array<[RegExp, string]> = [
    [/property name/, 'put the key in double quotes, e.g. "name": ... (JSON has no bare or single-quoted keys)'],
    [/Bad control character/, 'escape the character: write \\t for a tab and \\n for a line break inside strings'],
    [/after property name/, 'add a ":" between the key and its value'],
    [/after (array element|property value)/, 'add the missing "," between the items, or close the bracket'],
  ];
  const fix = fixes.find(([re]) => re.test(message))?.[1] ?? 'fix the JSON syntax at this position (a JSON-aware editor highlights it)';
  return finding(requirement, 'error', relPath, offsetToLineColumn(text, offset), `invalid JSON: ${message}`, fix);
}

/** Decode UTF-8 strictly; on failure return where the first bad byte is. */
function decodeUtf8(bytes: Uint8Array): string | (LineColumn & { offset: number }) {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    let lineStart = 0;
    let line = 1;
    for (let i = 0; i < offset; i++) {
      if (bytes[i] === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    const prefix = new TextDecoder('utf-8').decode(bytes.subarray(lineStart, offset));
    return { line, column: prefix.length + 1, offset };
  }
}

function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let need = 0;
    let min = 0;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    let cp = c & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
    for (let k = 1; k <= need; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return b.length;
}
