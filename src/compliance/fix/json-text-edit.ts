/**
 * Minimal text-preserving edits of JSON documents: replace one member's value
 * or insert members into the root object, keeping every other byte (key
 * order, indentation, newline style, BOM) as it was.
 *
 * Public API (internal): parseForEdit(text), replaceMemberValue(doc, key, json),
 * insertMembers(doc, members, after?), detectStyle(text).
 * Integration points: the generic --fix repairs in ./index.ts. (E's
 * src/migrate/ has its own rewrite for whole-file migrations; this one only
 * does the two surgical edits the gate needs.)
 * Dependencies: @humanwhocodes/momoa (source offsets).
 */
import { parse, type DocumentNode, type MemberNode, type ObjectNode } from '@humanwhocodes/momoa';

export interface EditableJson {
  /** The text without a leading BOM. */
  text: string;
  bom: boolean;
  root: ObjectNode;
}

export interface TextStyle {
  newline: '\n' | '\r\n';
  /** The indentation unit (e.g. two spaces, a tab); '' when the file is on one line. */
  indent: string;
}

/** Parse a JSON object document for editing; undefined when it is not a valid object document. */
export function parseForEdit(raw: string): EditableJson | undefined {
  const bom = raw.charCodeAt(0) === 0xfeff;
  const text = bom ? raw.slice(1) : raw;
  try {
    JSON.parse(text);
  } catch {
    return undefined;
  }
  let doc: DocumentNode;
  try {
    doc = parse(text, { mode: 'json', ranges: true });
  } catch {
    return undefined;
  }
  if (doc.body.type !== 'Object') return undefined;
  return { text, bom, root: doc.body };
}

export function detectStyle(text: string): TextStyle {
  const newline = /\r\n/.test(text) ? '\r\n' : '\n';
  const m = /\n([ \t]+)"/.exec(text);
  return { newline, indent: m ? m[1]! : '' };
}

/** The last member named `key` in the root object (JSON.parse semantics: last duplicate wins). */
export function findMember(doc: EditableJson, key: string): MemberNode | undefined {
  let found: MemberNode | undefined;
  for (const m of doc.root.members) if (m.name.type === 'String' && m.name.value === key) found = m;
  return found;
}

function finish(doc: EditableJson, text: string): string {
  return (doc.bom ? '\uFEFF' : '') + text;
}

/**
 * Serialise a string array in the style of the value it replaces: on one line
 * when the old value was on one line, else one element per line at the old
 * element indentation.
 */
export function formatStringArray(doc: EditableJson, member: MemberNode | undefined, values: readonly string[], style: TextStyle, memberIndent: string): string {
  if (values.length === 0) return '[]';
  const old = member?.value;
  const multiline =
    old && old.type === 'Array' && old.loc.start.line !== old.loc.end.line && old.elements.length > 0;
  if (!multiline) return `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
  const first = (old as { elements: Array<{ loc: { start: { line: number; column: number } } }> }).elements[0]!;
  const lineStart = lineStartOffset(doc.text, first.loc.start.line);
  const elemIndent = doc.text.slice(lineStart, lineStart + first.loc.start.column - 1);
  const closeIndent = /^[ \t]*$/.test(elemIndent) ? memberIndent : '';
  return `[${style.newline}${values.map((v) => elemIndent + JSON.stringify(v)).join(`,${style.newline}`)}${style.newline}${closeIndent}]`;
}

function lineStartOffset(text: string, line: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf('\n', offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return offset;
}

/** The whitespace before a member on its line ('' when something else precedes it). */
export function memberIndentation(doc: EditableJson, member: MemberNode): string {
  const start = lineStartOffset(doc.text, member.loc.start.line);
  const before = doc.text.slice(start, member.loc.start.offset);
  return /^[ \t]*$/.test(before) ? before : '';
}

/** Replace the value of root member `key` with `valueText`. Returns the new full text (BOM kept). */
export function replaceMemberValue(doc: EditableJson, key: string, valueText: string): string {
  const member = findMember(doc, key);
  if (!member) throw new Error(`no member ${key}`);
  const { offset: start } = member.value.loc.start;
  const { offset: end } = member.value.loc.end;
  return finish(doc, doc.text.slice(0, start) + valueText + doc.text.slice(end));
}

/**
 * Insert members (already serialised values) into the root object: after the
 * member named `after` when it exists, else as the first members. Indentation
 * and newline style follow the file.
 */
export function insertMembers(doc: EditableJson, members: ReadonlyArray<[string, string]>, after?: string): string {
  const style = detectStyle(doc.text);
  const existing = doc.root.members;
  const anchor = after ? findMember(doc, after) : undefined;
  const sample = anchor ?? existing[0];
  const oneLine = doc.root.loc.start.line === doc.root.loc.end.line;
  const indent = sample && !oneLine ? memberIndentation(doc, sample) || style.indent || '  ' : '';
  const sep = oneLine ? ' ' : style.newline + indent;
  const rendered = members.map(([k, v]) => `${JSON.stringify(k)}: ${v}`);
  if (anchor) {
    const at = anchor.value.loc.end.offset;
    const insert = rendered.map((m) => `,${sep}${m}`).join('');
    return finish(doc, doc.text.slice(0, at) + insert + doc.text.slice(at));
  }
  const open = doc.root.loc.start.offset + 1;
  if (existing.length === 0) {
    const close = doc.root.loc.end.offset - 1;
    const body = oneLine ? ` ${rendered.join(', ')} ` : `${style.newline}${rendered.map((m) => `  ${m}`).join(`,${style.newline}`)}${style.newline}`;
    return finish(doc, doc.text.slice(0, open) + body + doc.text.slice(close));
  }
  const insert = rendered.map((m) => `${sep}${m},`).join('');
  // Put the new members between `{` and the whitespace that preceded the first member.
  return finish(doc, doc.text.slice(0, open) + insert + doc.text.slice(open));
}
