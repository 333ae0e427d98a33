/**
 * Benchmark: durable transitions through the commit path, and replay of a large log.
 *
 * Usage: npm run bench:transitions [-- <tasks=10000> <replayEvents=1000000>]
 *        (e.g. `-- 1000 100000` for a quick run)
 * Prints, in one run:
 *   - on a <tasks>-task state: durable transitions/s through the API at batch 1, 16 and 256 (with the derive
 *     step, and without it to show its share), and through the CLI (`orc-state task ...`, one process each);
 *   - the floor: fdatasync'd appends of the same event lines, one append per line;
 *   - replay of a <replayEvents>-event log: events/s and peak RSS next to a bare stream-read + JSON.parse of the
 *     same file, and replay at a tenth of the size to show memory stays flat.
 * Goals (issue 3): batched commits >= half the append floor; replay >= 70% of its floor with flat memory.
 * Inputs are generated in a temp dir (removed at the end).
 *
 * Public API: none (script). Dependencies: ../src/engine, ../src/io, node:child_process.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { openStore, syncDefinitions } from '../src/engine/commit.js';
import { replay } from '../src/engine/replay.js';
import { appendDurable } from '../src/io/jsonl-log.js';
import type { TransitionRequest } from '../src/machines/index.js';
import type { OrcEvent } from '../src/model.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = join(HERE, '..', '..', 'bin', 'orc-state.js');

// ---------------------------------------------------------------------------
// child modes: each replay measurement runs in its own process so peak RSS is its own

async function replayChild(mode: string, root: string): Promise<void> {
  const started = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let events = 0;
  if (mode === 'floor') {
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for await (const chunk of createReadStream(join(root, '.state/transitions.jsonl'), { highWaterMark: 1 << 20 })) {
      const parts = (rest + decoder.write(chunk as Buffer)).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        if (line) {
          JSON.parse(line);
          events++;
        }
      }
    }
  } else {
    const state = await replay(root);
    events = state.last_seq;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ events, ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

// ---------------------------------------------------------------------------
// generators

function taskFile(ws: string, id: string): string {
  return JSON.stringify({
    schema_version: '2.0.0',
    schema_url: 'https://orc-state.dev/schemas/task/2.0.0.json',
    task_id: id,
    workstream_id: ws,
    name: `Task ${id}`,
    description: 'benchmark task',
    type: 'custom',
    status: 'pending',
    dependencies: [],
    blocks: [],
    worker_requirements: { capabilities: [] },
    execution: { command: 'true', timeout_seconds: 60, max_retries: 2 },
    context_requirements: { max_context_tokens: 1000, required_files: [], exclude_patterns: [] },
    validation_rules: { pre_execution: [], post_execution: [] },
    state: { created_at: '2026-01-01T00:00:00.000Z', retry_count: 0 },
  });
}

function makeTaskRepo(root: string, tasks: number): string[] {
  const perWs = 100;
  const ids: string[] = [];
  for (let w = 0; w * perWs < tasks; w++) {
    const ws = `ws${w}`;
    mkdirSync(join(root, 'tasks', ws), { recursive: true });
    for (let i = 0; i < perWs && w * perWs + i < tasks; i++) {
      const id = `t${w}_${i}`;
      writeFileSync(join(root, 'tasks', ws, `${id}.json`), taskFile(ws, id));
      ids.push(id);
    }
  }
  mkdirSync(join(root, '.state'), { recursive: true });
  return ids;
}

/**
 * A legal log of `total` events: 1,000 tasks and 16 workers; tasks cycle queued → running → retrying → queued
 * (worker assigned and released each time), the shape of a busy system.
 */
export async function makeReplayLog(root: string, total: number): Promise<void> {
  mkdirSync(join(root, '.state'), { recursive: true });
  const out = createWriteStream(join(root, '.state/transitions.jsonl'));
  let seq = 0;
  let clock = Date.parse('2026-01-01T00:00:00.000Z');
  const write = (e: Omit<OrcEvent, 'seq' | 'event_id' | 'schema_version' | 'timestamp' | 'caused_by'>, causedBy: string | null = null): string => {
    const id = randomUUID();
    const ev: OrcEvent = { schema_version: '2.0.0', seq: ++seq, event_id: id, timestamp: new Date((clock += 7)).toISOString(), caused_by: causedBy, ...e };
    const ok = out.write(JSON.stringify(ev) + '\n');
    if (!ok) pending = true;
    return id;
  };
  let pending = false;
  const drain = async () => {
    if (pending) {
      await new Promise<void>((r) => out.once('drain', () => r()));
      pending = false;
    }
  };
  const TASKS = 1000;
  const WORKERS = 16;
  const base = { workstream_id: 'ws', actor: 'bench', severity: 'info' as const };
  write({ ...base, event: 'workstream_created', trigger: 'workstream_created', entity_type: 'workstream', entity_id: 'ws', from_state: null, to_state: 'planned', metadata: {} });
  for (let w = 0; w < WORKERS; w++) {
    write({ ...base, workstream_id: null, event: 'worker_registered', trigger: 'worker_registered', entity_type: 'worker', entity_id: `w${w}`, from_state: null, to_state: 'initializing', metadata: { worker_id: `w${w}`, capabilities: [] } });
    write({ ...base, workstream_id: null, event: 'worker_ready', trigger: 'registration_complete', entity_type: 'worker', entity_id: `w${w}`, from_state: 'initializing', to_state: 'idle', metadata: { worker_id: `w${w}` } });
  }
  for (let t = 0; t < TASKS; t++) {
    write({ ...base, event: 'task_created', trigger: 'task_created', entity_type: 'task', entity_id: `t${t}`, from_state: null, to_state: 'queued', metadata: { created_at: '2026-01-01T00:00:00.000Z', retry_count: 0, max_retries: 1_000_000 } });
  }
  const retries = new Array<number>(TASKS).fill(0);
  let t = 0;
  while (seq < total) {
    const w = `w${t % WORKERS}`;
    const task = `t${t % TASKS}`;
    const r = retries[t % TASKS] as number;
    const started = write({ ...base, event: 'task_started', trigger: 'worker_started', entity_type: 'task', entity_id: task, from_state: 'queued', to_state: 'running', metadata: { worker_id: w, retry_count: r } });
    write({ ...base, workstream_id: null, event: 'worker_task_assigned', trigger: 'task_assigned', entity_type: 'worker', entity_id: w, from_state: 'idle', to_state: 'busy', metadata: { worker_id: w, task_id: task } }, started);
    const failed = write({ ...base, severity: 'warning', event: 'task_retry', trigger: 'execution_failed', entity_type: 'task', entity_id: task, from_state: 'running', to_state: 'retrying', metadata: { worker_id: w, retry_count: r + 1, duration_seconds: 0.007, error: 'exit 1' } });
    write({ ...base, workstream_id: null, event: 'worker_task_completed', trigger: 'task_completed', entity_type: 'worker', entity_id: w, from_state: 'busy', to_state: 'idle', metadata: { worker_id: w, task_id: task } }, failed);
    write({ ...base, event: 'task_queued', trigger: 'retry_delay_elapsed', entity_type: 'task', entity_id: task, from_state: 'retrying', to_state: 'queued', metadata: { retry_count: r + 1 } });
    retries[t % TASKS] = r + 1;
    t++;
    await drain();
  }
  await new Promise<void>((r) => out.end(() => r()));
}

// ---------------------------------------------------------------------------

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));

async function main(): Promise<void> {
  const [tasksArg, replayArg] = process.argv.slice(2);
  const tasks = Number(tasksArg ?? 10_000);
  const replayEvents = Number(replayArg ?? 1_000_000);
  const work = mkdtempSync(join(tmpdir(), 'orc-bench-transitions-'));
  console.log(`bench:transitions — ${tasks} tasks, replay of ${replayEvents} events (temp dir ${work})`);
  try {
    // ----- commits on a large state
    const root = join(work, 'repo');
    const ids = makeTaskRepo(root, tasks);
    let t0 = performance.now();
    const sync = await syncDefinitions(root);
    console.log(`setup: sync of ${tasks} definitions committed ${sync.events.length} events in one batch: ${fmt(performance.now() - t0)} ms; current.json ${fmt(statSync(join(root, '.state/current.json')).size / 1024)} KiB`);
    const store = openStore(root);
    const now = () => new Date().toISOString();
    await store.applyTransitions(Array.from({ length: 16 }, (_, i) => ({ entity_type: 'worker' as const, entity_id: `w${i}`, trigger: 'worker_registered', timestamp: now(), metadata: { capabilities: [] } })));
    let next = 0;
    const take = (n: number): TransitionRequest[] => ids.slice(next, (next += n)).map((id) => ({ entity_type: 'task', entity_id: id, trigger: 'scheduler_assigned', timestamp: now() }));
    const lines: string[] = [];
    const measure = async (batch: number, commits: number, derive: boolean) => {
      const start = performance.now();
      let transitions = 0;
      let events = 0;
      for (let c = 0; c < commits; c++) {
        const reqs = take(batch);
        if (!reqs.length) break;
        const r = await store.applyTransitions(reqs, { derive });
        transitions += reqs.length;
        events += r.events.length;
        if (lines.length < 2000) lines.push(...r.events.map((e) => JSON.stringify(e)));
      }
      const s = (performance.now() - start) / 1000;
      return { batch, derive, transitions, events, perSec: transitions / s, msPerCommit: (s * 1000) / commits };
    };
    // The append floor is measured before and after the commits (the disk is shared; report both, compare with the mean).
    const floorFile = join(work, 'floor.jsonl');
    const sampleLine = JSON.stringify((await store.applyTransitions(take(1))).events[0]);
    const floorRun = async (lineAt: (i: number) => string, n: number) => {
      const start = performance.now();
      for (let i = 0; i < n; i++) await appendDurable(floorFile, lineAt(i) + '\n');
      return n / ((performance.now() - start) / 1000);
    };
    const floorBefore = await floorRun(() => sampleLine, 400);
    const scale = Math.max(1, Math.floor(tasks / 10_000));
    const plans: Array<[number, number]> = [
      [1, Math.min(60, Math.floor(tasks / 50))],
      [16, Math.min(30, Math.floor(tasks / 160))],
      [256, Math.max(1, Math.min(10 * scale, Math.floor(tasks / 1000)))],
    ];
    const results = [];
    for (const derive of [true, false]) for (const [batch, commits] of plans) results.push(await measure(batch, Math.max(1, commits), derive));

    // CLI: one process per transition (start-up + load of every definition + commit)
    const cliCount = Math.min(10, Math.max(3, Math.floor(tasks / 1000)));
    t0 = performance.now();
    for (let i = 0; i < cliCount; i++) {
      const [req] = take(1);
      if (!req) break;
      execFileSync(process.execPath, [CLI, 'task', req.entity_id, 'scheduler_assigned', '--root', root], { stdio: 'pipe' });
    }
    const cliPerSec = cliCount / ((performance.now() - t0) / 1000);

    // floor: fdatasync'd append of the same event lines, one line per append
    const floorAfter = await floorRun((i) => lines[i % lines.length] as string, Math.min(lines.length, 400));
    const floorPerSec = (floorBefore + floorAfter) / 2;

    console.log('');
    console.log(`durable transitions/s on a ${tasks}-task state (each commit: lock, snapshot rewrite + fsync + rename + dir fsync, one append + fdatasync${''})`);
    console.log('  batch  derive  commits  transitions/s  ms/commit  vs append floor');
    for (const r of results) {
      console.log(`  ${String(r.batch).padStart(5)}  ${r.derive ? 'yes   ' : 'no    '}  ${String(Math.round(r.transitions / r.batch)).padStart(7)}  ${fmt(r.perSec).padStart(13)}  ${fmt(r.msPerCommit).padStart(9)}  ${((r.perSec / floorPerSec) * 100).toFixed(0).padStart(5)}%`);
    }
    console.log(`  CLI (one process per transition): ${fmt(cliPerSec)} transitions/s`);
    console.log(`  floor: fdatasync'd appends of the same event lines: ${fmt(floorPerSec)} appends/s (mean of ${fmt(floorBefore)} before and ${fmt(floorAfter)} after the commits)`);
    const best = results.filter((r) => r.batch === 256 && r.derive)[0];
    if (best) console.log(`  goal batched >= 50% of the floor: ${best.perSec >= floorPerSec / 2 ? 'met' : 'NOT met'} (${((best.perSec / floorPerSec) * 100).toFixed(0)}% at batch 256 with derive)`);

    // ----- replay
    const self = fileURLToPath(import.meta.url);
    const runChild = (mode: string, dir: string) => {
      const r = spawnSync(process.execPath, [self, '--replay-child', mode, dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (r.status !== 0) throw new Error(`replay child failed: ${r.stderr}`);
      return JSON.parse(r.stdout.trim()) as { events: number; ms: number; maxRssMb: number };
    };
    const small = join(work, 'replay-small');
    const big = join(work, 'replay-big');
    t0 = performance.now();
    await makeReplayLog(small, Math.max(1000, Math.floor(replayEvents / 10)));
    await makeReplayLog(big, replayEvents);
    const size = statSync(join(big, '.state/transitions.jsonl')).size;
    console.log('');
    console.log(`replay (generated ${replayEvents} events, ${fmt(size / 1048576)} MiB, in ${fmt((performance.now() - t0) / 1000)} s)`);
    const floor = runChild('floor', big);
    const full = runChild('replay', big);
    const tenth = runChild('replay', small);
    console.log('                           events      events/s  peak RSS MiB');
    console.log(`  floor: stream+JSON.parse  ${String(floor.events).padStart(9)}  ${fmt((floor.events / floor.ms) * 1000).padStart(11)}  ${fmt(floor.maxRssMb).padStart(12)}`);
    console.log(`  replay (applyEvent)       ${String(full.events).padStart(9)}  ${fmt((full.events / full.ms) * 1000).padStart(11)}  ${fmt(full.maxRssMb).padStart(12)}`);
    console.log(`  replay, a tenth the log   ${String(tenth.events).padStart(9)}  ${fmt((tenth.events / tenth.ms) * 1000).padStart(11)}  ${fmt(tenth.maxRssMb).padStart(12)}`);
    const ratio = (full.events / full.ms) / (floor.events / floor.ms);
    console.log(`  goal replay >= 70% of the floor: ${ratio >= 0.7 ? 'met' : 'NOT met'} (${(ratio * 100).toFixed(0)}%); memory ${full.maxRssMb <= tenth.maxRssMb * 1.5 ? 'flat' : 'NOT flat'} (${fmt(tenth.maxRssMb)} → ${fmt(full.maxRssMb)} MiB for 10× the events)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const invoked = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (invoked && process.argv[2] === '--replay-child') {
  await replayChild(process.argv[3] as string, process.argv[4] as string);
} else if (invoked) {
  await main();
}
