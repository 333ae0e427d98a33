/**
 * Benchmark: `orc-state serve` on a generated repo of 10,000 tasks (100
 * workstreams): the time from a CLI commit to the browser showing it
 * (p50/p95/max over sequential commits) and the server's memory (RSS now and
 * peak), next to the baseline of the CLI commit alone measured in the same run.
 *
 * Usage: npm run bench:serve [-- TASKS [COMMITS]] [--keep]   (defaults 10000 and 40)
 * Method: the repo is generated through the engine's commit path (sync, 50
 * workers registered, the first 40 % of the tasks run to completion in group
 * commits, one derive at the end). `orc-state serve --port 0` runs as a child
 * process; headless Debian chromium (playwright-core, /usr/bin/chromium, or
 * ORC_STATE_CHROMIUM) opens the dashboard on a workstream with pending tasks.
 * Then, one at a time, `orc-state task <id> user_cancelled` is spawned for a
 * pending task of that workstream; latency = the moment the page has recoloured
 * the node (the dashboard records Date.now() per seq in window.orcDashboard.applied)
 * minus (a) the moment the line landed in the log (the bench's own follower,
 * polling every 10 ms besides fs.watch) and (b) the event's timestamp (stamped by the CLI
 * when it built the request, so (b) includes the CLI's definition load, lock, snapshot
 * write and fsyncs). Same clock: browser, CLI and bench run on this machine.
 * RSS: VmRSS and VmHWM of the serve process from /proc after the last commit.
 * Prints the machine load (`uptime`) first.
 * Public API: none (a script). Stability: internal.
 * Integration points: npm script "bench:serve".
 * Dependencies: playwright-core, node:child_process, ../src/engine/{commit,init,snapshot,derive}.js,
 * ../src/repo/load-tasks.js, ../src/paths.js, ./validate-tasks.js (generateRepo).
 */
import { execFile, execSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { openStore } from '../src/engine/commit.js';
import { deriveAll } from '../src/engine/derive.js';
import { initStore } from '../src/engine/init.js';
import { readSnapshot } from '../src/engine/snapshot.js';
import type { TransitionRequest } from '../src/machines/index.js';
import { followLog } from '../src/live/log-follower.js';
import { packageRoot } from '../src/paths.js';
import { loadTasks } from '../src/repo/load-tasks.js';
import { CAPABILITY_OF, generateRepo } from './validate-tasks.js';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const f0 = (x: number) => `${x.toFixed(0)} ms`;

async function generate(root: string, count: number): Promise<void> {
  const order = generateRepo(root, count).ids;
  await initStore(root);
  const store = openStore(root, { actor: 'bench' });
  let clock = Date.parse('2026-11-20T10:00:00Z');
  const ts = () => new Date((clock += 1000)).toISOString();
  await store.syncDefinitions({ derive: false });
  const workers = Array.from({ length: 50 }, (_, i) => `worker-${String(i).padStart(2, '0')}`);
  const reg: TransitionRequest[] = [];
  for (const w of workers) {
    reg.push({ entity_type: 'worker', entity_id: w, trigger: 'worker_registered', timestamp: ts(), metadata: { capabilities: Object.values(CAPABILITY_OF) } });
    reg.push({ entity_type: 'worker', entity_id: w, trigger: 'registration_complete', timestamp: ts() });
  }
  await store.applyTransitions(reg, { derive: false });
  const done = order.slice(0, Math.floor(order.length * 0.4));
  for (let start = 0; start < done.length; start += workers.length) {
    const requests: TransitionRequest[] = [];
    done.slice(start, start + workers.length).forEach((id, i) => {
      const task = { entity_type: 'task' as const, entity_id: id };
      requests.push({ ...task, trigger: 'scheduler_assigned', timestamp: ts() });
      requests.push({ ...task, trigger: 'worker_started', timestamp: ts(), worker_id: workers[i]! });
      requests.push({ ...task, trigger: 'execution_completed', timestamp: ts(), metadata: { exit_code: 0, cost_usd: 0.01 } });
      requests.push({ ...task, trigger: 'validation_passed', timestamp: ts() });
    });
    await store.applyTransitions(requests, { derive: false });
  }
  await deriveAll(root, loadTasks(root), readSnapshot(root)!);
}

function cli(args: string[]): Promise<{ ms: number; stdout: string; code: number }> {
  const t = performance.now();
  return new Promise((done) => {
    execFile(process.execPath, [join(packageRoot(), 'bin/orc-state.js'), ...args], { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 }, (error, stdout) => {
      done({ ms: performance.now() - t, stdout, code: error ? 1 : 0 });
    });
  });
}

function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const keep = process.argv.includes('--keep');
  const count = Number(args[0] ?? 10_000);
  const commits = Number(args[1] ?? 40);
  const chromiumPath = process.env.ORC_STATE_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) throw new Error(`chromium is not installed at ${chromiumPath}: apt-get install -y chromium`);
  console.log(`bench:serve — ${count} tasks, ${commits} commits; load: ${execSync('uptime').toString().trim()}`);
  const root = mkdtempSync(join(tmpdir(), 'orc-bench-serve-'));
  const t0 = performance.now();
  cpSync(join(packageRoot(), 'capabilities'), join(root, 'capabilities'), { recursive: true });
  await generate(root, count);
  const snapshot = readSnapshot(root)!;
  console.log(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${snapshot.tasks.length} tasks, ${snapshot.last_seq} events (${root})`);

  const tStart = performance.now();
  const server = spawn(process.execPath, [join(packageRoot(), 'bin/orc-state.js'), 'serve', '--port', '0', '--json', '--root', root], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((done) => createInterface({ input: server.stdout! }).once('line', done));
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  try {
    const url = (JSON.parse(line) as { url: string }).url;
    console.log(`serve up in ${f0(performance.now() - tStart)} (${url}); RSS ${memory(server.pid!).rss.toFixed(0)} MB`);
    // A workstream with pending tasks (the later ones: the first 40 % were completed).
    const ws = snapshot.workstreams[Math.floor(snapshot.workstreams.length * 0.6)]!.workstream_id;
    const pending = snapshot.tasks.filter((t) => t.workstream_id === ws && t.status === 'pending').map((t) => t.task_id);
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    const tLoad = performance.now();
    await page.goto(`${url}#ws=${encodeURIComponent(ws)}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    console.log(`dashboard ready in ${f0(performance.now() - tLoad)} (${await page.locator('#dag .node').count()} nodes drawn for ${ws}); RSS ${memory(server.pid!).rss.toFixed(0)} MB`);

    // The bench's own follower notes when each line lands in the log (the commit is durable and visible then).
    const appendedAt = new Map<number, number>();
    const follower = followLog(root, { afterSeq: readSnapshot(root)!.last_seq, pollMs: 10, onEvents: (evs) => evs.forEach((e) => appendedAt.set(e.seq, Date.now())) });
    const latencies: number[] = [];
    const fromAppend: number[] = [];
    const cliTimes: number[] = [];
    for (const id of pending.slice(0, commits)) {
      const r = await cli(['task', id, 'user_cancelled', '--json', '--root', root]);
      if (r.code !== 0) throw new Error(`commit of ${id} failed: ${r.stdout}`);
      cliTimes.push(r.ms);
      const ev = (JSON.parse(r.stdout) as { events: Array<{ seq: number; timestamp: string; entity_id: string }> }).events.find((e) => e.entity_id === id)!;
      await page.waitForSelector(`#dag .node[data-task-id="${id}"][data-status="cancelled"]`, { timeout: 30_000 });
      const shown = await page.evaluate((seq) => (globalThis as unknown as { orcDashboard: { applied: Record<number, number> } }).orcDashboard.applied[seq]!, ev.seq);
      latencies.push(shown - Date.parse(ev.timestamp));
      follower.check();
      fromAppend.push(shown - appendedAt.get(ev.seq)!);
    }
    follower.close();
    const mem = memory(server.pid!);
    console.log(`\n${latencies.length} sequential commits, until the node is recoloured in the browser:`);
    console.log(`  from the durable append (line in the log): p50 ${f0(pct(fromAppend, 50))}   p95 ${f0(pct(fromAppend, 95))}   max ${f0(Math.max(...fromAppend))}`);
    console.log(`  from the event's timestamp (stamped when the CLI built the request, before it loaded definitions and took the lock): p50 ${f0(pct(latencies, 50))}   p95 ${f0(pct(latencies, 95))}   max ${f0(Math.max(...latencies))}`);
    console.log(`baseline: the CLI commit process alone (spawn → exit): p50 ${f0(pct(cliTimes, 50))}   p95 ${f0(pct(cliTimes, 95))}`);
    console.log(`server memory with ${snapshot.tasks.length} tasks: RSS ${mem.rss.toFixed(0)} MB, peak (VmHWM) ${mem.hwm.toFixed(0)} MB`);
    console.log(`console errors in the page: ${errors.length}${errors.length ? ` (${errors.slice(0, 3).join(' | ')})` : ''}`);
    console.log(`load after: ${execSync('uptime').toString().trim()}`);
  } finally {
    await browser.close();
    server.kill('SIGINT');
    await new Promise((r) => server.once('exit', r));
    if (!keep) rmSync(root, { recursive: true, force: true });
  }
}

await main();
