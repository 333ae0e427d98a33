/**
 * `orc-state serve` as a command: the printed URL (human and --json), a port
 * already in use (exit 2 with a fix), bad flags, the non-loopback warning,
 * and exit 0 on SIGTERM.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { cli, copyExample, raw, spawnCli } from './fixtures/serve/helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** serve with its first stdout line (the URL, or the --json document). */
function start(args: string[]) {
  const run = spawnCli(['serve', ...args]);
  const line = Promise.race([run.until('\n').then(() => run.firstLine()), run.exit.then((code) => Promise.reject(new Error(`serve exited ${code}: ${run.stderr()}`)))]);
  return { ...run, line };
}

describe('orc-state serve', () => {
  test('prints its URL, refuses a port in use, stops with exit 0', async () => {
    const root = copyExample();
    dirs.push(root);
    const a = start(['--port', '0', '--root', root]);
    const text = await a.line;
    const m = /^orc-state serve http:\/\/127\.0\.0\.1:(\d+)\/ \(/.exec(text);
    expect(m, text).not.toBeNull();
    expect(text).not.toContain('\u001b[');
    const port = Number(m![1]);
    expect((await raw(port, '/api/state')).status).toBe(200);

    const b = await cli(['serve', '--port', String(port), '--root', root, '--json']);
    expect(b.code).toBe(2);
    const err = JSON.parse(b.stdout) as { ok: boolean; error: { code: string; message: string; fix: string } };
    expect(err.error.message).toBe(`port ${port} on 127.0.0.1 is in use`);
    expect(err.error.fix).toContain('--port 0');

    a.child.kill('SIGTERM');
    expect(await a.exit).toBe(0);
  });

  test('--json prints one line {ok, url, port, api_version}; a non-loopback bind warns', async () => {
    const root = copyExample();
    dirs.push(root);
    const s = start(['--port', '0', '--host', '0.0.0.0', '--json', '--root', root]);
    const doc = JSON.parse(await s.line) as { ok: boolean; url: string; port: number; host: string; api_version: string };
    expect(doc).toMatchObject({ ok: true, host: '0.0.0.0', api_version: '1.0.0', url: `http://127.0.0.1:${doc.port}/` });
    expect((await raw(doc.port, '/api/state', { Host: `evil.example:${doc.port}` })).status).toBe(403);
    s.child.kill('SIGINT');
    expect(await s.exit).toBe(0);

    const h = start(['--port', '0', '--host', '0.0.0.0', '--root', root]);
    await h.line;
    await h.until('warning: bound to 0.0.0.0', 'stderr');
    h.child.kill('SIGINT');
    expect(await h.exit).toBe(0);
  });

  test('bad flags are usage errors (exit 2)', async () => {
    const root = copyExample();
    dirs.push(root);
    for (const args of [['--port', '70000'], ['--port', 'x'], ['--max-clients', '0']]) {
      const r = await cli(['serve', ...args, '--root', root]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('fix:');
    }
  });
});
