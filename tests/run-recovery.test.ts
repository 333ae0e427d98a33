// `orc-state run` under signals, with the real CLI in a child process:
// kill -9 mid-run then a resume re-runs no completed task (the tasks the dead
// runner left running go through worker_crashed → execution_failed → retry);
// doctor --repair recovers a killed run the same way; SIGINT stops assigning, signals the running process groups, records every
// outcome and exits 130; an attempt the drain interrupted uses no retry. After each, the log
// and the snapshot agree.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSnapshot } from '../src/engine/snapshot.js';
import { checkStore, doctor } from '../src/engine/doctor.js';
import { runPlan } from '../src/scheduler/loop.js';
import { readRunLock } from '../src/scheduler/run-lock.js';
import { statePaths } from '../src/engine/paths.js';
import { intervals, logAgrees, makeRepo, statuses, timed } from './run-helpers.js';

const PROJECT = join(import.meta.dirname, '..');
const BIN = join(PROJECT, 'bin/orc-state.js');

beforeAll(() => {
  if (!existsSync(join(PROJECT, 'dist/src/scheduler/loop.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: PROJECT, stdio: 'ignore' });
});

function startRun(root: string, args: string[]): { child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null; stdout: string }> } {
  const child = spawn(process.execPath, [BIN, 'run', '--root', root, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  child.stdout?.on('data', (d) => (stdout += String(d)));
  child.stderr?.on('data', (d) => (stdout += String(d)));
  const exited = new Promise<{ code: number | null; signal: string | null; stdout: string }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout })));
  return { child, exited };
}

/** Poll (bounded) until `cond` holds: the test waits for a state, it never decides by elapsed time. */
async function until(cond: () => boolean, what: string, limitMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const completed = (root: string) => {
  try {
    return (readSnapshot(root)?.tasks ?? []).filter((t) => t.status === 'completed').map((t) => t.task_id);
  } catch {
    return [];
  }
};

describe('orc-state run: what the user sees (CLI)', () => {
  it('--json is a JSON-lines event stream ending with the summary; off a TTY, timestamped lines and the summary', async () => {
    const root = await makeRepo([
      { id: 'one', command: 'echo hi' },
      { id: 'two', command: 'exit 3', deps: [] },
    ]);
    const json = await startRun(root, ['-j', '2', '--json']).exited;
    expect(json.code).toBe(1);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; summary?: { counts: Record<string, number> } });
    expect(lines[0]?.type).toBe('run_started');
    expect(lines.at(-1)?.type).toBe('run_finished');
    expect(lines.at(-1)?.summary?.counts).toMatchObject({ completed: 1, failed: 1 });
    expect(lines.filter((l) => l.type === 'task_finished')).toHaveLength(2);
    const root2 = await makeRepo([{ id: 'solo', command: 'true' }]);
    const plain = await startRun(root2, ['-j', '1']).exited;
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z run \S+: 1 task\(s\), 1 worker\(s\)$/m);
    expect(plain.stdout).toMatch(/Z done {3}solo attempt 1/);
    expect(plain.stdout).toMatch(/completed: 1\/1 completed/);
    expect(plain.stdout).toMatch(/summary: \.state\/runs\/\S+\.json/);
    expect(plain.stdout).not.toMatch(/\u001b\[/); // NO_COLOR
  });
});

describe('orc-state run: crash and signals', () => {
  it('kill -9 mid-run, then a resume: no completed task runs again, the dead runner\'s tasks are recovered', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `k${i}`);
    const root = await makeRepo(ids.map((id) => ({ id, command: timed(id, 'sleep 0.3'), maxRetries: 2 })));
    const { child, exited } = startRun(root, ['-j', '2']);
    await until(() => completed(root).length >= 2, 'two completed tasks');
    child.kill('SIGKILL');
    await exited;
    const before = new Set(completed(root));
    const leftRunning = (readSnapshot(root)?.tasks ?? []).filter((t) => t.status === 'running').map((t) => t.task_id);
    expect(readRunLock(statePaths(root))).not.toBeNull(); // the dead run's lock is still there
    // doctor names it, and says the next run takes it over
    const check = await checkStore(root);
    expect(check.issues).toContainEqual(expect.objectContaining({ check: 'stale_lock', file: '.state/run.lock', severity: 'warning', message: expect.stringMatching(/stale run lock: run \S+ \(pid \d+/) }));
    // (the kill may land between the snapshot rename and the log append: the next commit re-appends, Decision 4)

    const r = await runPlan({ root, jobs: 2, killGraceMs: 200 });
    expect(r.summary.recovered.sort()).toEqual(leftRunning.sort());
    expect(Object.values(statuses(root)).every((s) => s === 'completed')).toBe(true);
    const starts = new Map<string, number>();
    for (const line of ids.flatMap((id) => (existsSync(join(root, 'marks', id)) ? readFileSync(join(root, 'marks', id), 'utf8').split('\n') : []))) {
      const [id, kind] = line.split(' ');
      if (kind === 'start') starts.set(id as string, (starts.get(id as string) ?? 0) + 1);
    }
    for (const id of before) expect(starts.get(id)).toBe(1);
    const crashed = readFileSync(join(root, '.state/transitions.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"worker_crashed"'));
    expect(crashed.length).toBeGreaterThanOrEqual(2); // every worker of the dead run
    expect(readRunLock(statePaths(root))).toBeNull();
    expect(await logAgrees(root)).toEqual([]);
  });

  it('kill -9 mid-run, then doctor --repair recovers the dead run\'s tasks as a run would, and the next run has nothing to recover', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `d${i}`);
    const root = await makeRepo(ids.map((id) => ({ id, command: timed(id, 'sleep 0.3'), maxRetries: 2 })));
    const { child, exited } = startRun(root, ['-j', '2']);
    await until(() => completed(root).length >= 1 && (readSnapshot(root)?.tasks ?? []).some((t) => t.status === 'running'), 'a completed and a running task');
    child.kill('SIGKILL');
    await exited;
    const before = new Set(completed(root));
    const report = await doctor(root, { repair: true });
    expect(report.refused).toEqual([]);
    expect(report.repaired.join('\n')).toMatch(/recovered what run \S+ \(pid \d+ on [^)]+\) left: .*worker_crashed for run-/);
    expect(report.repaired.join('\n')).toMatch(/removed the stale run lock \.state\/run\.lock/);
    expect(readRunLock(statePaths(root))).toBeNull();
    const snap = readSnapshot(root);
    expect(snap?.tasks.filter((t) => t.status === 'running' || t.status === 'validating')).toEqual([]);
    expect(snap?.workers.filter((w) => w.status !== 'shutdown')).toEqual([]);
    const recoveredEvents = readFileSync(join(root, '.state/transitions.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { entity_type: string; trigger: string; metadata: Record<string, unknown> }).filter((e) => e.metadata['recovered_by'] === 'doctor');
    expect(recoveredEvents.some((e) => e.entity_type === 'task' && e.trigger === 'execution_failed' && e.metadata['error_type'] === 'worker_crashed')).toBe(true);
    expect((await checkStore(root)).issues.filter((i) => i.severity === 'error' || i.check === 'stale_lock')).toEqual([]);
    expect(await logAgrees(root)).toEqual([]);

    const r = await runPlan({ root, jobs: 2, killGraceMs: 200 });
    expect(r.summary.recovered).toEqual([]);
    expect(Object.values(statuses(root)).every((s) => s === 'completed')).toBe(true);
    const starts = new Map<string, number>();
    for (const id of ids) for (const line of existsSync(join(root, 'marks', id)) ? readFileSync(join(root, 'marks', id), 'utf8').split('\n') : []) if (line.split(' ')[1] === 'start') starts.set(id, (starts.get(id) ?? 0) + 1);
    for (const id of before) expect(starts.get(id)).toBe(1);
    expect(await logAgrees(root)).toEqual([]);
  });

  it('doctor --repair leaves a live run alone (its run lock names a live pid)', async () => {
    const root = await makeRepo([{ id: 'live', command: `echo "live start 1" >> marks/live; while [ ! -e marks/go ]; do sleep 0.05; done` }]);
    const run = runPlan({ root, jobs: 1, killGraceMs: 200 });
    await until(() => existsSync(join(root, 'marks/live')) && readSnapshot(root)?.tasks[0]?.status === 'running', 'the task to run');
    const report = await doctor(root, { repair: true });
    expect(report.repaired.filter((r) => /recovered|run lock/.test(r))).toEqual([]);
    expect(readRunLock(statePaths(root))).not.toBeNull();
    expect(readSnapshot(root)?.tasks[0]?.status).toBe('running');
    writeFileSync(join(root, 'marks/go'), '');
    const r = await run;
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(root, '.state/transitions.jsonl'), 'utf8')).not.toContain('"recovered_by":"doctor"');
  });

  it('SIGINT: stops assigning, signals the running groups, records their outcomes, exits 130', async () => {
    const body = (id: string) => `trap 'echo term >> marks/${id}.term; exit 143' TERM; echo "${id} start $(date +%s%N)" >> marks/${id}; sleep 20 & wait`;
    const root = await makeRepo([
      { id: 'long1', command: body('long1'), maxRetries: 1, priority: 5 },
      { id: 'long2', command: body('long2'), maxRetries: 1, priority: 5 },
      { id: 'next', command: timed('next', 'true'), deps: ['long1'] },
      { id: 'other', command: timed('other', 'true') },
    ]);
    const { child, exited } = startRun(root, ['-j', '2', '--shutdown-grace-ms', '2000']);
    await until(() => existsSync(join(root, 'marks/long1')) && existsSync(join(root, 'marks/long2')), 'both long tasks started');
    child.kill('SIGINT');
    const { code, stdout } = await exited;
    expect(code).toBe(130);
    expect(existsSync(join(root, 'marks/long1.term'))).toBe(true);
    expect(existsSync(join(root, 'marks/long2.term'))).toBe(true);
    const st = statuses(root);
    expect(st.long1).toBe('retrying'); // outcome recorded: an interrupted attempt, retried by the next run
    expect(st.long2).toBe('retrying');
    // ... without using a retry
    expect(readSnapshot(root)?.tasks.filter((t) => t.task_id.startsWith('long')).map((t) => t.retry_count)).toEqual([0, 0]);
    expect(st.next).toBe('pending');
    expect(st.other).toBe('pending'); // nothing new started after the signal
    expect(intervals(root).map((i) => i.id)).not.toContain('other');
    expect(stdout).toMatch(/interrupted/);
    expect(readRunLock(statePaths(root))).toBeNull();
    const snap = readSnapshot(root);
    expect(snap?.workers.filter((w) => w.status !== 'shutdown')).toEqual([]);
    expect(await logAgrees(root)).toEqual([]);
  });

  it('an attempt interrupted by the drain uses no retry: with max_retries 0 the task is retrying, and the next run completes it', async () => {
    // Runs until a TERM the first time; the re-run (marks/once.term exists) just succeeds.
    const command = `if [ -e marks/once.term ]; then echo "once start 1" >> marks/once; else trap 'echo term >> marks/once.term; exit 143' TERM; echo "once start 1" >> marks/once; sleep 20 & wait; fi`;
    const root = await makeRepo([{ id: 'once', command, maxRetries: 0 }]);
    const { child, exited } = startRun(root, ['-j', '1', '--shutdown-grace-ms', '2000']);
    await until(() => existsSync(join(root, 'marks/once')), 'the task to start');
    child.kill('SIGINT');
    expect((await exited).code).toBe(130);
    const t = readSnapshot(root)?.tasks.find((x) => x.task_id === 'once');
    expect(t).toMatchObject({ status: 'retrying', retry_count: 0 });
    const failed = readFileSync(join(root, '.state/transitions.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { trigger: string; entity_id: string; to_state: string; severity: string; metadata: Record<string, unknown> }).filter((e) => e.entity_id === 'once' && e.trigger === 'execution_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ to_state: 'retrying', severity: 'warning', metadata: { interrupted: true, error_type: 'cancelled', retry_count: 0 } });
    expect(await logAgrees(root)).toEqual([]);

    const r = await runPlan({ root, jobs: 1, killGraceMs: 200 });
    expect(r.exitCode).toBe(0);
    expect(readSnapshot(root)?.tasks.find((x) => x.task_id === 'once')).toMatchObject({ status: 'completed', retry_count: 0 });
    // Same attempt number, one log holding both runs.
    const log = readFileSync(join(root, '.state/logs/once/attempt-1.log'), 'utf8');
    expect(log.match(/# command main/g)).toHaveLength(2);
    expect(await logAgrees(root)).toEqual([]);
  });
});
