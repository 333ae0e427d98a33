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
 * Dependencies: @humanwhocodes/momoa (node types only; offsets come from a small
 * scanner run on text JSON.parse accepted), ../errors.js.
 */
import type { DocumentNode, MemberNode, ObjectNode, ValueNode } from '@humanwhocodes/momoa';
import { OrcError } from '../errors.js';

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

function parseDocument(text: string): DocumentNode {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    JSON.parse(body);
  } catch (error) {
    throw new OrcError('INVALID_INPUT', `cannot edit a document that is not valid JSON: ${(error as Error).message}`);
  }
  // Offsets are taken on the original text (a BOM counts as one UTF-16 unit before the value).
  return scanDocument(text, text.length - body.length);
}

interface Pos {
  line: number;
  column: number;
  offset: number;
}

/**
 * A minimal offset scanner for text that JSON.parse has accepted: it builds the
 * node shapes of @humanwhocodes/momoa (type, loc, members/elements) that the
 * editor needs, several times faster than a full parse with tokens.
 */
function scanDocument(text: string, from: number): DocumentNode {
  let i = from;
  let line = 1;
  let lineStart = 0;
  const pos = (): Pos => ({ line, column: i - lineStart + 1, offset: i });
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 10) {
        i++;
        line++;
        lineStart = i;
      } else if (c === 32 || c === 9 || c === 13) i++;
      else return;
    }
  };
  const stringEnd = () => {
    i++; // opening quote
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 92) i += 2;
      else if (c === 34) {
        i++;
        return;
      } else i++;
    }
  };
  const value = (): ValueNode => {
    ws();
    const startPos = pos();
    const c = text[i];
    if (c === '{') {
      i++;
      const members: unknown[] = [];
      ws();
      if (text[i] === '}') i++;
      else {
        for (;;) {
          ws();
          const mStart = pos();
          const kStart = i;
          stringEnd();
          const key = JSON.parse(text.slice(kStart, i)) as string;
          const keyEnd = pos();
          ws();
          i++; // ':'
          const v = value();
          members.push({ type: 'Member', name: { type: 'String', value: key, loc: { start: mStart, end: keyEnd } }, value: v, loc: { start: mStart, end: v.loc.end } });
          ws();
          if (text[i] === ',') {
            i++;
            continue;
          }
          i++; // '}'
          break;
        }
      }
      return { type: 'Object', members, loc: { start: startPos, end: pos() } } as unknown as ValueNode;
    }
    if (c === '[') {
      i++;
      const elements: unknown[] = [];
      ws();
      if (text[i] === ']') i++;
      else {
        for (;;) {
          const v = value();
          elements.push({ type: 'Element', value: v, loc: v.loc });
          ws();
          if (text[i] === ',') {
            i++;
            continue;
          }
          i++; // ']'
          break;
        }
      }
      return { type: 'Array', elements, loc: { start: startPos, end: pos() } } as unknown as ValueNode;
    }
    if (c === '"') {
      stringEnd();
      return { type: 'String', loc: { start: startPos, end: pos() } } as unknown as ValueNode;
    }
    while (i < text.length && !/[\s,\]}]/.test(text[i] as string)) i++;
    return { type: 'Number', loc: { start: startPos, end: pos() } } as unknown as ValueNode;
  };
  const body = value();
  return { type: 'Document', body, loc: body.loc } as unknown as DocumentNode;
}

/**
 * Where the value at `path` stands: 1-based line and column of its first and
 * one past its last character (a leading BOM is not counted); undefined when
 * the path does not resolve. Throws OrcError('INVALID_INPUT') for invalid JSON.
 */
export function locateValue(text: string, path: JsonPath): { start: { line: number; column: number }; end: { line: number; column: number } } | undefined {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let node: ValueNode = parseDocument(body).body;
  for (const key of path) {
    if (node.type === 'Object' && typeof key === 'string') {
      const m = findMember(node, key);
      if (!m) return undefined;
      node = m.value;
    } else if (node.type === 'Array' && typeof key === 'number' && key >= 0 && key < node.elements.length) {
      node = (node.elements[key] as { value: ValueNode }).value;
    } else return undefined;
  }
  const { start: s, end: e } = node.loc;
  return { start: { line: s.line, column: s.column }, end: { line: e.line, column: e.column } };
}

function memberName(member: MemberNode): string {
  return member.name.type === 'String' ? member.name.value : member.name.name;
}

/** The last member with that name (JSON.parse semantics for duplicates). */
function findMember(obj: ObjectNode, key: string): MemberNode | undefined {
  let found: MemberNode | undefined;
  for (const m of obj.members) if (memberName(m) === key) found = m;
  return found;
}

interface Splice {
  start: number;
  end: number;
  text: string;
  order: number;
}

/** Whitespace from the start of the line to `offset`, when only whitespace precedes it on that line. */
function lineIndentAt(text: string, offset: number): string | undefined {
  let i = offset;
  while (i > 0 && (text[i - 1] === ' ' || text[i - 1] === '\t')) i--;
  if (i === 0 || text[i - 1] === '\n') return text.slice(i, offset);
  return undefined;
}

function start(node: { loc: { start: { offset: number } } }): number {
  return node.loc.start.offset;
}
function end(node: { loc: { end: { offset: number } } }): number {
  return node.loc.end.offset;
}

function describe(path: JsonPath): string {
  return path.length === 0 ? '(root)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
}

/**
 * Apply edits to a document. Edits are resolved against the original text and
 * must not overlap (two edits of the same member, or of a member and its
 * descendant, are a programming error).
 */
export function applyJsonEdits(text: string, edits: readonly JsonEdit[], styleIn?: JsonStyle): string {
  if (edits.length === 0) return text;
  const style = styleIn ?? detectStyle(text);
  const doc = parseDocument(text);
  const splices: Splice[] = [];
  let order = 0;

  const depthIndent = (depth: number) => style.indent.repeat(depth);
  // Removals are collected per container so runs of neighbours are cut as one range.
  const removals = new Map<unknown, { parent: ValueNode; items: Array<{ loc: MemberNode['loc'] }>; removed: Set<unknown>; order: number }>();

  edits.forEach((edit) => {
    // Walk as far as the document goes.
    let node: ValueNode = doc.body;
    let depth = 0;
    let i = 0;
    let member: MemberNode | undefined;
    for (; i < edit.path.length; i++) {
      const key = edit.path[i] as string | number;
      if (node.type === 'Object' && typeof key === 'string') {
        const m = findMember(node, key);
        if (!m) break;
        member = m;
        node = m.value;
      } else if (node.type === 'Array' && typeof key === 'number' && key >= 0 && key < node.elements.length) {
        member = undefined;
        node = (node.elements[key] as { value: ValueNode }).value;
      } else break;
      depth++;
    }
    const found = i === edit.path.length;

    if (edit.op === 'remove') {
      if (!found || edit.path.length === 0) return; // removing what is absent is a no-op
      const parentPath = edit.path.slice(0, -1);
      let parent: ValueNode = doc.body;
      for (const key of parentPath) {
        parent =
          parent.type === 'Object'
            ? (findMember(parent, key as string) as MemberNode).value
            : ((parent as { elements: { value: ValueNode }[] }).elements[key as number] as { value: ValueNode }).value;
      }
      const items: Array<{ loc: MemberNode['loc'] }> = parent.type === 'Object' ? parent.members : (parent as { elements: { loc: MemberNode['loc'] }[] }).elements;
      const target = parent.type === 'Object' ? member : items[edit.path[edit.path.length - 1] as number];
      // Duplicate keys: every occurrence goes, as JSON.parse would have kept only the last.
      const doomed = parent.type === 'Object' ? items.filter((m) => memberName(m as MemberNode) === memberName(member as MemberNode)) : [target];
      const entry = removals.get(parent) ?? { parent, items, removed: new Set<unknown>(), order: order++ };
      for (const d of doomed) entry.removed.add(d);
      removals.set(parent, entry);
      return;
    }

    if (found) {
      // Replace the value in place, indented like the line that holds it; inside a
      // one-line container (or where the old value was on one line with its neighbours) keep one line.
      const lineIndent = lineIndentAt(text, start(member ?? node));
      const multiLine = node.loc.start.line !== node.loc.end.line;
      const oneLine = style.indent === '' || (lineIndent === undefined && !multiLine);
      const valueStyle = edit.keepLayout && multiLine ? { ...style, inlineArrays: false } : style;
      const formatted = oneLine
        ? formatInline(edit.value, style.indent !== '')
        : formatJsonValue(edit.value, valueStyle, 0)
            .split(style.newline)
            .map((line, n) => (n === 0 ? line : (lineIndent ?? depthIndent(Math.max(depth - 1, 0))) + line))
            .join(style.newline);
      splices.push({ start: start(node), end: end(node), text: formatted, order: order++ });
      return;
    }

    // Insert: node is the deepest existing value; it must be an object.
    if (node.type !== 'Object') {
      throw new OrcError('INVALID_INPUT', `cannot insert ${describe(edit.path)}: ${describe(edit.path.slice(0, i))} is not an object`);
    }
    const key = edit.path[i];
    if (typeof key !== 'string') throw new OrcError('INVALID_INPUT', `cannot insert array element ${describe(edit.path)}`);
    let value: unknown = edit.value;
    for (let k = edit.path.length - 1; k > i; k--) value = { [edit.path[k] as string]: value };
    const obj = node;
    // Indentation of members in this object: copy a sibling, else parent's + one unit.
    let memberIndent: string | undefined;
    for (const m of obj.members) {
      memberIndent = lineIndentAt(text, start(m));
      if (memberIndent !== undefined) break;
    }
    const closeIndent = lineIndentAt(text, end(obj) - 1);
    if (memberIndent === undefined) memberIndent = closeIndent !== undefined ? closeIndent + style.indent : depthIndent(depth + 1);
    // An object written on one line (`{"a": 1}` inside a pretty file) stays on one line.
    const inline = style.indent === '' || (obj.members.length > 0 && obj.loc.start.line === obj.loc.end.line);
    const spaced = inline ? /":\s/.test(text.slice(start(obj), end(obj))) || (obj.members.length === 0 && style.indent !== '') : true;
    const compact = inline;
    const nl = compact ? '' : style.newline;
    const sep = spaced ? ' ' : '';
    const valueText = inline
      ? formatInline(value, spaced)
      : formatJsonValue(value, style, 0)
          .split(style.newline)
          .map((line, n) => (n === 0 ? line : memberIndent + line))
          .join(style.newline);
    const memberText = `${JSON.stringify(key)}:${sep}${valueText}`;
    const comma = compact && spaced ? ', ' : ',';
    let anchor: MemberNode | undefined;
    for (const name of edit.after ?? []) {
      anchor = findMember(obj, name);
      if (anchor) break;
    }
    if (!anchor && obj.members.length > 0 && !(edit.after && edit.after.length === 0)) anchor = obj.members[obj.members.length - 1];
    if (anchor) {
      splices.push({ start: end(anchor), end: end(anchor), text: `${comma}${nl}${compact ? '' : memberIndent}${memberText}`, order: order++ });
    } else if (obj.members.length > 0) {
      // `after: []` means "first".
      const first = obj.members[0] as MemberNode;
      splices.push({ start: start(first), end: start(first), text: `${memberText}${comma}${nl}${compact ? '' : memberIndent}`, order: order++ });
    } else {
      const ind = closeIndent ?? depthIndent(depth);
      splices.push({
        start: start(obj) + 1,
        end: end(obj) - 1,
        text: style.indent === '' ? memberText : `${style.newline}${memberIndent}${memberText}${style.newline}${ind}`,
        order: order++,
      });
    }
  });

  for (const { parent, items, removed, order: o } of removals.values()) {
    if (removed.size === items.length) {
      // Everything goes: collapse the container to `{}` / `[]`.
      splices.push({ start: start(parent) + 1, end: end(parent) - 1, text: '', order: o });
      continue;
    }
    for (let i = 0; i < items.length; ) {
      if (!removed.has(items[i])) {
        i++;
        continue;
      }
      let j = i;
      while (j + 1 < items.length && removed.has(items[j + 1])) j++;
      const next = items[j + 1];
      const prev = items[i - 1];
      if (next) splices.push({ start: start(items[i] as MemberNode), end: start(next), text: '', order: o });
      else if (prev) splices.push({ start: end(prev), end: end(items[j] as MemberNode), text: '', order: o });
      i = j + 1;
    }
  }
  // At one offset: insertions (zero-length) before a cut that starts there, then edit order.
  splices.sort((a, b) => a.start - b.start || (a.end - a.start === 0 ? 0 : 1) - (b.end - b.start === 0 ? 0 : 1) || a.order - b.order);
  let out = '';
  let pos = 0;
  for (const s of splices) {
    if (s.start < pos) throw new OrcError('INTERNAL', 'overlapping JSON edits');
    out += text.slice(pos, s.start) + s.text;
    pos = s.end;
  }
  return out + text.slice(pos);
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
