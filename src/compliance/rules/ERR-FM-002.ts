/**
 * ERR-FM-002 (MUST): docs/failure_modes/CATALOG.md lists (as table-row links
 * `[Task-Timeout](task-timeout.md)` or as headings, `### Task Timeout`) at least Task-Timeout, Task-Failed,
 * Worker-Unresponsive, Resource-Exhaustion, Validation-Failed,
 * Dependency-Cycle, Context-Overflow and State-Corruption, and every listed
 * mode's file exists.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner.
 * Dependencies: ../failure-modes.js, ../markdown.js, node:fs, node:path.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from '../../model.js';
import { CATALOG, FAILURE_MODES, FM_DIR, catalogEntries, modeFileName } from '../failure-modes.js';
import { readDoc } from '../markdown.js';
import type { Rule } from '../types.js';

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '');

export const rule: Rule = {
  id: 'ERR-FM-002',
  level: 'MUST',
  section: 'failure-modes',
  documents: true,
  title: 'CATALOG.md lists every failure mode and each has its file',
  check(ctx) {
    const doc = readDoc(ctx, CATALOG);
    if (!doc.exists) {
      return {
        findings: [
          {
            requirement: 'ERR-FM-002',
            severity: 'error',
            file: CATALOG,
            line: 1,
            column: 1,
            message: `${CATALOG} ${doc.reason}`,
            fix: `write ${CATALOG} with a table row per failure mode linking its file, e.g. | [Task-Timeout](task-timeout.md) | … |`,
          },
        ],
      };
    }
    const findings: Finding[] = [];
    const entries = catalogEntries(doc);
    const firstRow = entries[0] ?? { line: doc.scan.headings[0]?.line ?? 1, column: 1 };
    for (const mode of FAILURE_MODES) {
      const expectedFile = `${FM_DIR}/${modeFileName(mode)}`;
      const listed = entries.find((e) => (e.kind === 'row' ? norm(e.name) === norm(mode) : norm(e.name).includes(norm(mode))) || e.file === expectedFile);
      if (!listed) {
        findings.push({
          requirement: 'ERR-FM-002',
          severity: 'error',
          file: CATALOG,
          line: firstRow.line,
          column: firstRow.column,
          message: `failure mode ${mode} is not listed in the catalog (as a table row or a heading)`,
          fix: `add a row | [${mode}](${modeFileName(mode)}) | detection | severity | recovery |, or a heading "## ${mode}"`,
        });
        continue;
      }
      // A mode listed by a heading without a link has its file at the conventional name.
      if (!listed.file && !existsSync(join(ctx.root, expectedFile))) {
        findings.push({
          requirement: 'ERR-FM-002',
          severity: 'error',
          file: CATALOG,
          line: listed.line,
          column: listed.column,
          message: `the catalog lists ${mode} but its file ${expectedFile} does not exist`,
          fix: `write ${expectedFile} (sections: Detection, Probability, Impact, Manifestation, Automatic Recovery, Manual Intervention, Related Failures, Decision Tree) or link the heading to the mode's file`,
        });
      }
    }
    for (const e of entries) {
      if (!e.file) continue;
      if (!existsSync(join(ctx.root, e.file))) {
        findings.push({
          requirement: 'ERR-FM-002',
          severity: 'error',
          file: CATALOG,
          line: e.line,
          column: e.column,
          message: `the catalog lists ${e.name} but its file ${e.file} does not exist`,
          fix: `write ${e.file} (sections: Detection, Probability, Impact, Manifestation, Automatic Recovery, Manual Intervention, Related Failures, Decision Tree) or fix the link`,
        });
      }
    }
    return { findings };
  },
};
