/**
 * Shared logic of the failure-mode rules ERR-FM-001..003: the catalog's
 * required modes, parsing of docs/failure_modes/CATALOG.md table links, and
 * the set of mode files to inspect.
 *
 * Public API (internal): FM_DIR, CATALOG, FAILURE_MODES, modeFileName(mode),
 * catalogEntries(doc) → CatalogEntry[], modeDocs(ctx) → mode documents that exist,
 * MODE_SECTIONS.
 * Integration points: rules ERR-FM-001..003; F writes the documents.
 * Dependencies: ./markdown.js, ./types.js, node:path.
 */
import { posix } from 'node:path';
import { readDoc, type DocFile } from './markdown.js';
import type { RuleContext } from './types.js';

export const FM_DIR = 'docs/failure_modes';
export const CATALOG = `${FM_DIR}/CATALOG.md`;
export const FAILURE_MODES = [
  'Task-Timeout',
  'Task-Failed',
  'Worker-Unresponsive',
  'Resource-Exhaustion',
  'Validation-Failed',
  'Dependency-Cycle',
  'Context-Overflow',
  'State-Corruption',
] as const;

/** The `##` sections every mode file has (ERR-FM-001); Decision Tree is ERR-FM-003's. */
export const MODE_SECTIONS = [
  'Detection',
  'Probability',
  'Impact',
  'Manifestation',
  'Automatic Recovery',
  'Manual Intervention',
  'Related Failures',
] as const;

export function modeFileName(mode: string): string {
  return `${mode.toLowerCase()}.md`;
}

export interface CatalogEntry {
  name: string;
  /** Link target as written. */
  target: string;
  /** Repo-relative path the link resolves to (undefined for external links). */
  file?: string;
  line: number;
  column: number;
  /** How the catalog lists it: a table row with a link, or a heading (with or without a link). */
  kind: 'row' | 'heading';
}

/**
 * The modes CATALOG.md lists, as tables or as heading lists (content, not form):
 * links in table rows, `| [Task-Timeout](task-timeout.md) | … |`, and headings
 * below the title, `### 1. Task Timeout` or `## [Task-Timeout](task-timeout.md)`.
 */
export function catalogEntries(doc: Extract<DocFile, { exists: true }>): CatalogEntry[] {
  const out: CatalogEntry[] = [];
  let inFence = false;
  doc.scan.lines.forEach((line, i) => {
    if (/^ {0,3}(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence || !/^\s*\|/.test(line) || /^\s*\|[\s:|-]+\|?\s*$/.test(line)) return;
    const m = /\[([^\]]+)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/.exec(line);
    if (!m) return;
    const target = m[2]!;
    const external = /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#');
    const path = target.split('#')[0]!;
    out.push({
      name: m[1]!.replace(/[`*_]/g, '').trim(),
      target,
      ...(external || !path ? {} : { file: posix.normalize(posix.join(FM_DIR, path)) }),
      line: i + 1,
      column: m.index + 1,
      kind: 'row',
    });
  });
  for (const h of doc.scan.headings) {
    if (h.level < 2) continue; // the document's title
    const m = /\[([^\]]+)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/.exec(h.text);
    const target = m?.[2];
    const path = target?.split('#')[0];
    const external = !target || /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#');
    out.push({
      name: (m ? m[1]! : h.text).replace(/[`*_]/g, '').trim(),
      target: target ?? '',
      ...(external || !path ? {} : { file: posix.normalize(posix.join(FM_DIR, path)) }),
      line: h.line,
      column: h.column,
      kind: 'heading',
    });
  }
  return out;
}

/** Mode documents to inspect: the eight required modes' files and every file the catalog links to, when they exist. */
export function modeDocs(ctx: RuleContext): Array<Extract<DocFile, { exists: true }>> {
  return ctx.once('failure-mode-docs', () => {
    const files = new Set<string>(FAILURE_MODES.map((m) => `${FM_DIR}/${modeFileName(m)}`));
    const catalog = readDoc(ctx, CATALOG);
    if (catalog.exists) {
      for (const e of catalogEntries(catalog)) {
        if (e.file && e.file.startsWith(`${FM_DIR}/`) && e.file.endsWith('.md') && e.file !== CATALOG) files.add(e.file);
      }
    }
    return [...files]
      .sort()
      .map((f) => readDoc(ctx, f))
      .filter((d): d is Extract<DocFile, { exists: true }> => d.exists);
  });
}
