/**
 * Shared logic of the execution-model documentation rules EXEC-DOC-001..006:
 * the five documents, their required `##` topics (and `###` subtopics), and a
 * factory that builds one topic rule per document.
 *
 * Public API (internal): EXEC_DOCS, EXEC_DOC_DIR, MIN_PROSE_WORDS,
 * topicRule(spec) → Rule, topicFindings(ctx, spec), DocTopicSpec.
 * Integration points: src/compliance/rules/EXEC-DOC-00*.ts; F writes the
 * documents with exactly these headings (match is case-insensitive, whole words).
 * Dependencies: ./markdown.js, ./types.js, ../model.js.
 */
import type { Finding } from '../model.js';
import { findHeading, readDoc, sectionRange, type DocFile, type MarkdownScan } from './markdown.js';
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
  const { scan } = doc;
  const at = headingAnchor(scan);
  for (const { topic, subtopics } of spec.topics) {
    const heading = findHeading(scan, topic, 2);
    if (!heading) {
      const other = findHeading(scan, topic, 3) ?? findHeading(scan, topic, 1) ?? findHeading(scan, topic, 4);
      findings.push({
        requirement: spec.id,
        severity: 'error',
        file: doc.file,
        line: other?.line ?? at.line,
        column: other?.column ?? at.column,
        message: other
          ? `topic "${topic}" is a level-${other.level} heading ("${other.text}"); the required topics are \`##\` sections`
          : `no "## ${topic}" section: ${spec.file} must cover ${spec.topics.map((t) => t.topic).join(', ')}`,
        fix: other ? `make it "## ${other.text}"` : `add a "## ${topic}" section describing the ${topic.toLowerCase()} of the execution model`,
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
        message: `section "## ${heading.text}" is empty`,
        fix: `write the ${topic.toLowerCase()} content under the heading`,
      });
    }
    for (const sub of subtopics ?? []) {
      const found = findHeading(scan, sub, 3, range) ?? findHeading(scan, sub, 4, range);
      if (!found) {
        findings.push({
          requirement: spec.id,
          severity: 'error',
          file: doc.file,
          line: heading.line,
          column: heading.column,
          message: `section "## ${heading.text}" has no "### ${sub}" subsection`,
          fix: `add "### ${sub}" under "## ${heading.text}"`,
        });
      }
    }
  }
  return findings;
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
