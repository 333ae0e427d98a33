/**
 * EXEC-DOC-001 (MUST): docs/execution_model/ holds OVERVIEW.md,
 * STATE_MACHINE.md, SCHEDULING.md, WORKERS.md and RECOVERY.md, each
 * non-trivial (at least MIN_PROSE_WORDS words of prose outside headings and code).
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner; documents written by F.
 * Dependencies: ../doc-topics.js, ../markdown.js, ../types.js.
 */
import type { Finding } from '../../model.js';
import { EXEC_DOCS, EXEC_DOC_DIR, MIN_PROSE_WORDS } from '../doc-topics.js';
import { readDoc } from '../markdown.js';
import type { Rule } from '../types.js';

export const rule: Rule = {
  id: 'EXEC-DOC-001',
  level: 'MUST',
  section: 'docs',
  documents: true,
  title: 'Execution model documents exist and are non-trivial',
  check(ctx) {
    const findings: Finding[] = [];
    for (const name of EXEC_DOCS) {
      const doc = readDoc(ctx, `${EXEC_DOC_DIR}/${name}`);
      if (!doc.exists) {
        findings.push({
          requirement: 'EXEC-DOC-001',
          severity: 'error',
          file: doc.file,
          line: 1,
          column: 1,
          message: `${doc.file} ${doc.reason}`,
          fix: `write ${doc.file} (see the required topics in specifications/content/orchestration/spec.md, EXEC-DOC-002..006)`,
        });
        continue;
      }
      if (doc.scan.proseWords < MIN_PROSE_WORDS) {
        findings.push({
          requirement: 'EXEC-DOC-001',
          severity: 'error',
          file: doc.file,
          line: 1,
          column: 1,
          message: `${doc.file} is trivial: ${doc.scan.proseWords} words of prose outside headings and code (at least ${MIN_PROSE_WORDS} expected)`,
          fix: 'describe the topic in prose under each heading; headings and code blocks alone do not count',
        });
      }
    }
    return { findings };
  },
};
