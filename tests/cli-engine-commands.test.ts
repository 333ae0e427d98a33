// The engine's CLI commands end to end (few, slow-ish: each runs node bin/orc-state.js from a private build).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { acquireLock } from '../src/io/lock.js';
import { privateBuild } from './fixtures/engine/build.js';
// @ts-expect-error plain JS fixture
import { makeRepo } from './fixtures/engine/make-repo.mjs';

let cli = '';
let root = '';

function orc(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args, '--root', root], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ORC_STATE_ACTOR: 'cli-test' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  cli = join(privateBuild(), 'bin', 'orc-state.js');
  root = makeRepo({ build: [{ id: 'compile' }, { id: 'link', deps: ['compile'], maxRetries: 0 }] }) as string;
}, 120_000);

describe('orc-state engine commands', () => {
  it('init scaffolds without overwriting and registers the task files there, sync then has nothing to add, task/worker print acknowledged seqs', () => {
    const init = orc('init');
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/created \.state\/current\.json/);
    expect(init.stdout).toMatch(/registered 1 workstream\(s\) and 2 task\(s\) found under tasks\//);
    const again = orc('init');
    expect(again.stdout).toMatch(/kept \.state\/current\.json \(exists\)/);
    expect(orc('sync').stdout).toMatch(/0 task\(s\) registered/);
    expect(orc('worker', 'w1', 'worker_registered', '--capabilities', 'build,test').stdout).toMatch(/acknowledged seq \d+ worker_registered/);
    orc('worker', 'w1', 'registration_complete');
    const q = orc('task', 'compile', 'scheduler_assigned');
    expect(q.code).toBe(0);
    expect(q.stdout).toMatch(/^acknowledged seq \d+ task_queued \(task compile: pending → queued\)/m);
    const json = JSON.parse(orc('task', 'compile', 'worker_started', '--worker', 'w1', '--json').stdout) as { ok: boolean; events: Array<{ event: string }> };
    expect(json.ok).toBe(true);
    expect(json.events.map((e) => e.event)).toContain('task_started');
  });

  it('an illegal transition exits 1 and names the allowed triggers; an unknown task exits 2', () => {
    const bad = orc('task', 'link', 'worker_started', '--worker', 'w1');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/task link is pending/);
    expect(bad.stderr).toMatch(/allowed from pending: scheduler_assigned, user_cancelled/);
    const unknown = orc('task', 'nope', 'scheduler_assigned', '--json');
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('status and replay are read-only; why explains a failure', () => {
    orc('task', 'compile', 'execution_failed', '--error', 'cc: syntax error');
    const log = readFileSync(join(root, '.state/transitions.jsonl'));
    const status = JSON.parse(orc('status', '--json').stdout) as { tasks: Record<string, number>; stale: boolean };
    expect(status.stale).toBe(false);
    expect(status.tasks).toMatchObject({ retrying: 1, pending: 1 });
    const replayed = JSON.parse(orc('replay', '--seq', '3', '--json').stdout) as { last_seq: number };
    expect(replayed.last_seq).toBe(3);
    const why = orc('why', 'compile');
    expect(why.code).toBe(0);
    expect(why.stdout).toMatch(/task compile: retrying/);
    expect(why.stdout).toMatch(/error: cc: syntax error/);
    expect(readFileSync(join(root, '.state/transitions.jsonl')).equals(log)).toBe(true);
  });

  it('a held lock makes a writer exit 3 naming the holder', async () => {
    const held = await acquireLock(join(root, '.state'), { command: 'test holding the lock' });
    try {
      const r = orc('task', 'link', 'user_cancelled', '--lock-timeout', '300');
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`pid ${process.pid}`);
      expect(r.stderr).toContain('test holding the lock');
    } finally {
      held.release();
    }
  });

  it('doctor reports, --repair fixes; log rotate seals; prune below 90 days is refused', () => {
    execFileSync('sh', ['-c', `printf '{"seq":' >> ${join(root, '.state/transitions.jsonl')}`]);
    const check = orc('doctor');
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/\[torn_tail\]/);
    const fixed = orc('doctor', '--repair', '--json');
    expect(fixed.code).toBe(0);
    expect((JSON.parse(fixed.stdout) as { repaired: string[] }).repaired.join('\n')).toMatch(/truncated 7 byte/);
    const rotate = orc('log', 'rotate');
    expect(rotate.code).toBe(0);
    expect(rotate.stdout).toMatch(/sealed seq 1\.\.\d+ .* into \.state\/archive\/transitions\.1-\d+\.jsonl\.gz; acknowledged seq \d+ log_rotated/);
    expect(orc('why', 'compile').stdout).toMatch(/cc: syntax error/);
    const prune = orc('log', 'prune', '--older-than-days', '30');
    expect(prune.code).toBe(2);
    expect(prune.stderr).toMatch(/younger than 90 days/);
    expect(orc('doctor').code).toBe(0);
    expect(existsSync(join(root, '.state/current.json.tmp'))).toBe(false);
  });
});
