/**
 * Line diffs in unified format (what `orc-state migrate --dry-run` prints), on
 * jsdiff (the `diff` package).
 *
 * Public API:
 *   - diffLines(a, b): DiffOp[]                                   (stable) minimal line edit script (jsdiff diffArrays, Myers)
 *   - unifiedDiff(oldText, newText, { oldName, newName, context? }): string  (stable)
 *       '' when the texts are equal; otherwise `--- a/…`, `+++ b/…` and `@@` hunks
 *       with 3 lines of context, as `diff -u` / `git diff` print them
 *       (jsdiff createTwoFilesPatch, without its `====` banner). Line endings
 *       are kept inside lines, so a CRLF file diffs cleanly and a missing
 *       final newline is marked `\ No newline at end of file`.
 * Integration points: src/migrate/run.ts (dry run), tests.
 * Dependencies: diff (jsdiff).
 */
import { createTwoFilesPatch, diffArrays } from 'diff';

export type DiffOp = { kind: ' ' | '-' | '+'; line: string };

export function diffLines(a: readonly string[], b: readonly string[]): DiffOp[] {
  const out: DiffOp[] = [];
  for (const change of diffArrays([...a], [...b])) {
    const kind = change.added ? '+' : change.removed ? '-' : ' ';
    for (const line of change.value) out.push({ kind, line });
  }
  return out;
}

export function unifiedDiff(oldText: string, newText: string, names: { oldName: string; newName: string; context?: number }): string {
  if (oldText === newText) return '';
  const patch = createTwoFilesPatch(names.oldName, names.newName, oldText, newText, undefined, undefined, { context: names.context ?? 3 });
  // jsdiff opens with an `Index:`/`====` banner that diff -u and git do not print.
  return patch.replace(/^(?:Index: [^\n]*\n)?=+\n/, '');
}
