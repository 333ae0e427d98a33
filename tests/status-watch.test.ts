/**
 * `orc-state status --watch` as a child process on a pipe (non-TTY): a redraw
 * after each commit by another process, no ANSI codes (NO_COLOR and non-TTY),
 * one JSON summary per line with --json, and a clean exit 0 on SIGINT.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { readSnapshot } from '../src/engine/snapshot.js';
import { CLI, cli, copyExample } from './fixtures/serve/helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function watch(root: string, extra: string[] = []) {
  const child = spawn(process.execPath, [CLI, 'status', '--watch', '--root', root, ...extra], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: Array<() => void> = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => {
    out += c;
    for (const w of waiters.splice(0)) w();
  });
  const until = (needle: string) =>
    new Promise<void>((ok, ko) => {
      const timer = setTimeout(() => ko(new Error(`no "${needle}" in: ${out}`)), 20_000);
      const look = () => (out.includes(needle) ? (clearTimeout(timer), ok()) : waiters.push(look));
      look();
    });
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, until, exit, output: () => out };
}

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
