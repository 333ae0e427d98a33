/**
 * Benchmark: `validate --compliance` (every rule) on a generated repo of
 * 10,000 tasks in 100 workstreams with a 100,000-event log, next to the floor
 * (reading and JSON-parsing every input once) measured in the same run.
 *
 * Usage: npm run bench:compliance [-- TASKS [EVENTS]] [--keep]
 *   (defaults 10000 and 100000; e.g. `-- 1000 10000` for a quick run)
 * The repo is generated through the engine's own commit path (openStore:
 * syncDefinitions, then group-committed transitions: workers registered, every
 * task scheduled, started, some failed and retried, completed and validated;
 * worker health flaps to reach the event count), so the log, snapshot, indices,
 * metrics, DAG and plan files are real and consistent. Docs, spec and
 * registries are copied from the package.
 * Prints: generation time; in-process floor vs runCompliance (first run and
 * median of 3) with the slowest rules; whole-process floor (`node -e`) vs
 * `orc-state validate --compliance --format json`.
 * Public API: none (a script). Stability: internal.
 * Integration points: npm script "bench:compliance".
 * Dependencies: node:fs, node:child_process, ../src/engine/commit.js,
 * ../src/compliance/runner.js, ../src/repo/load-tasks.js, ../src/engine/snapshot.js,
 * ../src/engine/log.js, ../src/paths.js, ../src/util/random.js, ./validate-tasks.js
 * (generateRepo: the same generated task files as bench:validate-tasks).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openStore } from '../src/engine/commit.js';
import type { TransitionRequest } from '../src/machines/index.js';
import { runCompliance } from '../src/compliance/runner.js';
import { loadTasks } from '../src/repo/load-tasks.js';
import { loadSnapshotFile, readSnapshot } from '../src/engine/snapshot.js';
import { deriveAll } from '../src/engine/derive.js';
import { readLocatedEvents } from '../src/engine/log.js';
import { packageRoot } from '../src/paths.js';
import { rng } from '../src/util/random.js';
import { CAPABILITY_OF, generateRepo } from './validate-tasks.js';

/** Drive the engine: every task through its lifecycle (some with a retry), then worker health flaps up to `target` events. */
export async function writeState(root: string, order: string[], target: number): Promise<number> {
  const store = openStore(root, { actor: 'bench' });
  let clock = Date.parse('2026-11-20T10:00:00Z');
  const ts = () => new Date((clock += 1000)).toISOString();
  let events = (await store.syncDefinitions({ derive: false })).events.length;
  const BATCH = 250;
  const workers = Array.from({ length: BATCH }, (_, i) => `worker-${String(i).padStart(3, '0')}`);
  const reg: TransitionRequest[] = [];
  for (const w of workers) {
    reg.push({ entity_type: 'worker', entity_id: w, trigger: 'worker_registered', timestamp: ts(), metadata: { capabilities: Object.values(CAPABILITY_OF) } });
    reg.push({ entity_type: 'worker', entity_id: w, trigger: 'registration_complete', timestamp: ts() });
  }
  events += (await store.applyTransitions(reg, { derive: false })).events.length;
  const random = rng(11);
  // Only tasks that allow a retry get one (a retry on max_retries 0 fails the task for good).
  const retriesAllowed = new Map([...loadTasks(root).tasks].map(([id, lt]) => [id, lt.task.execution.max_retries > 0]));
  // Events per task: 1 created + ~8 lifecycle (incl. worker and workstream follow-ups); a retry adds ~5.
  const spare = target - events - order.length * 8;
  const retryShare = Math.max(0, Math.min(1, spare / 5 / order.length));
  for (let start = 0; start < order.length; start += BATCH) {
    const batch = order.slice(start, start + BATCH);
    const requests: TransitionRequest[] = [];
    batch.forEach((id, i) => {
      const worker = workers[i]!;
      const task = { entity_type: 'task' as const, entity_id: id };
      requests.push({ ...task, trigger: 'scheduler_assigned', timestamp: ts() });
      requests.push({ ...task, trigger: 'worker_started', timestamp: ts(), worker_id: worker });
      if (random() < retryShare && retriesAllowed.get(id)) {
        requests.push({ ...task, trigger: 'execution_failed', timestamp: ts(), error: 'exit code 1: flaky test', metadata: { exit_code: 1 } });
        requests.push({ ...task, trigger: 'retry_delay_elapsed', timestamp: ts() });
        requests.push({ ...task, trigger: 'worker_started', timestamp: ts(), worker_id: worker });
      }
      requests.push({ ...task, trigger: 'execution_completed', timestamp: ts(), metadata: { exit_code: 0 } });
      requests.push({ ...task, trigger: 'validation_passed', timestamp: ts() });
    });
    events += (await store.applyTransitions(requests, { derive: false })).events.length;
  }
  while (events < target) {
    const requests: TransitionRequest[] = [];
    for (const w of workers) {
      if (events + requests.length >= target) break;
      requests.push({ entity_type: 'worker', entity_id: w, trigger: 'health_check_timeout', timestamp: ts() });
      requests.push({ entity_type: 'worker', entity_id: w, trigger: 'health_check_recovered', timestamp: ts() });
    }
    events += (await store.applyTransitions(requests, { derive: false })).events.length;
  }
  // One derive of everything at the end (indices, metrics, every DAG and plan file), as a commit would.
  const snapshot = readSnapshot(root);
  if (!snapshot) throw new Error('bench: no snapshot after the commits');
  await deriveAll(root, loadTasks(root), snapshot);
  return events;
}

/** The floor: read and parse every input the gate reads, once (same code as the `node -e` child). */
export const FLOOR_SRC = `
const fs = require('fs'), path = require('path');
const root = process.argv[1];
let n = 0;
const walk = (d, visit) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) {
  const p = path.join(d, e.name);
  if (e.isDirectory()) walk(p, visit); else visit(p, e.name); } };
walk(path.join(root, 'tasks'), (p, name) => { if (name.endsWith('.json')) { JSON.parse(fs.readFileSync(p, 'utf8')); n++; } });
walk(path.join(root, '.state'), (p, name) => {
  if (name.endsWith('.json')) { JSON.parse(fs.readFileSync(p, 'utf8')); n++; }
  else if (name.endsWith('.jsonl')) { for (const line of fs.readFileSync(p, 'utf8').split('\\n')) if (line) { JSON.parse(line); n++; } }
  else { fs.readFileSync(p); n++; }
});
for (const d of ['docs', 'specifications', 'capabilities']) walk(path.join(root, d), (p) => { fs.readFileSync(p, 'utf8'); n++; });
if (n === 0) process.exit(3);
`;
const floorInProcess = new Function('require', 'process', FLOOR_SRC) as (req: NodeRequire, proc: { argv: string[]; exit(c: number): never }) => void;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(0).padStart(6)} ms`;

function timeProcess(cmd: string, args: string[]): { ms: number; status: number | null; stdout: string } {
  const t = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { ms: performance.now() - t, status: r.status, stdout: r.stdout };
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    total += st.isDirectory() ? dirBytes(p) : st.size;
  }
  return total;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const keep = process.argv.includes('--keep');
  const tasks = Number(args[0] ?? 10_000);
  const target = Number(args[1] ?? tasks * 10);
  const pkg = packageRoot();
  const dir = mkdtempSync(join(tmpdir(), 'orc-bench-compliance-'));
  try {
    console.log(`bench:compliance — ${tasks} tasks, ${target} events (repo in ${dir})`);
    let t = performance.now();
    for (const d of ['docs', 'specifications', 'capabilities']) cpSync(join(pkg, d), join(dir, d), { recursive: true });
    const order = generateRepo(dir, tasks).ids;
    const events = await writeState(dir, order, target);
    const logBytes = statSync(join(dir, '.state/transitions.jsonl')).size;
    console.log(`generated in ${((performance.now() - t) / 1000).toFixed(1)} s: ${order.length} task files (${(dirBytes(join(dir, 'tasks')) / 1e6).toFixed(1)} MB), ${events} events (${(logBytes / 1e6).toFixed(1)} MB log), .state ${(dirBytes(join(dir, '.state')) / 1e6).toFixed(1)} MB`);

    // In-process: floor vs the gate, alternating so both see the same cache state.
    const req = (await import('node:module')).createRequire(import.meta.url);
    const floors: number[] = [];
    const gates: number[] = [];
    let first = 0;
    let report = await (async () => {
      t = performance.now();
      const r = await runCompliance({ root: dir, sections: [] });
      first = performance.now() - t;
      return r;
    })();
    for (let i = 0; i < 3; i++) {
      t = performance.now();
      floorInProcess(req, { argv: ['', dir], exit: ((c: number) => { throw new Error(`floor exit ${c}`); }) as (c: number) => never });
      floors.push(performance.now() - t);
      t = performance.now();
      report = await runCompliance({ root: dir, sections: [] });
      gates.push(performance.now() - t);
    }
    const s = report.summary;
    console.log(`\nverdict: ${s.pass} pass, ${s.fail} fail, ${s.warn} warn, ${s.skip} skip, ${s.error} error`);
    for (const r of report.requirements.filter((x) => x.status !== 'PASS' && x.status !== 'SKIP')) {
      console.log(`  ${r.status} ${r.id}: ${r.reason ?? r.findings.slice(0, 2).map((f) => `${f.file}:${f.line} ${f.message}`).join(' | ')}`);
    }
    const slow = [...report.requirements].sort((a, b) => b.duration_ms - a.duration_ms).slice(0, 6);
    console.log(`slowest rules (last run; a rule's time includes the shared loads it triggers first: tasks, snapshot, events): ${slow.map((r) => `${r.id} ${r.duration_ms.toFixed(0)} ms`).join(', ')}`);
    // Where the time goes: the shared loads on their own (each also run by the gate once).
    const loads: Array<[string, () => unknown]> = [
      ['loadTasks (tasks/, A)', () => loadTasks(dir)],
      ['loadSnapshotFile (current.json, B2)', () => loadSnapshotFile(dir)],
      ['readLocatedEvents (transitions.jsonl, B2)', () => readLocatedEvents(dir)],
    ];
    const loadTimes: string[] = [];
    for (const [name, load] of loads) {
      t = performance.now();
      await load();
      loadTimes.push(`${name} ${(performance.now() - t).toFixed(0)} ms`);
    }
    console.log(`shared loads alone: ${loadTimes.join(', ')}`);
    const floor = median(floors);
    const gate = median(gates);
    console.log('\nin-process (median of 3):');
    console.log(`  floor: read + JSON.parse every input once   ${ms(floor)}   (${((order.length + events) / (floor / 1000)).toFixed(0)} files+events/s)`);
    console.log(`  runCompliance, all ${report.requirements.length} rules            ${ms(gate)}   = ${(gate / floor).toFixed(2)}x the floor (first run ${first.toFixed(0)} ms, incl. rule imports)`);

    const floorProc = median([0, 1, 2].map(() => timeProcess(process.execPath, ['-e', FLOOR_SRC, dir]).ms));
    const cliRuns = [0, 1, 2].map(() => timeProcess(process.execPath, [join(pkg, 'bin/orc-state.js'), 'validate', '--compliance', '--format', 'json', '--root', dir]));
    const cli = median(cliRuns.map((r) => r.ms));
    console.log('whole process (median of 3):');
    console.log(`  floor: node -e read + JSON.parse            ${ms(floorProc)}`);
    console.log(`  orc-state validate --compliance (json)      ${ms(cli)}   = ${(cli / floorProc).toFixed(2)}x the floor (exit ${cliRuns[0]!.status})`);
    console.log('\ngoal: within 2x of the floor');
  } finally {
    if (keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && (await import('node:url')).fileURLToPath(import.meta.url) === process.argv[1]) await main();
