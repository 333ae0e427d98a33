/**
 * Text-preserving JSON editing: change a JSON document by path while keeping
 * everything else byte-for-byte (key order, indentation, newline style, final
 * newline, unknown members, number spelling, string escapes).
 *
 * Public API:
 *   - detectStyle(text): JsonStyle                                   (stable)
 *   - applyJsonEdits(text, edits: JsonEdit[], style?): string          (stable)
 *       edits: { op: 'set', path, value, after?: string[], keepLayout?: boolean }  replace a
 *              value, or insert the member (creating missing parent objects) after the first
 *              existing sibling named in `after` (else at the end of the object; `after: []`
 *              means first); with keepLayout a replaced value written over several lines
 *              stays over several lines (arrays are not folded onto one line because the
 *              file has one-line arrays elsewhere);
 *              { op: 'remove', path }  remove a member (or array element) with its comma.
 *   - reconcileJson(text, target, options?): { text, edits }            (stable)
 *       computes the minimal edits that turn the document into `target` (deep
 *       equality decides what is untouched) and applies them; `options.placement`
 *       names, per new top-level or nested key, the siblings it goes after.
 *   - formatJsonValue(value, style, depth): string                     (stable)
 *   - locateValue(text, path): { start, end } | undefined              (stable)
 *       1-based line/column (BOM not counted) of the value at `path`, for reporting an edit.
 *   - diffValues, formatInline                                         (internal)
 * Integration points: the migration runner (src/migrate/run.ts) and the
 * compliance `--fix` repairs (src/compliance/fix/index.ts) use
 * reconcileJson/applyJsonEdits so that a machine edit of a hand-written file
 * produces a reviewable diff; this is the project's one JSON text editor.
 * Errors: a path that does not resolve, or a document that is not valid JSON,
 * throws OrcError('INVALID_INPUT').
 * How: jsonc-parser 3 (`parseTree` for offsets, `modify` for where a member
 * goes or what a removal cuts, `applyEdits`), with the file's own layout applied
 * to what it inserts (its formatter would re-indent neighbours and unfold
 * one-line arrays and objects, which a reviewable diff must not do).
 * Dependencies: jsonc-parser, ../errors.js.
 */
// The package's ESM build imports without file extensions (Node cannot load it): use its CommonJS build.
import jsonc from 'jsonc-parser';
import { OrcError } from '../errors.js';

type JsonNode = jsonc.Node;

export type JsonPath = ReadonlyArray<string | number>;

export interface JsonStyle {
  /** One indentation unit: '  ', '    ', '\t' ... ('' for a compact document). */
  indent: string;
  newline: '\n' | '\r\n';
  finalNewline: boolean;
  /** Print arrays of primitives on one line (`["a", "b"]`) as the file already does. */
  inlineArrays: boolean;
}

export type JsonEdit =
  | { op: 'set'; path: JsonPath; value: unknown; after?: readonly string[]; keepLayout?: boolean }
  | { op: 'remove'; path: JsonPath };

/** Detect the indentation unit, newline style, final newline and array style of a document. */
export function detectStyle(text: string): JsonStyle {
  const crlf = (text.match(/\r\n/g) ?? []).length;
  const lf = (text.match(/\n/g) ?? []).length - crlf;
  const newline: '\n' | '\r\n' = crlf > lf ? '\r\n' : '\n';
  const finalNewline = /\r?\n$/.test(text);
  // The smallest non-empty leading whitespace of a line that starts a member or value.
  let indent = '';
  let best = Infinity;
  for (const match of text.matchAll(/(?:^|\n)([ \t]+)(?=["{[\]}0-9tfn-])/g)) {
    const ws = match[1] as string;
    if (ws.startsWith('\t')) {
      indent = '\t';
      break;
    }
    if (ws.length < best) {
      best = ws.length;
      indent = ws;
    }
  }
  if (indent === '' && /\n/.test(text.trim())) indent = '  ';
  // Inline arrays: an array of primitives printed on one line in the file already.
  const inlineArrays = /\[[ \t]*(?:"[^"\n]*"|-?\d[\d.eE+-]*|true|false|null)(?:[ \t]*,[ \t]*(?:"[^"\n]*"|-?\d[\d.eE+-]*|true|false|null))*[ \t]*\]/.test(
    text,
  );
  return { indent, newline, finalNewline, inlineArrays };
}

function isPrimitive(value: unknown): boolean {
  return value === null || typeof value !== 'object';
}

/** Serialise a value the way the surrounding document is written, for a value that starts at nesting `depth`. */
export function formatJsonValue(value: unknown, style: JsonStyle, depth: number): string {
  const pad = (n: number) => style.indent.repeat(n);
  const nl = style.indent === '' ? '' : style.newline;
  const sep = style.indent === '' ? '' : ' ';
  const walk = (v: unknown, d: number): string => {
    if (isPrimitive(v)) return JSON.stringify(v) ?? 'null';
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      if (style.inlineArrays && v.every(isPrimitive)) return `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
      return `[${nl}${v.map((x) => `${pad(d + 1)}${walk(x, d + 1)}`).join(`,${nl}`)}${nl}${pad(d)}]`;
    }
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return '{}';
    return `{${nl}${entries.map(([k, x]) => `${pad(d + 1)}${JSON.stringify(k)}:${sep}${walk(x, d + 1)}`).join(`,${nl}`)}${nl}${pad(d)}}`;
  };
  return walk(value, depth);
}

/** One-line JSON: `{"a": [1, 2]}` when spaced, `{"a":[1,2]}` otherwise. */
export function formatInline(value: unknown, spaced: boolean): string {
  if (isPrimitive(value)) return JSON.stringify(value) ?? 'null';
  const comma = spaced ? ', ' : ',';
  if (Array.isArray(value)) return `[${value.map((v) => formatInline(v, spaced)).join(comma)}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${spaced ? ' ' : ''}${formatInline(v, spaced)}`).join(comma)}}`;
}

/** The last tree parsed (an edit sequence re-reads the text it just produced, or the one it was given). */
let lastParsed: { text: string; root: JsonNode } | undefined;

/** Check strict JSON (the only thing we edit: jsonc-parser alone would accept comments and trailing commas) and parse for offsets. */
function parseDocument(text: string, checked = false): JsonNode {
  if (lastParsed && lastParsed.text === text) return lastParsed.root;
  if (!checked) {
    try {
      JSON.parse(text);
    } catch (error) {
      throw new OrcError('INVALID_INPUT', `cannot edit a document that is not valid JSON: ${(error as Error).message}`);
    }
  }
  const root = jsonc.parseTree(text);
  if (!root) throw new OrcError('INVALID_INPUT', 'cannot edit an empty document');
  lastParsed = { text, root };
  return root;
}

function stripBom(text: string): { bom: string; body: string } {
  return text.charCodeAt(0) === 0xfeff ? { bom: '\ufeff', body: text.slice(1) } : { bom: '', body: text };
}

/** 1-based line/column of an offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** The property node (JSON.parse semantics: the last one for a duplicated key). */
function findProperty(obj: JsonNode, key: string): JsonNode | undefined {
  let found: JsonNode | undefined;
  for (const p of obj.children ?? []) if (p.children?.[0]?.value === key) found = p;
  return found;
}

interface Walked {
  /** The deepest node the path reaches. */
  node: JsonNode;
  /** The property holding `node` when its parent is an object. */
  property: JsonNode | undefined;
  /** How many path steps resolved. */
  depth: number;
}

function walk(root: JsonNode, path: JsonPath): Walked {
  let node = root;
  let property: JsonNode | undefined;
  let depth = 0;
  for (const key of path) {
    if (node.type === 'object' && typeof key === 'string') {
      const p = findProperty(node, key);
      if (!p || !p.children?.[1]) break;
      property = p;
      node = p.children[1];
    } else if (node.type === 'array' && typeof key === 'number' && key >= 0 && key < (node.children?.length ?? 0)) {
      property = undefined;
      node = node.children![key]!;
    } else break;
    depth++;
  }
  return { node, property, depth };
}

/**
 * Where the value at `path` stands: 1-based line and column of its first and
 * one past its last character (a leading BOM is not counted); undefined when
 * the path does not resolve. Throws OrcError('INVALID_INPUT') for invalid JSON.
 */
export function locateValue(text: string, path: JsonPath): { start: { line: number; column: number }; end: { line: number; column: number } } | undefined {
  const { body } = stripBom(text);
  const w = walk(parseDocument(body), path);
  if (w.depth !== path.length) return undefined;
  return { start: lineColumn(body, w.node.offset), end: lineColumn(body, w.node.offset + w.node.length) };
}

/** Whitespace from the start of the line to `offset`, when only whitespace precedes it on that line. */
function lineIndentAt(text: string, offset: number): string | undefined {
  let i = offset;
  while (i > 0 && (text[i - 1] === ' ' || text[i - 1] === '\t')) i--;
  if (i === 0 || text[i - 1] === '\n') return text.slice(i, offset);
  return undefined;
}

function describe(path: JsonPath): string {
  return path.length === 0 ? '(root)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
}

const end = (n: JsonNode) => n.offset + n.length;

/** Members inserted by the current applyJsonEdits call, per parent object path, in insertion order. */
type Inserted = Map<string, string[]>;

/** Replace a value in place, indented like the line that holds it; one-line where the old value sat on one line with its neighbours. */
function replaceEdit(text: string, w: Walked, edit: Extract<JsonEdit, { op: 'set' }>, style: JsonStyle): jsonc.Edit {
  const node = w.node;
  const lineIndent = lineIndentAt(text, (w.property ?? node).offset);
  const multiLine = text.slice(node.offset, end(node)).includes('\n');
  const oneLine = style.indent === '' || (lineIndent === undefined && !multiLine);
  const valueStyle = edit.keepLayout && multiLine ? { ...style, inlineArrays: false } : style;
  const content = oneLine
    ? formatInline(edit.value, style.indent !== '')
    : formatJsonValue(edit.value, valueStyle, 0)
        .split(style.newline)
        .map((line, n) => (n === 0 ? line : (lineIndent ?? style.indent.repeat(Math.max(w.depth - 1, 0))) + line))
        .join(style.newline);
  return { offset: node.offset, length: node.length, content };
}

/**
 * Insert a member: jsonc-parser's `modify` decides where it goes (after the
 * anchor, commas, missing parents); its raw text (`,"key": value`,
 * `"key": value,` or `"key": value` in an empty object) is then laid out in
 * the file's own style: the siblings' indentation, one line inside a one-line
 * object, the document's newline.
 */
function insertEdit(text: string, w: Walked, edit: Extract<JsonEdit, { op: 'set' }>, style: JsonStyle, inserted: Inserted): jsonc.Edit {
  const obj = w.node;
  if (obj.type !== 'object') throw new OrcError('INVALID_INPUT', `cannot insert ${describe(edit.path)}: ${describe(edit.path.slice(0, w.depth))} is not an object`);
  const key = edit.path[w.depth];
  if (typeof key !== 'string') throw new OrcError('INVALID_INPUT', `cannot insert array element ${describe(edit.path)}`);
  let value: unknown = edit.value;
  for (let k = edit.path.length - 1; k > w.depth; k--) value = { [edit.path[k] as string]: value };
  const members = obj.children ?? [];
  const names = members.map((m) => m.children?.[0]?.value as string);
  const parentKey = JSON.stringify(edit.path.slice(0, w.depth));
  const ours = new Set(inserted.get(parentKey) ?? []);
  // Position: after the first existing anchor (skipping members this call already put there, so target order holds).
  let index = names.length;
  const anchors = edit.after ?? [];
  let anchorAt = -2;
  for (const name of anchors) {
    const i = names.lastIndexOf(name);
    if (i >= 0 && !ours.has(name)) {
      anchorAt = i;
      break;
    }
  }
  if (anchorAt === -2 && edit.after && edit.after.length === 0) anchorAt = -1;
  if (anchorAt !== -2) {
    index = anchorAt + 1;
    while (index < names.length && ours.has(names[index]!)) index++;
  }
  const SENTINEL = '\u0000orc-state-value\u0000';
  const raw = jsonc.modify(text, [...edit.path.slice(0, w.depth + 1)], SENTINEL, { getInsertionIndex: () => index });
  if (raw.length !== 1) throw new OrcError('INTERNAL', `unexpected edit for ${describe(edit.path)}`);
  const e = raw[0]!;
  // Layout in the file's style.
  let memberIndent: string | undefined;
  for (const m of members) {
    memberIndent = lineIndentAt(text, m.offset);
    if (memberIndent !== undefined) break;
  }
  const closeIndent = lineIndentAt(text, end(obj) - 1);
  if (memberIndent === undefined) memberIndent = closeIndent !== undefined ? closeIndent + style.indent : style.indent.repeat(w.depth + 1);
  const inline = style.indent === '' || (members.length > 0 && !text.slice(obj.offset, end(obj)).includes('\n'));
  const spaced = inline ? /":\s/.test(text.slice(obj.offset, end(obj))) || (members.length === 0 && style.indent !== '') : true;
  const nl = inline ? '' : style.newline;
  const sep = spaced ? ' ' : '';
  const valueText = inline
    ? formatInline(value, spaced)
    : formatJsonValue(value, style, 0)
        .split(style.newline)
        .map((line, n) => (n === 0 ? line : memberIndent + line))
        .join(style.newline);
  const memberText = `${JSON.stringify(key)}:${sep}${valueText}`;
  const comma = inline && spaced ? ', ' : ',';
  const lead = inline ? '' : memberIndent;
  let content: string;
  if (e.content.startsWith(',')) content = `${comma}${nl}${lead}${memberText}`; // after a sibling
  else if (e.content.endsWith(',')) {
    // before the first member: at that member, so the whitespace after `{` stays where it is
    inserted.set(parentKey, [...(inserted.get(parentKey) ?? []), key]);
    const next = members[index] ?? members[0]!;
    return { offset: next.offset, length: 0, content: `${memberText}${comma}${nl}${lead}` };
  }
  else {
    // the object was empty: fill it
    const ind = closeIndent ?? style.indent.repeat(w.depth);
    return { offset: obj.offset + 1, length: obj.length - 2, content: style.indent === '' ? memberText : `${style.newline}${memberIndent}${memberText}${style.newline}${ind}` };
  }
  inserted.set(parentKey, [...(inserted.get(parentKey) ?? []), key]);
  return { offset: e.offset, length: e.length, content };
}

/**
 * Remove a member or element with jsonc-parser's `modify` (it drops the right
 * comma), every occurrence of a duplicated key; the whitespace before a first
 * member is kept and a container left empty collapses to `{}` / `[]`.
 */
function removeEdits(text: string, path: JsonPath): string {
  let out = text;
  for (;;) {
    const root = parseDocument(out, true);
    const w = walk(root, path);
    if (w.depth !== path.length || path.length === 0) return out;
    const parent = walk(root, path.slice(0, -1)).node;
    const items = parent.children ?? [];
    const item = parent.type === 'object' ? w.property! : w.node;
    const at = items.indexOf(item);
    let edit: jsonc.Edit;
    if (items.length === 1) edit = { offset: parent.offset + 1, length: parent.length - 2, content: '' };
    else if (at === 0) edit = { offset: item.offset, length: items[1]!.offset - item.offset, content: '' };
    else {
      const raw = jsonc.modify(out, [...path.slice(0, -1), parent.type === 'object' ? (path[path.length - 1] as string) : at], undefined, {});
      if (raw.length !== 1) throw new OrcError('INTERNAL', `unexpected removal edit for ${describe(path)}`);
      edit = raw[0]!;
      // jsonc-parser removes the first of duplicated keys; we remove them all, last to first.
      if (parent.type === 'object' && edit.offset > item.offset) edit = { offset: end(items[at - 1]!), length: end(item) - end(items[at - 1]!), content: '' };
    }
    out = jsonc.applyEdits(out, [edit]);
    if (parent.type !== 'object') return out; // one element
  }
}

/**
 * Apply edits to a document, one after the other (each resolved on the text
 * the previous one left). Edits of the same member, or of a member and its
 * descendant, are a programming error.
 */
export function applyJsonEdits(text: string, edits: readonly JsonEdit[], styleIn?: JsonStyle): string {
  if (edits.length === 0) return text;
  const { bom, body } = stripBom(text);
  const style = styleIn ?? detectStyle(body);
  let out = body;
  parseDocument(out);
  const inserted: Inserted = new Map();
  for (const edit of edits) {
    if (edit.op === 'remove') {
      out = removeEdits(out, edit.path);
      continue;
    }
    // Our own edits keep the text valid JSON: only the input needs the strict check.
    const w = walk(parseDocument(out, true), edit.path);
    const change = w.depth === edit.path.length ? replaceEdit(out, w, edit, style) : insertEdit(out, w, edit, style, inserted);
    out = jsonc.applyEdits(out, [change]);
  }
  return bom + out;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b as object, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export interface ReconcileOptions {
  /** Per key name (any depth) the siblings a new member goes after, first existing wins. */
  placement?: Record<string, readonly string[]>;
}

/** Compute the edits that turn `current` into `target` (objects recurse, anything else is replaced whole). */
export function diffValues(current: unknown, target: unknown, options: ReconcileOptions = {}, path: (string | number)[] = []): JsonEdit[] {
  if (deepEqual(current, target)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(current) || !isObj(target)) {
    return [{ op: 'set', path, value: target }];
  }
  const kept = Object.keys(current).filter((k) => Object.hasOwn(target, k) && target[k] !== undefined);
  if (kept.length === 0 && Object.keys(current).length > 0) return [{ op: 'set', path, value: target }]; // nothing to keep: rewrite it whole
  const edits: JsonEdit[] = [];
  for (const key of Object.keys(current)) {
    if (!Object.hasOwn(target, key) || target[key] === undefined) edits.push({ op: 'remove', path: [...path, key] });
  }
  const targetKeys = Object.keys(target).filter((k) => target[k] !== undefined);
  targetKeys.forEach((key, index) => {
    if (Object.hasOwn(current, key)) {
      edits.push(...diffValues(current[key], target[key], options, [...path, key]));
      return;
    }
    // New member: the configured anchors, then the closest preceding key in the target that survives.
    const preceding = targetKeys.slice(0, index).reverse().filter((k) => Object.hasOwn(current, k));
    const after = [...(options.placement?.[key] ?? []), ...preceding];
    edits.push({ op: 'set', path: [...path, key], value: target[key], after });
  });
  return edits;
}

/**
 * Rewrite `text` so that it parses to `target`, touching only what differs.
 * New members that share an anchor are inserted in the target's key order.
 */
export function reconcileJson(text: string, target: unknown, options: ReconcileOptions = {}): { text: string; edits: JsonEdit[] } {
  const current: unknown = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const edits = diffValues(current, target, options);
  // A new member placed after another new member goes after that member's own anchor
  // (edits at one offset are applied in order, so target order is kept).
  const newNames = new Map<string, Set<string>>();
  for (const edit of edits) {
    if (edit.op !== 'set' || edit.after === undefined) continue;
    const parentKey = JSON.stringify(edit.path.slice(0, -1));
    const names = newNames.get(parentKey) ?? new Set<string>();
    names.add(edit.path[edit.path.length - 1] as string);
    newNames.set(parentKey, names);
  }
  const resolved = edits.map((edit): JsonEdit => {
    if (edit.op !== 'set' || edit.after === undefined) return edit;
    const names = newNames.get(JSON.stringify(edit.path.slice(0, -1))) ?? new Set<string>();
    return { ...edit, after: edit.after.filter((a) => !names.has(a)) };
  });
  return { text: applyJsonEdits(text, resolved), edits: resolved };
}
