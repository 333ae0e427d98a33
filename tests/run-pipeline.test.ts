// `orc-state run` with pipelined group commits (src/scheduler/loop.ts): an attempt starts
// without waiting for the commit of its start, and the log still never holds an attempt's
// outcome before (or without) its start, with real processes, under a held lock, at -j 8 on
// fast tasks, and after a kill -9 of the runner. No check decides by elapsed time: the tests
// wait for states (a marker file, a number of completed tasks) with a bounded poll.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { acquireLock, type LockHandle } from '../src/io/lock.js';
import { checkStore } from '../src/engine/doctor.js';
import { statePaths } from '../src/engine/paths.js';
import { readSnapshot } from '../src/engine/snapshot.js';
import { runPlan } from '../src/scheduler/loop.js';
import type { OrcEvent } from '../src/model.js';
import { logAgrees, makeRepo, statuses, timed } from './run-helpers.js';

const PROJECT = join(import.meta.dirname, '..');
const BIN = join(PROJECT, 'bin/orc-state.js');
const OUTCOMES = new Set(['execution_completed', 'execution_failed', 'task_timeout']);

beforeAll(() => {
  if (!existsSync(join(PROJECT, 'dist/src/scheduler/loop.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: PROJECT, stdio: 'ignore' });
});

function events(root: string): OrcEvent[] {
  const text = readFileSync(join(root, '.state/transitions.jsonl'), 'utf8');
  // A kill -9 may leave a torn last line: only complete lines count.
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as OrcEvent);
}

/**
 * Every task outcome in the log must follow a worker_started of the same task on the same worker,
 * with no other outcome in between (one start, one outcome per attempt). Returns the violations.
 */
function outcomesWithoutStart(log: OrcEvent[]): string[] {
  const open = new Map<string, string | null>();
  const problems: string[] = [];
  for (const e of log) {
    if (e.entity_type !== 'task') continue;
    const worker = (e.metadata?.worker_id as string | undefined) ?? null;
    if (e.trigger === 'worker_started') open.set(e.entity_id, worker);
    else if (OUTCOMES.has(e.trigger)) {
      // The recovery of a dead runner records execution_failed for a task whose start is logged (running).
      if (!open.has(e.entity_id)) problems.push(`seq ${e.seq}: ${e.trigger} of ${e.entity_id} without an earlier worker_started`);
      else if (worker !== null && open.get(e.entity_id) !== null && open.get(e.entity_id) !== worker) problems.push(`seq ${e.seq}: ${e.trigger} of ${e.entity_id} by ${worker}, started on ${String(open.get(e.entity_id))}`);
      open.delete(e.entity_id);
    }
  }
  return problems;
}

/** Poll (bounded) until `cond` holds: the test waits for a state, it never decides by elapsed time. */
async function until(cond: () => boolean, what: string, limitMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function startMarks(root: string): Map<string, number> {
  const starts = new Map<string, number>();
  const dir = join(root, 'marks');
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const [id, kind] = line.split(' ');
      if (kind === 'start') starts.set(id as string, (starts.get(id as string) ?? 0) + 1);
    }
  }
  return starts;
}

describe('orc-state run: pipelined commits', () => {
  it('an attempt runs while the commit of its start waits for the lock; its outcome is committed only after that start', async () => {
    const root = await makeRepo([{ id: 'p1', command: timed('p1', 'true') }]);
    const stateDir = statePaths(root).stateDir;
    let held: Promise<LockHandle> | null = null;
    const run = runPlan({
      root,
      jobs: 1,
      killGraceMs: 200,
      lockTimeoutMs: 120_000,
      onEvent: (e) => {
        // Registered, nothing assigned yet: take the .state lock (its first try is synchronous, the lock is free).
        if (e.type === 'run_started') held = acquireLock(stateDir, { timeoutMs: 1000 });
      },
    });
    await until(() => held !== null, 'the run to register its workers');
    const lock = await (held as unknown as Promise<LockHandle>);
    // The process ran to its end although its start could not be committed (we hold the lock).
    await until(() => existsSync(join(root, 'marks/p1')) && readFileSync(join(root, 'marks/p1'), 'utf8').includes(' end '), 'p1 to run');
    expect(events(root).filter((e) => e.entity_id === 'p1' && (e.trigger === 'worker_started' || OUTCOMES.has(e.trigger)))).toEqual([]);
    expect(readSnapshot(root)?.tasks.find((t) => t.task_id === 'p1')?.status).toBe('pending');
    lock.release();
    const r = await run;
    expect(r.summary.tasks[0]?.status).toBe('completed');
    const log = events(root);
    const start = log.find((e) => e.entity_id === 'p1' && e.trigger === 'worker_started') as OrcEvent;
    const done = log.find((e) => e.entity_id === 'p1' && e.trigger === 'execution_completed') as OrcEvent;
    expect(start.seq).toBeLessThan(done.seq);
    expect(outcomesWithoutStart(log)).toEqual([]);
    expect(startMarks(root).get('p1')).toBe(1);
    expect(await logAgrees(root)).toEqual([]);
  });

  it('fast tasks at -j 8: every outcome follows its own start, batches hold several steps, each task runs once', async () => {
    const ids = Array.from({ length: 48 }, (_, i) => `f${i}`);
    // A chain inside the set, so a dependent is assigned right after a completion that may still be in flight.
    const root = await makeRepo(ids.map((id, i) => ({ id, command: timed(id, 'true'), ...(i % 6 === 5 ? { deps: [`f${i - 1}`] } : {}) })));
    const r = await runPlan({ root, jobs: 8, killGraceMs: 200 });
    expect(r.summary.counts.completed).toBe(ids.length);
    const log = events(root);
    expect(outcomesWithoutStart(log)).toEqual([]);
    // Each dependent started after its dependency's validation_passed (seq order).
    for (let i = 5; i < ids.length; i += 6) {
      const dep = log.find((e) => e.entity_id === `f${i - 1}` && e.trigger === 'validation_passed') as OrcEvent;
      const assigned = log.find((e) => e.entity_id === `f${i}` && e.trigger === 'scheduler_assigned') as OrcEvent;
      expect(dep.seq).toBeLessThan(assigned.seq);
    }
    // Group commit: fewer commits than task steps (two requests per start, two per outcome).
    expect(r.summary.commits).toBeLessThan(ids.length * 2);
    const starts = startMarks(root);
    for (const id of ids) expect(starts.get(id)).toBe(1);
    expect(await logAgrees(root)).toEqual([]);
  });

  it('kill -9 of a pipelined run: the log has no outcome without its start; the resume runs no completed task again', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const root = await makeRepo(ids.map((id) => ({ id, command: timed(id, 'true'), maxRetries: 2 })));
    const child = spawn(process.execPath, [BIN, 'run', '--root', root, '-j', '8', '--json'], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const completed = () => {
      try {
        return (readSnapshot(root)?.tasks ?? []).filter((t) => t.status === 'completed').map((t) => t.task_id);
      } catch {
        return [];
      }
    };
    await until(() => completed().length >= 10, 'ten completed tasks');
    child.kill('SIGKILL');
    await exited;
    expect(outcomesWithoutStart(events(root))).toEqual([]);
    const before = new Set(completed());
    const r = await runPlan({ root, jobs: 8, killGraceMs: 200 });
    expect(Object.values(statuses(root)).every((s) => s === 'completed')).toBe(true);
    expect(r.exitCode).toBe(0);
    const starts = startMarks(root);
    for (const id of before) expect(starts.get(id)).toBe(1);
    expect(outcomesWithoutStart(events(root))).toEqual([]);
    expect(await logAgrees(root)).toEqual([]);
    const issues = (await checkStore(root)).issues.filter((i) => i.severity === 'error');
    expect(issues).toEqual([]);
  });
});
