// `orc-state run` end to end with real processes: parallelism, dependencies,
// resources, retries, timeouts, fallbacks, outputs, unassignable tasks, budget,
// fail-fast, the run lock. Each command records its own start/end times, so the
// checks are about what the processes did, not about the scheduler's opinion.
// Time-driven decisions (retry delays) run on an injected FakeClock.
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPlan, screenRequests } from '../src/scheduler/loop.js';
import { planRun } from '../src/scheduler/dry-run.js';
import { FakeClock } from '../src/scheduler/clock.js';
import { acquireRunLock } from '../src/scheduler/run-lock.js';
import { probeProcess } from '../src/scheduler/health.js';
import { statePaths } from '../src/engine/paths.js';
import { readSnapshot } from '../src/engine/snapshot.js';
import type { OrcEvent } from '../src/model.js';
import { validate } from '../src/schema/registry.js';
import type { RuntimeResource } from '../src/scheduler/admission.js';
import { intervals, logAgrees, makeRepo, maxOverlap, overlaps, statuses, timed } from './run-helpers.js';

const UPSTREAM_REPO = join(import.meta.dirname, 'fixtures/upstream/repo');

function events(root: string): OrcEvent[] {
  return readFileSync(join(root, '.state/transitions.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as OrcEvent);
}

const quiet = { killGraceMs: 200, heartbeatIntervalMs: 200 };

describe('orc-state run: parallelism and order', () => {
  it('reaches the -j limit and never exceeds it', async () => {
    const root = await makeRepo(Array.from({ length: 9 }, (_, i) => ({ id: `p${i}`, command: timed(`p${i}`, 'sleep 0.4') })));
    const r = await runPlan({ root, jobs: 3, ...quiet });
    const iv = intervals(root);
    expect(iv).toHaveLength(9);
    expect(maxOverlap(iv)).toBe(3);
    expect(r.exitCode).toBe(0);
    expect(r.summary.counts.completed).toBe(9);
    expect(await logAgrees(root)).toEqual([]);
  });

  it('starts a task only after its dependencies ended', async () => {
    const root = await makeRepo([
      { id: 'a', command: timed('a', 'sleep 0.2') },
      { id: 'b', command: timed('b', 'sleep 0.2'), deps: ['a'] },
      { id: 'c', command: timed('c', 'sleep 0.1'), deps: ['a'] },
      { id: 'd', command: timed('d', 'true'), deps: ['b', 'c'] },
    ]);
    await runPlan({ root, jobs: 4, ...quiet });
    const iv = Object.fromEntries(intervals(root).map((i) => [i.id, i]));
    expect(iv.b!.start).toBeGreaterThanOrEqual(iv.a!.end);
    expect(iv.c!.start).toBeGreaterThanOrEqual(iv.a!.end);
    expect(iv.d!.start).toBeGreaterThanOrEqual(Math.max(iv.b!.end, iv.c!.end));
    expect(overlaps(iv.b!, iv.c!)).toBe(true); // b and c did run together
    expect(await logAgrees(root)).toEqual([]);
  });

  it('never runs two holders of an exclusive resource, nor two conflicting resources, at once', async () => {
    const resources = [
      { ResourceId: 'db', Type: 'exclusive', Description: 'the test database', MaxHolders: 1 },
      { ResourceId: 'pool', Type: 'shared', Description: 'two slots', MaxHolders: 2 },
    ];
    const root = await makeRepo(
      [
        ...['x1', 'x2', 'x3'].map((id) => ({ id, command: timed(id, 'sleep 0.25'), resources: { db: 'exclusive' as const } })),
        ...['s1', 's2', 's3', 's4'].map((id) => ({ id, command: timed(id, 'sleep 0.25'), resources: { pool: 'shared' as const } })),
        { id: 'free', command: timed('free', 'sleep 0.25') },
      ],
      { resources },
    );
    await runPlan({ root, jobs: 8, ...quiet });
    const iv = intervals(root);
    const of = (p: string) => iv.filter((i) => i.id.startsWith(p));
    expect(maxOverlap(of('x'))).toBe(1);
    expect(maxOverlap(of('s'))).toBe(2);
    expect(maxOverlap(iv)).toBeGreaterThanOrEqual(3); // the others did run beside them
    expect(await logAgrees(root)).toEqual([]);

    // Conflicting resources (ConflictsWith), given to the library call directly.
    const root2 = await makeRepo([
      ...['m1', 'm2'].map((id) => ({ id, command: timed(id, 'sleep 0.25'), resources: { migrate: 'shared' as const } })),
      ...['r1', 'r2'].map((id) => ({ id, command: timed(id, 'sleep 0.25'), resources: { reports: 'shared' as const } })),
    ]);
    const conflict = new Map<string, RuntimeResource>([
      ['migrate', { ResourceId: 'migrate', Type: 'shared', MaxHolders: -1, ConflictsWith: ['reports'] }],
      ['reports', { ResourceId: 'reports', Type: 'shared', MaxHolders: -1 }],
    ]);
    const r2 = await runPlan({ root: root2, jobs: 4, resources: conflict, ...quiet });
    expect(r2.summary.counts.completed).toBe(4);
    const iv2 = intervals(root2);
    for (const m of iv2.filter((i) => i.id.startsWith('m'))) for (const r of iv2.filter((i) => i.id.startsWith('r'))) expect(overlaps(m, r)).toBe(false);
    expect(maxOverlap(iv2.filter((i) => i.id.startsWith('m')))).toBe(2); // same resource, shared: together
    expect(await logAgrees(root2)).toEqual([]);
  });
  it('reads ConflictsWith from an upstream resources.psd1 (top-level array, Metadata) and never co-runs the pair', async () => {
    const root = await makeRepo([
      ...['w1', 'w2'].map((id) => ({ id, command: timed(id, 'sleep 0.25'), resources: { filesystem_write: 'shared' as const } })),
      ...['r1', 'r2'].map((id) => ({ id, command: timed(id, 'sleep 0.25'), resources: { filesystem_read: 'shared' as const } })),
    ]);
    copyFileSync(join(UPSTREAM_REPO, 'capabilities/resources.psd1'), join(root, 'capabilities/resources.psd1'));
    const r = await runPlan({ root, jobs: 4, ...quiet });
    expect(r.summary.counts.completed).toBe(4);
    const iv = intervals(root);
    for (const w of iv.filter((i) => i.id.startsWith('w'))) for (const rd of iv.filter((i) => i.id.startsWith('r'))) expect(overlaps(w, rd)).toBe(false);
    expect(maxOverlap(iv.filter((i) => i.id.startsWith('r')))).toBe(2); // readers share
    expect(await logAgrees(root)).toEqual([]);
  });
});

describe('orc-state run: failures', () => {
  it('waits growing retry delays (on the injected clock) and commits retry_delay_elapsed after each', async () => {
    const root = await makeRepo([{ id: 'flaky', command: 'exit 5', maxRetries: 3, retryDelay: 2 }]);
    const clock = new FakeClock(Date.now(), { autoAdvance: true });
    const r = await runPlan({ root, jobs: 1, clock, random: () => 0.5, ...quiet });
    expect(r.summary.tasks[0]?.status).toBe('failed');
    expect(r.summary.tasks[0]?.attempts).toBe(4);
    const ev = events(root).filter((e) => e.entity_id === 'flaky');
    const delays = ev.filter((e) => typeof e.metadata.retry_delay_ms === 'number').map((e) => e.metadata.retry_delay_ms as number);
    expect(delays).toEqual([2000, 4000, 8000]);
    // each retry_delay_elapsed comes no earlier than the planned delay after its failure
    const fails = ev.filter((e) => e.trigger === 'execution_failed');
    const elapsed = ev.filter((e) => e.trigger === 'retry_delay_elapsed');
    expect(elapsed).toHaveLength(3);
    elapsed.forEach((e, i) => expect(Date.parse(e.timestamp) - Date.parse(fails[i]!.timestamp)).toBeGreaterThanOrEqual(delays[i]!));
    expect(await logAgrees(root)).toEqual([]);
  });

  it('non_retryable_exit_codes fail at once', async () => {
    const root = await makeRepo([{ id: 'fatal', command: 'exit 42', maxRetries: 5, execution: { retry_policy: { non_retryable_exit_codes: [42] } } }]);
    const r = await runPlan({ root, jobs: 1, ...quiet });
    expect(r.summary.tasks[0]).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('kills the whole process tree of a timed-out task and records task_timeout', async () => {
    const root = await makeRepo([
      { id: 'slow', timeout: 1, command: `echo $$ >> pids; sh -c 'trap "" TERM; sleep 30' & echo $! >> pids; sleep 30 & echo $! >> pids; wait` },
    ]);
    const r = await runPlan({ root, jobs: 1, ...quiet });
    expect(r.summary.tasks[0]?.status).toBe('failed');
    const timeouts = events(root).filter((e) => e.trigger === 'task_timeout');
    expect(timeouts).toHaveLength(1);
    const pids = readFileSync(join(root, 'pids'), 'utf8').trim().split('\n').map(Number);
    expect(pids.length).toBe(3);
    for (const pid of pids) expect(probeProcess(pid)).toBe('gone'); // gone (or a zombie awaiting its reaper), the TERM-ignoring one included
    expect(readFileSync(join(root, r.summary.tasks[0]!.log!), 'utf8')).toMatch(/# command main/);
    expect(await logAgrees(root)).toEqual([]);
  });

  it('tries fallback commands in order and checks outputs', async () => {
    const root = await makeRepo([
      { id: 'fb', command: 'exit 3', execution: { fallback_commands: ['exit 4', 'echo ok > made.txt'] }, extra: { outputs: ['made.txt'] } },
      { id: 'nofile', command: 'true', extra: { outputs: ['never.txt'] }, maxRetries: 2 },
      { id: 'envy', command: 'test "$GREETING" = hello && echo "$GREETING" > env.txt', execution: { env: { GREETING: 'hello' } }, extra: { outputs: ['env.txt'] } },
    ]);
    const r = await runPlan({ root, jobs: 2, ...quiet });
    const by = Object.fromEntries(r.summary.tasks.map((t) => [t.task_id, t]));
    expect(by.fb).toMatchObject({ status: 'completed', attempts: 1 });
    expect(by.envy?.status).toBe('completed');
    expect(by.nofile).toMatchObject({ status: 'failed', attempts: 1 });
    expect(by.nofile?.reason).toMatch(/missing output: never\.txt/);
    const fbEvent = events(root).find((e) => e.entity_id === 'fb' && e.trigger === 'execution_completed');
    expect(fbEvent?.metadata).toMatchObject({ fallback_index: 2, commands_tried: 3 });
    expect(events(root).some((e) => e.entity_id === 'nofile' && e.trigger === 'validation_failed')).toBe(true);
    const log = readFileSync(join(root, by.fb!.log!), 'utf8');
    expect(log).toMatch(/# command main: exit 3[\s\S]*# command fallback 1: exit 4[\s\S]*# command fallback 2/);
    expect(await logAgrees(root)).toEqual([]);
  });

  it('a shell command writes straight into its attempt log (no pipe through the runner); the worker output keeps its tail', async () => {
    const root = await makeRepo([
      { id: 'direct', command: 'if [ -f /dev/stdout ]; then echo to-file; else echo to-pipe; fi; echo err >&2; exit 1', execution: { fallback_commands: ['echo second'] } },
    ]);
    const r = await runPlan({ root, jobs: 1, ...quiet });
    expect(r.summary.tasks[0]).toMatchObject({ status: 'completed', log: '.state/logs/direct/attempt-1.log' });
    const log = readFileSync(join(root, '.state/logs/direct/attempt-1.log'), 'utf8');
    // the pid line is written right after the spawn: ahead of the output unless the command outran it
    expect(log.match(/^# pid (\d+) \(process group \1\)$/gm)).toHaveLength(2);
    expect(log.replace(/^# pid .*\n/gm, '')).toMatch(/^# command main: if .*\nto-file\nerr\n# failed: the command exited with status 1\n# command fallback 1: echo second\nsecond\n# success\n$/);
    const output = JSON.parse(readFileSync(join(root, '.state/outputs/direct.attempt-1.worker-output.json'), 'utf8')) as { metadata: { output_tail: string; log_error?: string } };
    expect(output.metadata.output_tail).toBe('second\n');
    expect(output.metadata.log_error).toBeUndefined();
    expect(await logAgrees(root)).toEqual([]);
  });

  it('reports unassignable tasks and blocked dependents, and still ends', async () => {
    const root = await makeRepo([
      { id: 'gpu-train', command: 'true', capabilities: ['gpu'] },
      { id: 'after-gpu', command: 'true', deps: ['gpu-train'] },
      { id: 'boom', command: 'exit 1' },
      { id: 'after-boom', command: 'true', deps: ['boom'] },
      { id: 'fine', command: 'true' },
    ]);
    const r = await runPlan({ root, jobs: 2, capabilities: ['shell'], ...quiet });
    const by = Object.fromEntries(r.summary.tasks.map((t) => [t.task_id, t]));
    expect(by['gpu-train']?.outcome).toBe('unassignable');
    expect(by['gpu-train']?.reason).toMatch(/gpu/);
    expect(by['after-gpu']?.outcome).toBe('blocked');
    expect(by['after-boom']).toMatchObject({ outcome: 'blocked', reason: 'dependency boom failed' });
    expect(by.fine?.outcome).toBe('completed');
    expect(r.exitCode).toBe(1);
    const file = JSON.parse(readFileSync(join(root, r.summaryFile), 'utf8'));
    expect(file.schema_version).toBe('1.0.0');
    expect(validate('run-summary', '1.0.0', file).errors).toEqual([]);
    expect(file.counts).toMatchObject({ completed: 1, failed: 1, blocked: 2, unassignable: 1 });
    expect(await logAgrees(root)).toEqual([]);
  });

  it('--fail-fast stops assigning at the first failure of a critical task and drains', async () => {
    const root = await makeRepo([
      { id: 'crit', command: `${timed('crit', 'sleep 0.1')}; exit 1`, critical: true, priority: 10 },
      { id: 'side', command: timed('side', 'sleep 0.5'), priority: 5 },
      ...['later1', 'later2', 'later3'].map((id) => ({ id, command: timed(id, 'true') })),
    ]);
    const r = await runPlan({ root, jobs: 2, failFast: true, ...quiet });
    expect(r.summary.outcome).toBe('fail_fast');
    const ran = new Set(intervals(root).map((i) => i.id));
    expect(ran.has('crit')).toBe(true);
    expect(ran.has('side')).toBe(true); // drained, not killed
    expect(statuses(root).side).toBe('completed');
    expect(r.summary.counts.not_started).toBeGreaterThanOrEqual(2);
    expect(await logAgrees(root)).toEqual([]);
  });
});

describe('orc-state run: worker health', () => {
  it('a stopped attempt (SIGSTOP) makes its worker unresponsive; SIGCONT recovers it (heartbeats on the injected clock)', async () => {
    const root = await makeRepo([{ id: 'stopper', command: 'echo $$ > leader.pid; kill -STOP $$; echo resumed > resumed.txt' }]);
    const clock = new FakeClock(Date.now(), { autoAdvance: true });
    const seen: string[] = [];
    const r = await runPlan({
      root,
      jobs: 1,
      clock,
      heartbeatIntervalMs: 1000,
      heartbeatTimeoutMs: 5000,
      killGraceMs: 200,
      onEvent: (e) => {
        if (e.type !== 'worker_health') return;
        seen.push(e.trigger);
        if (e.trigger === 'health_check_timeout') process.kill(Number(readFileSync(join(root, 'leader.pid'), 'utf8')), 'SIGCONT');
      },
    });
    expect(seen).toEqual(['health_check_timeout', 'health_check_recovered']);
    expect(r.summary.tasks[0]?.status).toBe('completed');
    const worker = events(root).filter((e) => e.entity_type === 'worker' && e.entity_id.endsWith('-w1')).map((e) => e.to_state);
    expect(worker).toEqual(['initializing', 'idle', 'busy', 'unresponsive', 'busy', 'idle', 'shutdown']);
    expect(await logAgrees(root)).toEqual([]);
  });
});

describe('orc-state run: claim leases', () => {
  it('each attempt holds a lease with a fencing token, renewed while it runs, released at the end', async () => {
    const root = await makeRepo([{ id: 'leased', command: 'sleep 1.2' }]);
    const r = await runPlan({ root, jobs: 1, leaseSeconds: 1, ...quiet });
    expect(r.summary.tasks[0]?.status).toBe('completed');
    const ev = events(root);
    const start = ev.find((e) => e.trigger === 'worker_started');
    const lease = start?.metadata.lease as { token: string; pid: number; host: string; seconds: number };
    expect(lease.token).toMatch(/^\d+-[0-9a-f]{16}$/);
    expect(lease).toMatchObject({ pid: process.pid, seconds: 1 });
    expect(ev.filter((e) => e.event === 'lease_renewed').length).toBeGreaterThanOrEqual(1);
    expect(readSnapshot(root)?.workers.every((w) => w.lease === undefined)).toBe(true);
    expect(await logAgrees(root)).toEqual([]);
  });

  it('drops outcomes and starts that no longer apply (a lease expired at this commit) instead of failing the batch', () => {
    const state = {
      tasks: new Map([
        ['gone', { task_id: 'gone', status: 'retrying', assigned_worker: null }],
        ['live', { task_id: 'live', status: 'running', assigned_worker: 'w1' }],
        ['next', { task_id: 'next', status: 'pending', assigned_worker: null }],
      ]),
      workers: new Map([
        ['w1', { worker_id: 'w1', status: 'busy', current_task: 'live', lease: { token: '5-0123456789abcdef' } }],
        ['w2', { worker_id: 'w2', status: 'unresponsive', current_task: null }],
      ]),
    } as unknown as Parameters<typeof screenRequests>[0];
    const ts = new Date().toISOString();
    const { keep, dropped } = screenRequests(state, [
      { entity_type: 'task', entity_id: 'gone', trigger: 'execution_completed', worker_id: 'w2', timestamp: ts },
      { entity_type: 'task', entity_id: 'gone', trigger: 'validation_passed', worker_id: 'w2', timestamp: ts },
      { entity_type: 'task', entity_id: 'live', trigger: 'execution_failed', worker_id: 'w1', timestamp: ts },
      { entity_type: 'task', entity_id: 'next', trigger: 'scheduler_assigned', timestamp: ts },
      { entity_type: 'task', entity_id: 'next', trigger: 'worker_started', worker_id: 'w1', timestamp: ts },
      { entity_type: 'worker', entity_id: 'w1', trigger: 'heartbeat', timestamp: ts, metadata: { lease_token: 'stale' } },
    ]);
    expect(keep.map((r) => `${r.entity_id}:${r.trigger}`)).toEqual(['live:execution_failed', 'next:scheduler_assigned', 'next:worker_started']);
    expect(dropped.map((r) => `${r.entity_id}:${r.trigger}`)).toEqual(['gone:execution_completed', 'gone:validation_passed', 'w1:heartbeat']);
  });
});

describe('orc-state run: budget, lock, dry run', () => {
  it('--budget-usd stops starting tasks whose estimate exceeds what is left', async () => {
    const root = await makeRepo(['b1', 'b2', 'b3', 'b4', 'b5'].map((id) => ({ id, command: timed(id, 'true'), execution: { cost_estimate_usd: 0.4 } })));
    const r = await runPlan({ root, jobs: 1, budgetUsd: 1, ...quiet });
    expect(r.summary.counts.completed).toBe(2);
    expect(r.summary.counts.over_budget).toBe(3);
    expect(intervals(root)).toHaveLength(2);
    expect(r.summary.spend.total_usd).toBeCloseTo(0.8);
    expect(r.summary.spend.by_workstream.ws).toBeCloseTo(0.8);
    const done = events(root).filter((e) => e.trigger === 'execution_completed');
    expect(done.every((e) => e.metadata.cost_usd === 0.4 && e.metadata.cost_source === 'estimate')).toBe(true);
    const metrics = JSON.parse(readFileSync(join(root, '.state/metrics.json'), 'utf8'));
    expect(metrics.cost.today_usd).toBeCloseTo(0.8);
    expect(metrics.cost.by_workstream.ws).toBeCloseTo(0.8);
    expect(readFileSync(join(root, '.state/metrics.prom'), 'utf8')).toMatch(/orc_state_cost_usd_today\{workstream="ws"\} 0\.8/);
    expect(await logAgrees(root)).toEqual([]);
  });

  it('refuses a second run on the same repository, naming the holder', async () => {
    const root = await makeRepo([{ id: 'one', command: 'true' }]);
    const logBefore = readFileSync(join(root, '.state/transitions.jsonl'), 'utf8');
    const snapBefore = readFileSync(join(root, '.state/current.json'), 'utf8');
    const held = acquireRunLock(statePaths(root), 'other-run', []);
    try {
      await expect(runPlan({ root, jobs: 1 })).rejects.toMatchObject({ code: 'LOCK_TIMEOUT', message: expect.stringMatching(/another orc-state run \(other-run, pid \d+/) });
    } finally {
      held.handle.release();
    }
    // refused before anything was committed (init already registered the task: it stays as it was)
    expect(readFileSync(join(root, '.state/transitions.jsonl'), 'utf8')).toBe(logBefore);
    expect(readFileSync(join(root, '.state/current.json'), 'utf8')).toBe(snapBefore);
    expect(statuses(root).one).toBe('pending');
  });

  it('--dry-run prints the plan and commits nothing', async () => {
    const root = await makeRepo([
      { id: 'a', command: 'true', estimate: 10 },
      { id: 'b', command: 'true', deps: ['a'], estimate: 5 },
      { id: 'c', command: 'true', estimate: 1 },
    ]);
    const before = existsSync(join(root, '.state/transitions.jsonl')) ? readFileSync(join(root, '.state/transitions.jsonl'), 'utf8') : '';
    const snapBefore = readFileSync(join(root, '.state/current.json'), 'utf8');
    const report = await planRun({ root, jobs: 2 });
    expect(report.workstreams[0]?.critical_path_tasks).toEqual(['a', 'b']);
    expect(report.order.map((o) => o.task_id)[0]).toBe('a');
    expect(report.workstreams[0]?.stages.length).toBeGreaterThanOrEqual(2);
    const after = existsSync(join(root, '.state/transitions.jsonl')) ? readFileSync(join(root, '.state/transitions.jsonl'), 'utf8') : '';
    expect(after).toBe(before);
    expect(readFileSync(join(root, '.state/current.json'), 'utf8')).toBe(snapBefore);
    writeFileSync(join(root, 'x'), '');
    expect((readSnapshot(root)?.tasks ?? []).every((t) => t.status === 'pending')).toBe(true);
  });
});
