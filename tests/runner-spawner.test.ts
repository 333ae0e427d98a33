// The spawn helper (src/runner/spawner.ts): runProcess hands each spawn to one small
// long-lived process (fork cost grows with the spawner's memory), keeps process groups,
// output and exit status as before, and the helper never outlives its runner.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProcess } from '../src/runner/shell.js';
import { probeProcess } from '../src/scheduler/health.js';

const parentOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('spawn helper', () => {
  it('runs commands from the helper, in their own process group, with output, exit codes and spawn errors as before', async () => {
    let leader = 0;
    let parent = 0;
    const r = await runProcess({
      shell: 'echo out; echo err >&2; sleep 0.2; exit 3',
      cwd: process.cwd(),
      timeoutMs: 30_000,
      onSpawn: (pid) => {
        leader = pid;
        parent = parentOf(pid);
      },
    });
    expect(r).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', spawnError: null, timedOut: false });
    expect(leader).toBeGreaterThan(0);
    expect(parent).not.toBe(process.pid); // spawned by the helper, not by this (large) process
    const missing = await runProcess({ file: '/nonexistent/tool', cwd: process.cwd(), timeoutMs: 30_000 });
    expect(missing.spawnError).toMatch(/ENOENT/);
  });

  it('a timeout still kills the whole group (the runner signals -pgid itself)', async () => {
    // The timeout must fire after both children exist: under load the shell may not get that far in 300 ms, so
    // the attempt is repeated with a longer timeout until it did (the verdict never depends on the machine's speed).
    let dir = '';
    let r: Awaited<ReturnType<typeof runProcess>> | undefined;
    for (let timeoutMs = 300; timeoutMs <= 9600; timeoutMs *= 2) {
      dir = mkdtempSync(join(tmpdir(), 'orc-spawner-'));
      r = await runProcess({ shell: `sh -c 'trap "" TERM; sleep 30' & echo $! >> pids; sleep 30 & echo $! >> pids; echo ready; wait`, cwd: dir, timeoutMs, killGraceMs: 200 });
      if (r.stdout.includes('ready')) break;
    }
    expect(r!.stdout).toContain('ready');
    expect(r!.timedOut).toBe(true);
    const pids = readFileSync(join(dir, 'pids'), 'utf8').trim().split('\n').map(Number);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(probeProcess(pid)).toBe('gone'); // gone or a zombie awaiting its reaper, the TERM-ignoring one included
  });

  it('ORC_STATE_SPAWN=direct spawns from the runner itself; the helper exits when its runner is SIGKILLed', async () => {
    const script = join(import.meta.dirname, 'fixtures/run/spawner-probe.mjs');
    const run = (env: NodeJS.ProcessEnv) =>
      new Promise<{ out: string; child: ReturnType<typeof spawn> }>((resolve) => {
        const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) resolve({ out, child });
        });
      });
    const direct = await run({ ORC_STATE_SPAWN: 'direct' });
    const d = JSON.parse(direct.out) as { runner: number; parent: number };
    expect(d.parent).toBe(d.runner);
    direct.child.kill('SIGKILL');
    const helped = await run({});
    const h = JSON.parse(helped.out) as { runner: number; parent: number };
    expect(h.parent).not.toBe(h.runner);
    helped.child.kill('SIGKILL');
    // the helper notices its channel closed and exits (a deadline for a failure, never for success)
    for (let i = 0; i < 200 && alive(h.parent); i++) await new Promise((r) => setTimeout(r, 25));
    expect(alive(h.parent)).toBe(false);
  });

  for (const mode of ['helper', 'direct'] as const) {
    it(`with a log file (${mode}), the command writes straight into it; the tail is read back, the pid line left out`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'orc-spawner-log-'));
      const saved = process.env.ORC_STATE_SPAWN;
      if (mode === 'direct') process.env.ORC_STATE_SPAWN = 'direct';
      try {
        const path = join(dir, 'logs', 't', 'attempt-1.log');
        let leader = 0;
        const r = await runProcess({
          // stdout is the log file itself, not a pipe
          shell: 'if [ -f /dev/stdout ]; then echo to-file; else echo to-pipe; fi; echo err >&2; exit 3',
          cwd: dir,
          timeoutMs: 30_000,
          logFile: { dir: join(dir, 'logs', 't'), path, header: '# command main: x\n', pidLine: '# pid {pid} (process group {pid})\n' },
          onSpawn: (pid) => (leader = pid),
        });
        expect(r).toMatchObject({ exitCode: 3, stdout: 'to-file\nerr\n', stderr: '', spawnError: null });
        expect(r.logError).toBeUndefined();
        const log = readFileSync(path, 'utf8');
        expect(log.startsWith('# command main: x\n')).toBe(true);
        expect(log).toContain(`# pid ${leader} (process group ${leader})\n`);
        expect(log.replace(`# pid ${leader} (process group ${leader})\n`, '')).toBe('# command main: x\nto-file\nerr\n');
        // a log that cannot be opened: the command still runs, through pipes, and says why
        const bad = await runProcess({ shell: 'echo out', cwd: dir, timeoutMs: 30_000, logFile: { dir: join(path, 'x'), path: join(path, 'x', 'a.log'), header: '', pidLine: '' } });
        expect(bad).toMatchObject({ exitCode: 0, stdout: 'out\n' });
        expect(bad.logError).toMatch(/ENOTDIR|EEXIST/);
      } finally {
        if (saved === undefined) delete process.env.ORC_STATE_SPAWN;
        else process.env.ORC_STATE_SPAWN = saved;
      }
    });
  }
});
