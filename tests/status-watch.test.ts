/**
 * `orc-state status --watch` as a child process on a pipe (non-TTY): a redraw
 * after each commit by another process, no ANSI codes (NO_COLOR and non-TTY),
 * one JSON summary per line with --json, and a clean exit 0 on SIGINT.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { readSnapshot } from '../src/engine/snapshot.js';
import { cli, copyExample, spawnCli } from './fixtures/serve/helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const watch = (root: string, extra: string[] = []) => spawnCli(['status', '--watch', '--root', root, ...extra]);

describe('status --watch', () => {
  test('redraws on each commit by another process, plain text on a pipe, exits 0 on SIGINT', async () => {
    const root = copyExample();
    dirs.push(root);
    const seq = readSnapshot(root)!.last_seq;
    const w = watch(root);
    await w.until(`--- seq ${seq} `);
    expect((await cli(['task', 'rel-tag', 'user_cancelled', '--root', root])).code).toBe(0);
    await w.until(`--- seq ${seq + 1} `);
    expect(w.output()).toContain('task_cancelled (task rel-tag: pending → cancelled)');
    expect(w.output()).toMatch(/workstream release-0-2 \w+: cancelled 1, pending 5/);
    w.child.kill('SIGINT');
    expect(await w.exit).toBe(0);
    expect(w.output()).not.toContain('\u001b[');
  });

  test('--json: one status object per commit', async () => {
    const root = copyExample();
    dirs.push(root);
    const seq = readSnapshot(root)!.last_seq;
    const w = watch(root, ['--json']);
    await w.until(`"last_seq":${seq},`);
    expect((await cli(['task', 'rel-bench', 'user_cancelled', '--root', root])).code).toBe(0);
    await w.until(`"last_seq":${seq + 1},`);
    w.child.kill('SIGINT');
    expect(await w.exit).toBe(0);
    const lines = w.output().trim().split('\n').map((l) => JSON.parse(l) as { type: string; last_seq: number });
    expect(lines.map((l) => [l.type, l.last_seq])).toEqual([
      ['status', seq],
      ['status', seq + 1],
    ]);
  });
});
