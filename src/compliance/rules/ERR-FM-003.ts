/**
 * ERR-FM-003 (SHOULD): each failure mode file has a Decision Tree (a heading of any level)
 * section that covers detection, automatic attempts, escalation and the
 * human triggers, as a tree (at least three list items, or a diagram in a code block).
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner.
 * Dependencies: ../failure-modes.js, ../markdown.js.
 */
import type { Finding } from '../../model.js';
import { modeDocs } from '../failure-modes.js';
import { findTopic, sectionRange } from '../markdown.js';
import type { Rule } from '../types.js';

const STAGES: Array<[string, RegExp]> = [
  ['detection', /detect/i],
  ['automatic attempts', /automatic|retr(y|ies)|self-heal|recover/i],
  ['escalation', /escalat/i],
  ['human triggers', /human|manual|operator|person|on-call/i],
];

export const rule: Rule = {
  id: 'ERR-FM-003',
  level: 'SHOULD',
  section: 'failure-modes',
  documents: true,
  title: 'Each failure mode has a decision tree',
  check(ctx) {
    const docs = modeDocs(ctx);
    if (docs.length === 0) return { skip: 'no failure mode files under docs/failure_modes/ (ERR-FM-002 reports them)' };
    const findings: Finding[] = [];
    for (const doc of docs) {
      const heading = findTopic(doc.scan, 'Decision Tree') ?? findTopic(doc.scan, 'Decision Trees');
      if (!heading) {
        const title = doc.scan.headings[0];
        findings.push({
          requirement: 'ERR-FM-003',
          severity: 'warning',
          file: doc.file,
          line: title?.line ?? 1,
          column: title?.column ?? 1,
          message: 'no "Decision Tree" section (a heading of any level)',
          fix: 'add "## Decision Tree": a nested list from detection through automatic attempts to escalation and the point where a human acts',
        });
        continue;
      }
      const range = sectionRange(doc.scan, heading);
      const lines = doc.scan.lines.slice(range.from, range.to - 1);
      const body = lines.join('\n');
      const items = lines.filter((l) => /^\s*([-*+]|\d+[.)])\s+\S/.test(l)).length;
      const diagram = doc.scan.code.some((c) => c.line > range.from && c.line < range.to);
      const missing = STAGES.filter(([, re]) => !re.test(body)).map(([name]) => name);
      if (items < 3 && !diagram) {
        findings.push({
          requirement: 'ERR-FM-003',
          severity: 'warning',
          file: doc.file,
          line: heading.line,
          column: heading.column,
          message: `the decision tree is not a tree (${items} list item${items === 1 ? '' : 's'}, no diagram)`,
          fix: 'write it as a nested list (or a diagram in a code block) with a branch per outcome',
        });
      }
      if (missing.length) {
        findings.push({
          requirement: 'ERR-FM-003',
          severity: 'warning',
          file: doc.file,
          line: heading.line,
          column: heading.column,
          message: `the decision tree does not cover ${missing.join(', ')}`,
          fix: 'cover each stage: how it is detected, what is tried automatically, when it escalates, and what makes a human act',
        });
      }
    }
    return { findings };
  },
};
