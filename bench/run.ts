/**
 * Benchmark of `orc-state run` (issue 10): 1,000 tasks running `true` in 10
 * workstreams at -j 8, next to a bare Node script that only spawns the same
 * 1,000 commands 8 at a time (same stdio pipes) and `xargs -P 8`, all measured
 * in the same run; the run's peak RSS against the number of completed tasks;
 * then `run --dry-run` on 10,000 tasks (library call and the whole CLI). CPU (user+sys) of the
 * run, of its spawn helper and of the bare spawner are printed beside the wall times, and what a
 * file create costs in the bench directory (the file system's state moves the run's figure).
 *
 * Usage: npm run bench:run -- [tasks] [--jobs N] [--dry-tasks M]
 *   default: 1,000 tasks, -j 8, dry run on 10,000 tasks. Goals: run ≤ 1.5× the bare
 *   spawner; dry run < 2 s; peak RSS flat in completed tasks.
 * Public API: none (script). Dependencies: ../src/scheduler/*, ../src/engine/init.js.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { initStore } from '../src/engine/init.js';
import { runPlan } from '../src/scheduler/loop.js';
import { planRun } from '../src/scheduler/dry-run.js';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? Number(argv[i + 1]) : dflt;
};
const TASKS = Number(argv.find((a, i) => /^\d+$/.test(a) && !(argv[i - 1] ?? '').startsWith('--')) ?? 1000);
const JOBS = flag('--jobs', 8);
const DRY_TASKS = flag('--dry-tasks', 10_000);
const WORKSTREAMS = 10;
const BASE = join(process.cwd(), '.bench-tmp', `run-${process.pid}`);

function taskFile(id: string, ws: string, command: string, deps: string[], blocks: string[]): string {
  return JSON.stringify({
    schema_version: '2.0.0',
    schema_url: 'https://orc-state.dev/schemas/task/2.0.0.json',
    task_id: id,
    workstream_id: ws,
    name: id,
    description: 'bench task',
    type: 'custom',
    status: 'pending',
    dependencies: deps,
    blocks,
    worker_requirements: { capabilities: ['shell'] },
    execution: { command, timeout_seconds: 60, max_retries: 0, estimated_duration_seconds: 1 },
    context_requirements: { max_context_tokens: 1000, required_files: [], exclude_patterns: [] },
    validation_rules: { pre_execution: [], post_execution: [] },
    state: { created_at: '2026-01-01T00:00:00.000Z', retry_count: 0 },
  });
}

async function makeRepo(dir: string, n: number, chain: boolean): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  const per = Math.ceil(n / WORKSTREAMS);
  for (let w = 0; w < WORKSTREAMS; w++) {
    const ws = `ws${w}`;
    mkdirSync(join(dir, 'tasks', ws), { recursive: true });
    for (let i = 0; i < per && w * per + i < n; i++) {
      const id = `${ws}-t${i}`;
      // Dry-run repo: each task depends on one of the previous few of its workstream (a realistic DAG).
      const deps = chain && i > 0 ? [`${ws}-t${Math.max(0, i - 1 - (i % 3))}`] : [];
      writeFileSync(join(dir, 'tasks', ws, `${id}.json`), taskFile(id, ws, 'true', deps, []));
    }
  }
  // blocks = exact inverse of dependencies
  if (chain) {
    const blocks = new Map<string, string[]>();
    for (let w = 0; w < WORKSTREAMS; w++) for (let i = 1; i < per; i++) {
      const d = `ws${w}-t${Math.max(0, i - 1 - (i % 3))}`;
      blocks.set(d, [...(blocks.get(d) ?? []), `ws${w}-t${i}`]);
    }
    for (let w = 0; w < WORKSTREAMS; w++) for (let i = 0; i < per && w * per + i < n; i++) {
      const id = `ws${w}-t${i}`;
      const deps = i > 0 ? [`ws${w}-t${Math.max(0, i - 1 - (i % 3))}`] : [];
      writeFileSync(join(dir, 'tasks', `ws${w}`, `${id}.json`), taskFile(id, `ws${w}`, 'true', deps, blocks.get(id) ?? []));
    }
  }
  await initStore(dir);
}

function bareSpawner(n: number, jobs: number): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let started = 0;
    let done = 0;
    const next = () => {
      if (started >= n) return;
      started++;
      const c = spawn('/bin/sh', ['-c', 'true'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      c.stdout.resume();
      c.stderr.resume();
      c.on('close', () => {
        done++;
        if (done === n) resolve(performance.now() - t0);
        else next();
      });
    };
    for (let i = 0; i < jobs; i++) next();
  });
}

function xargs(n: number, jobs: number): number {
  const t0 = performance.now();
  const input = Array.from({ length: n }, (_, i) => String(i)).join('\n');
  spawnSync('xargs', ['-P', String(jobs), '-I{}', 'sh', '-c', 'true'], { input, stdio: ['pipe', 'ignore', 'ignore'] });
  return performance.now() - t0;
}

/** CPU seconds (user+sys) of this process's live child processes that run node (the run's spawn helper), from /proc; 0 elsewhere. */
function childNodeCpu(): { user: number; sys: number } {
  const total = { user: 0, sys: 0 };
  try {
    const tick = 100; // USER_HZ on Linux
    for (const tid of readdirSync('/proc/self/task')) {
      for (const pid of readFileSync(`/proc/self/task/${tid}/children`, 'utf8').split(' ').filter(Boolean)) {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (!stat.includes('(node)')) continue;
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        total.user += Number(f[11]) / tick;
        total.sys += Number(f[12]) / tick;
      }
    }
  } catch {
    /* not Linux */
  }
  return total;
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;

async function main(): Promise<void> {
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`bench:run — ${TASKS} tasks running \`true\`, ${WORKSTREAMS} workstreams, -j ${JOBS}; load average before: ${load}`);
  const runDir = join(BASE, 'exec');
  await makeRepo(runDir, TASKS, false);

  // What creating a file costs here right now: an attempt creates three (its log directory and file, its worker
  // output). Normally tens of µs; on ext4 without a journal, inodes deleted in the last minutes (other runs'
  // clean-ups, npm ci) are skipped by a scan on every create, and one can cost a millisecond of CPU.
  const probeDir = join(BASE, 'create-probe');
  mkdirSync(probeDir, { recursive: true });
  const p0 = performance.now();
  for (let i = 0; i < 200; i++) writeFileSync(join(probeDir, `f${i}`), 'x');
  const createUs = ((performance.now() - p0) * 1000) / 200;
  const bareCpu0 = process.cpuUsage();
  const bare = await bareSpawner(TASKS, JOBS);
  const bareCpu = process.cpuUsage(bareCpu0);
  const xa = xargs(TASKS, JOBS);

  const samples: Array<{ done: number; rss: number }> = [];
  let completed = 0;
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    const rss = process.memoryUsage().rss;
    peak = Math.max(peak, rss);
    samples.push({ done: completed, rss });
  }, 20);
  const cpu0 = process.cpuUsage();
  const helper0 = childNodeCpu();
  const t0 = performance.now();
  const result = await runPlan({ root: runDir, jobs: JOBS, capabilities: ['shell'], onEvent: (e) => void (e.type === 'task_finished' && completed++) });
  const runMs = performance.now() - t0;
  const runCpu = process.cpuUsage(cpu0);
  const helper1 = childNodeCpu();
  clearInterval(sampler);
  const bare2 = await bareSpawner(TASKS, JOBS); // again after, to see drift from machine load
  const bareBest = Math.min(bare, bare2);
  const ok = result.summary.counts.completed === TASKS;
  console.log(`  orc-state run (library)     ${s(runMs)}  ${ok ? 'all completed' : `ONLY ${result.summary.counts.completed} completed`}, ${result.summary.commits} commits (${(TASKS / (runMs / 1000)).toFixed(0)} tasks/s)`);
  console.log(`  bare Node spawner, -j ${JOBS}     ${s(bare)} before, ${s(bare2)} after  → run / bare = ${(runMs / bareBest).toFixed(2)}× (goal ≤ 1.5×)`);
  console.log(`  xargs -P ${JOBS}                 ${s(xa)}`);
  console.log(`  file create in the bench directory: ${createUs.toFixed(0)} µs each before the run (an attempt creates 3)`);
  const cpu = (c: { user: number; system: number }) => `user ${(c.user / 1e6).toFixed(2)} s + sys ${(c.system / 1e6).toFixed(2)} s`;
  console.log(`  CPU: run ${cpu(runCpu)} (spawn helper user ${(helper1.user - helper0.user).toFixed(2)} s + sys ${(helper1.sys - helper0.sys).toFixed(2)} s); bare spawner (before) ${cpu(bareCpu)}`);
  const at = (f: number) => {
    const target = Math.floor(TASKS * f);
    const upto = samples.filter((x) => x.done <= target);
    return Math.max(...upto.map((x) => x.rss), 0);
  };
  console.log(`  peak RSS by completed tasks: ≤25% ${mb(at(0.25))}, ≤50% ${mb(at(0.5))}, ≤75% ${mb(at(0.75))}, all ${mb(peak)}`);

  // The same run through the CLI (process start, view, summary) on a fresh repo.
  const cliDir = join(BASE, 'cli');
  await makeRepo(cliDir, TASKS, false);
  const c0 = performance.now();
  execFileSync(process.execPath, [join(process.cwd(), 'bin/orc-state.js'), 'run', '-j', String(JOBS), '--capabilities', 'shell', '--json', '--root', cliDir], { stdio: 'ignore' });
  const cliMs = performance.now() - c0;
  console.log(`  orc-state run (CLI, --json) ${s(cliMs)}  → ${(cliMs / bareBest).toFixed(2)}× the bare spawner`);

  // Dry run on DRY_TASKS tasks.
  const dryDir = join(BASE, 'dry');
  await makeRepo(dryDir, DRY_TASKS, true);
  const d0 = performance.now();
  const report = await planRun({ root: dryDir, jobs: JOBS, capabilities: ['shell'] });
  const dryMs = performance.now() - d0;
  const e0 = performance.now();
  execFileSync(process.execPath, [join(process.cwd(), 'bin/orc-state.js'), 'run', '--dry-run', '--json', '-j', String(JOBS), '--root', dryDir], { stdio: 'ignore', maxBuffer: 256 * 1024 * 1024 });
  const dryCli = performance.now() - e0;
  console.log(`  --dry-run on ${DRY_TASKS} tasks: library ${s(dryMs)}, CLI ${s(dryCli)} (goal < 2 s); ${report.order.length} in order, ${report.workstreams.reduce((a, w) => a + w.stages.length, 0)} stages`);
  console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  rmSync(BASE, { recursive: true, force: true });
}

await main();
