/**
 * Shared logic of the execution-model documentation rules EXEC-DOC-001..006:
 * the five documents, their required topics (and subtopics), and a factory
 * that builds one topic rule per document. Content, not form: a topic is a
 * heading of any level (or a table row whose first cell names it) with
 * content; a subtopic is a deeper heading or a table row inside it.
 *
 * Public API (internal): EXEC_DOCS, EXEC_DOC_DIR, MIN_PROSE_WORDS,
 * topicRule(spec) → Rule, topicFindings(ctx, spec), DocTopicSpec.
 * Integration points: src/compliance/rules/EXEC-DOC-00*.ts; F writes the
 * documents (match is case-insensitive, whole words).
 * Dependencies: ./markdown.js, ./types.js, ../model.js.
 */
import type { Finding } from '../model.js';
import { findTableRow, findTopic, readDoc, sectionRange, type DocFile, type MarkdownScan } from './markdown.js';
import type { Rule, RuleContext, RuleOutcome } from './types.js';

export const EXEC_DOC_DIR = 'docs/execution_model';
export const EXEC_DOCS = ['OVERVIEW.md', 'STATE_MACHINE.md', 'SCHEDULING.md', 'WORKERS.md', 'RECOVERY.md'] as const;
/** Below this many words of prose (outside headings and code) a document is trivial. */
export const MIN_PROSE_WORDS = 150;

export interface DocTopicSpec {
  id: string;
  title: string;
  file: (typeof EXEC_DOCS)[number];
  topics: Array<{ topic: string; subtopics?: string[] }>;
  /** More checks on a document that exists (e.g. STATE_MACHINE.md names every state). */
  extra?: (doc: Extract<DocFile, { exists: true }>, ctx: RuleContext) => Finding[];
}

function headingAnchor(scan: MarkdownScan): { line: number; column: number } {
  const title = scan.headings[0];
  return title ? { line: title.line, column: title.column } : { line: 1, column: 1 };
}

export function topicFindings(doc: Extract<DocFile, { exists: true }>, spec: DocTopicSpec): Finding[] {
  const findings: Finding[] = [];
  const at = headingAnchor(doc.scan);
  // The document's title (a leading level-1 heading) names the document, not a topic in it.
  const title = doc.scan.headings[0]?.level === 1 ? doc.scan.headings[0] : undefined;
  const scan: MarkdownScan = title ? { ...doc.scan, headings: doc.scan.headings.filter((h) => h !== title) } : doc.scan;
  for (const { topic, subtopics } of spec.topics) {
    const heading = findTopic(scan, topic);
    if (!heading) {
      // A topic may also be a row of a table (first cell names it, the other cells describe it).
      const row = findTableRow(scan, topic);
      if (row && /[\p{L}\p{N}]/u.test(row.body)) {
        for (const sub of subtopics ?? []) {
          if (findTopic(scan, sub) || findTableRow(scan, sub)) continue;
          findings.push({
            requirement: spec.id,
            severity: 'error',
            file: doc.file,
            line: row.line,
            column: row.column,
            message: `topic "${row.cell}" (a table row) has no "${sub}" part: no heading or table row names it`,
            fix: `add a heading or a table row "${sub}" describing it`,
          });
        }
        continue;
      }
      findings.push({
        requirement: spec.id,
        severity: 'error',
        file: doc.file,
        line: row?.line ?? at.line,
        column: row?.column ?? at.column,
        message: row
          ? `topic "${row.cell}" is a table row with nothing in its other cells`
          : `no section on "${topic}": ${spec.file} must cover ${spec.topics.map((t) => t.topic).join(', ')} (as headings of any level or table rows)`,
        fix: row ? `describe the ${topic.toLowerCase()} in the row` : `add a "## ${topic}" section (any heading level) describing the ${topic.toLowerCase()} of the execution model`,
      });
      continue;
    }
    const range = sectionRange(scan, heading);
    const body = scan.lines.slice(range.from, range.to - 1).join('\n');
    if (!/[\p{L}\p{N}]/u.test(body)) {
      findings.push({
        requirement: spec.id,
        severity: 'error',
        file: doc.file,
        line: heading.line,
        column: heading.column,
        message: `section "${'#'.repeat(heading.level)} ${heading.text}" is empty`,
        fix: `write the ${topic.toLowerCase()} content under the heading`,
      });
    }
    for (const sub of subtopics ?? []) {
      const found = findTopic(scan, sub, range) ?? findTableRowIn(scan, sub, range);
      if (!found) {
        findings.push({
          requirement: spec.id,
          severity: 'error',
          file: doc.file,
          line: heading.line,
          column: heading.column,
          message: `section "${'#'.repeat(heading.level)} ${heading.text}" has no "${sub}" part (a subheading or table row)`,
          fix: `add "${'#'.repeat(Math.min(heading.level + 1, 6))} ${sub}" under "${heading.text}"`,
        });
      }
    }
  }
  return findings;
}

function findTableRowIn(scan: MarkdownScan, topic: string, range: { from: number; to: number }): { line: number } | undefined {
  const row = findTableRow({ ...scan, lines: scan.lines.map((l, i) => (i + 1 > range.from && i + 1 < range.to ? l : '')) }, topic);
  return row;
}

export function topicRule(spec: DocTopicSpec): Rule {
  return {
    id: spec.id,
    level: 'MUST',
    section: 'docs',
    documents: true,
    title: spec.title,
    check(ctx): RuleOutcome {
      const doc = readDoc(ctx, `${EXEC_DOC_DIR}/${spec.file}`);
      if (!doc.exists) return { skip: `${doc.file} ${doc.reason} (EXEC-DOC-001 reports missing documents)` };
      return { findings: [...topicFindings(doc, spec), ...(spec.extra?.(doc, ctx) ?? [])] };
    },
  };
}
