/**
 * Line diffs in unified format (what `orc-state migrate --dry-run` prints).
 *
 * Public API:
 *   - diffLines(a, b): DiffOp[]                                   (stable) Myers O(ND) line diff
 *   - unifiedDiff(oldText, newText, { oldName, newName, context? }): string  (stable)
 *       '' when the texts are equal; otherwise `--- a/…`, `+++ b/…` and `@@` hunks
 *       with 3 lines of context, as `diff -u` / `git diff` print them. Line
 *       endings are kept inside lines, so a CRLF file diffs cleanly and a
 *       missing final newline is marked `\ No newline at end of file`.
 * Integration points: src/migrate/run.ts (dry run), tests.
 * Dependencies: none.
 */

export type DiffOp = { kind: ' ' | '-' | '+'; line: string };

/** Split keeping terminators: 'a\r\nb' → ['a\r\n', 'b']. */
function splitLines(text: string): string[] {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g);
  return lines ?? [];
}

/** Myers' greedy algorithm with a trace for backtracking (fine for files of a few thousand lines). */
export function diffLines(a: readonly string[], b: readonly string[]): DiffOp[] {
  // Trim common prefix/suffix first: migrations change a few lines of large files.
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const A = a.slice(pre, a.length - suf);
  const B = b.slice(pre, b.length - suf);
  const n = A.length;
  const m = B.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = n === 0 && m === 0;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number))) x = v[offset + k + 1] as number;
      else x = (v[offset + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && A[x] === B[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Backtrack.
  const middle: DiffOp[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0 && (x > 0 || y > 0); d--) {
    const vd = trace[d] as Int32Array;
    const k = x - y;
    let prevK: number;
    if (k === -d || (k !== d && (vd[offset + k - 1] as number) < (vd[offset + k + 1] as number))) prevK = k + 1;
    else prevK = k - 1;
    const prevX = d === 0 ? 0 : (vd[offset + prevK] as number);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      middle.push({ kind: ' ', line: A[x - 1] as string });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) middle.push({ kind: '+', line: B[y - 1] as string });
      else middle.push({ kind: '-', line: A[x - 1] as string });
    }
    x = prevX;
    y = prevY;
  }
  middle.reverse();
  return [
    ...a.slice(0, pre).map((line) => ({ kind: ' ' as const, line })),
    ...middle,
    ...a.slice(a.length - suf).map((line) => ({ kind: ' ' as const, line })),
  ];
}

function printLine(op: DiffOp): string {
  if (op.line.endsWith('\n')) return `${op.kind}${op.line}`;
  return `${op.kind}${op.line}\n\\ No newline at end of file\n`;
}

export function unifiedDiff(oldText: string, newText: string, names: { oldName: string; newName: string; context?: number }): string {
  if (oldText === newText) return '';
  const context = names.context ?? 3;
  const ops = diffLines(splitLines(oldText), splitLines(newText));
  let out = `--- ${names.oldName}\n+++ ${names.newName}\n`;
  // Indices of changed ops, grouped into hunks separated by more than 2*context unchanged lines.
  const changed = ops.map((op, i) => (op.kind === ' ' ? -1 : i)).filter((i) => i >= 0);
  let h = 0;
  while (h < changed.length) {
    let first = changed[h] as number;
    let last = first;
    while (h + 1 < changed.length && (changed[h + 1] as number) - last <= 2 * context + 1) last = changed[++h] as number;
    h++;
    const from = Math.max(0, first - context);
    const to = Math.min(ops.length - 1, last + context);
    first = from;
    // Line numbers at the hunk start.
    let oldLine = 1;
    let newLine = 1;
    for (let i = 0; i < from; i++) {
      const k = (ops[i] as DiffOp).kind;
      if (k !== '+') oldLine++;
      if (k !== '-') newLine++;
    }
    let oldCount = 0;
    let newCount = 0;
    let body = '';
    for (let i = from; i <= to; i++) {
      const op = ops[i] as DiffOp;
      if (op.kind !== '+') oldCount++;
      if (op.kind !== '-') newCount++;
      body += printLine(op);
    }
    const range = (startLine: number, count: number) => (count === 1 ? `${startLine}` : `${count === 0 ? startLine - 1 : startLine},${count}`);
    out += `@@ -${range(oldLine, oldCount)} +${range(newLine, newCount)} @@\n${body}`;
  }
  return out;
}
