/**
 * A small, located Markdown scanner for the documentation rules: ATX
 * headings (outside fenced code), fenced code blocks with their info string,
 * and prose word counts; plus memoised reading of repo documents.
 *
 * Public API (internal): scanMarkdown(text) → MarkdownScan, readDoc(ctx, rel),
 * normaliseHeading(text), findHeading(scan, topic, level), findTopic(scan, topic, within?),
 * findTableRow(scan, topic), sectionBody(scan, heading),
 * mentions(text, word), DocFile, MarkdownHeading, CodeBlock.
 * Integration points: rules EXEC-DOC-*, ERR-FM-*, COMPLIANCE-001.
 * Dependencies: node:fs, node:path, ./types.js.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RuleContext } from './types.js';

export interface MarkdownHeading {
  level: number;
  text: string;
  /** 1-based. */
  line: number;
  column: number;
}

export interface CodeBlock {
  lang: string;
  /** Line of the opening fence. */
  line: number;
  /** The block's content (without fences). */
  text: string;
  /** Line of the first content line. */
  contentLine: number;
}

export interface MarkdownScan {
  lines: string[];
  headings: MarkdownHeading[];
  code: CodeBlock[];
  /** Words outside headings and code blocks. */
  proseWords: number;
}

export function scanMarkdown(text: string): MarkdownScan {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headings: MarkdownHeading[] = [];
  const code: CodeBlock[] = [];
  let proseWords = 0;
  let fence: { marker: string; lang: string; line: number; body: string[] } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (fence) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
      if (close && close[1]![0] === fence.marker[0] && close[1]!.length >= fence.marker.length) {
        code.push({ lang: fence.lang, line: fence.line, text: fence.body.join('\n'), contentLine: fence.line + 1 });
        fence = undefined;
      } else fence.body.push(line);
      continue;
    }
    const open = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/.exec(line);
    if (open) {
      fence = { marker: open[1]!, lang: open[2]!.toLowerCase(), line: i + 1, body: [] };
      continue;
    }
    const h = /^( {0,3})(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (h) {
      headings.push({ level: h[2]!.length, text: h[3]!.trim(), line: i + 1, column: h[1]!.length + 1 });
      continue;
    }
    const words = line.match(/[\p{L}\p{N}][\p{L}\p{N}'’_-]*/gu);
    if (words) proseWords += words.length;
  }
  if (fence) code.push({ lang: fence.lang, line: fence.line, text: fence.body.join('\n'), contentLine: fence.line + 1 });
  return { lines, headings, code, proseWords };
}

/** Lower case, markup and numbering removed, `&` read as `and`, spaces collapsed. */
export function normaliseHeading(text: string): string {
  return text
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/&/g, ' and ')
    .replace(/^\s*(\d+(\.\d+)*\.?|[ivx]+\.)\s+/, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** The first heading of exactly `level` whose normalised text contains the normalised topic as whole words. */
export function findHeading(scan: MarkdownScan, topic: string, level: number, within?: { from: number; to: number }): MarkdownHeading | undefined {
  const want = ` ${normaliseHeading(topic)} `;
  return scan.headings.find(
    (h) => h.level === level && (!within || (h.line > within.from && h.line < within.to)) && ` ${normaliseHeading(h.text)} `.includes(want),
  );
}

/**
 * The heading that names `topic` at any level (content, not form: a document
 * may put its topics at `#`, `##`, `###` …): the shallowest such heading, the
 * first of those; `within` limits the search to a section's lines.
 */
export function findTopic(scan: MarkdownScan, topic: string, within?: { from: number; to: number }): MarkdownHeading | undefined {
  const want = ` ${normaliseHeading(topic)} `;
  let best: MarkdownHeading | undefined;
  for (const h of scan.headings) {
    if (within && !(h.line > within.from && h.line < within.to)) continue;
    if (!` ${normaliseHeading(h.text)} `.includes(want)) continue;
    if (!best || h.level < best.level) best = h;
  }
  return best;
}

/** A table row (outside code) whose first cell is `topic` (normalised, whole cell); `body` is the text of its other cells. */
export function findTableRow(scan: MarkdownScan, topic: string): { line: number; column: number; cell: string; body: string } | undefined {
  const want = normaliseHeading(topic);
  const inCode = new Set<number>();
  for (const c of scan.code) for (let l = c.line; l <= c.contentLine + c.text.split('\n').length; l++) inCode.add(l);
  for (let i = 0; i < scan.lines.length; i++) {
    const line = scan.lines[i]!;
    if (inCode.has(i + 1) || !/^\s*\|/.test(line) || /^\s*\|[\s:|-]+\|?\s*$/.test(line)) continue;
    const cells = line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|');
    const first = (cells[0] ?? '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    if (normaliseHeading(first) !== want) continue;
    return { line: i + 1, column: line.indexOf('|') + 1, cell: first.trim(), body: cells.slice(1).join(' ') };
  }
  return undefined;
}

/** Line range (exclusive bounds) of a heading's section: up to the next heading of the same or a higher level. */
export function sectionRange(scan: MarkdownScan, heading: MarkdownHeading): { from: number; to: number } {
  const next = scan.headings.find((h) => h.line > heading.line && h.level <= heading.level);
  return { from: heading.line, to: next ? next.line : scan.lines.length + 1 };
}

/** The text of a heading's section (without the heading line). */
export function sectionBody(scan: MarkdownScan, heading: MarkdownHeading): string {
  const { from, to } = sectionRange(scan, heading);
  return scan.lines.slice(from, to - 1).join('\n');
}

/** True when `word` occurs as a whole identifier (letters, digits, `_`), case-insensitively. */
export function mentions(text: string, word: string): boolean {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_])${escaped}($|[^A-Za-z0-9_])`, 'i').test(text);
}

export type DocFile =
  | { exists: true; file: string; text: string; scan: MarkdownScan; bytes: number }
  | { exists: false; file: string; reason: string };

/** Read a repo document once per run (memoised as `doc:<rel>`). */
export function readDoc(ctx: RuleContext, rel: string): DocFile {
  return ctx.once(`doc:${rel}`, (): DocFile => {
    const abs = join(ctx.root, rel);
    try {
      const st = statSync(abs);
      if (!st.isFile()) return { exists: false, file: rel, reason: 'is not a regular file' };
      const text = readFileSync(abs, 'utf8');
      return { exists: true, file: rel, text, scan: scanMarkdown(text), bytes: st.size };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return { exists: false, file: rel, reason: code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(error)})` };
    }
  });
}
