// Concurrency proof (issue 3): 8 processes commit at once through the lock; the log stays gap-free, holds exactly
// the accepted transitions, only legal ones, and loses no update. 8 workers race worker_started on one queued
// task per round, 50 rounds: exactly one wins each round.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/compliance/context.js';
import { rule as stateObs004 } from '../src/compliance/rules/STATE-OBS-004.js';
import { applyTransitions, syncDefinitions } from '../src/engine/commit.js';
import { compareWithReplay } from '../src/engine/compare.js';
import { doctor } from '../src/engine/doctor.js';
import { readLocatedEvents } from '../src/engine/log.js';
import { replay } from '../src/engine/replay.js';
import { readSnapshot } from '../src/engine/snapshot.js';
import type { TransitionRequest } from '../src/machines/index.js';
import { childBundle, privateBuild } from './fixtures/engine/build.js';
// @ts-expect-error plain JS fixture
import { makeRepo } from './fixtures/engine/make-repo.mjs';

const CHILD = join(import.meta.dirname, 'fixtures/engine/concurrency-child.mjs');
const PROCS = 8;
const PRIVATE = 4;
const SHARED = 6;
const ROUNDS = 50;
let env: NodeJS.ProcessEnv = {};

const now = () => new Date().toISOString();
const task = (id: string, trigger: string, extra: Partial<TransitionRequest> = {}): TransitionRequest => ({ entity_type: 'task', entity_id: id, trigger, timestamp: now(), ...extra });

function registerWorkers(n: number): TransitionRequest[] {
  const out: TransitionRequest[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ entity_type: 'worker', entity_id: `w${i}`, trigger: 'worker_registered', timestamp: now(), metadata: { capabilities: [] } });
    out.push({ entity_type: 'worker', entity_id: `w${i}`, trigger: 'registration_complete', timestamp: now() });
  }
  return out;
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exit ${code}: ${err}`))));
  });
}

async function assertLogHealthy(root: string): Promise<void> {
  const log = await readLocatedEvents(root);
  expect(log.problems).toEqual([]);
  log.events.forEach(({ event }, i) => expect(event.seq).toBe(i + 1));
  const ids = new Set(log.events.map((e) => e.event.event_id));
  expect(ids.size).toBe(log.events.length);
  const legality = await stateObs004.check(createContext(root));
  expect('findings' in legality ? legality.findings : legality).toEqual([]);
  expect(compareWithReplay(readSnapshot(root)!, await replay(root))).toEqual([]);
  expect((await doctor(root)).ok).toBe(true);
}

beforeAll(async () => {
  const build = privateBuild();
  const bundle = await childBundle(build);
  env = { ...process.env, ORC_BUILD: build, ...(bundle ? { ORC_CHILD_BUNDLE: bundle } : {}) };
}, 120_000);

describe('concurrent writers', () => {
  it(`${PROCS} processes on private and shared tasks: gap-free seq, every accepted transition logged once, nothing lost`, async () => {
    const spec: Record<string, Array<{ id: string }>> = {
      private: Array.from({ length: PROCS * PRIVATE }, (_, n) => ({ id: `p${Math.floor(n / PRIVATE)}_${n % PRIVATE}` })),
      shared: Array.from({ length: SHARED }, (_, k) => ({ id: `s${k}` })),
    };
    const root = makeRepo(spec) as string;
    await syncDefinitions(root);
    await applyTransitions(root, registerWorkers(PROCS));
    const before = readSnapshot(root)!.last_seq;
    const outputs = await Promise.all(Array.from({ length: PROCS }, (_, i) => run(['writer', root, String(i), String(PRIVATE), String(SHARED)])));
    const summaries = outputs.map((o) => JSON.parse(o.trim()) as { accepted: number; rejected: number; events: string[]; unexpected: string[] });
    for (const s of summaries) expect(s.unexpected).toEqual([]);
    const log = await readLocatedEvents(root);
    const childEvents = summaries.flatMap((s) => s.events);
    expect(log.events.length).toBe(before + childEvents.length);
    const logged = new Map(log.events.map((e) => [e.event.event_id, e.event]));
    for (const id of childEvents) expect(logged.has(id)).toBe(true);
    // every shared task: exactly one process queued it and exactly one cancelled it; the rest were refused
    const accepted = summaries.reduce((n, s) => n + s.accepted, 0);
    const rejected = summaries.reduce((n, s) => n + s.rejected, 0);
    expect(rejected).toBe(SHARED * 2 * (PROCS - 1));
    expect(accepted).toBe(PROCS * PRIVATE * 4 + SHARED * 2);
    const snap = readSnapshot(root)!;
    for (const t of snap.tasks) expect(t.status).toBe(t.task_id.startsWith('p') ? 'completed' : 'cancelled');
    for (let k = 0; k < SHARED; k++) {
      const own = log.events.filter((e) => e.event.entity_id === `s${k}`).map((e) => e.event.event);
      expect(own).toEqual(['task_created', 'task_queued', 'task_cancelled']);
    }
    await assertLogHealthy(root);
  }, 120_000);

  it(`${PROCS} workers race worker_started on the same queued task: exactly one wins, ${ROUNDS} rounds`, async () => {
    const root = makeRepo({ race: Array.from({ length: ROUNDS }, (_, r) => ({ id: `r${r}` })) }) as string;
    await syncDefinitions(root);
    await applyTransitions(root, [...registerWorkers(PROCS), task('r0', 'scheduler_assigned')]);
    const racers: ChildProcessWithoutNullStreams[] = [];
    const lines: string[][] = [];
    const waiters: Array<() => void> = [];
    for (let i = 0; i < PROCS; i++) {
      const child = spawn(process.execPath, [CHILD, 'racer', root, `w${i}`], { env });
      racers.push(child);
      lines.push([]);
      let buf = '';
      child.stdout.on('data', (c: Buffer) => {
        buf += c.toString();
        let j: number;
        while ((j = buf.indexOf('\n')) >= 0) {
          lines[i]!.push(buf.slice(0, j));
          buf = buf.slice(j + 1);
          waiters.splice(0).forEach((w) => w());
        }
      });
    }
    const until = async (cond: () => boolean) => {
      while (!cond()) await new Promise<void>((r) => waiters.push(r));
    };
    try {
      await until(() => lines.every((l) => l.includes('ready')));
      for (let r = 0; r < ROUNDS; r++) {
        const id = `r${r}`;
        for (const c of racers) c.stdin.write(`${id}\n`);
        await until(() => lines.every((l) => l.some((x) => x.endsWith(` ${id}`) || x.includes(` ${id} `))));
        const results = lines.map((l) => l.find((x) => x.split(' ')[1] === id)!);
        const winners = results.filter((x) => x.startsWith('win'));
        expect(winners, `round ${r}: ${results.join(' | ')}`).toHaveLength(1);
        expect(results.filter((x) => x.startsWith('lose')).every((x) => x.endsWith('ILLEGAL_TRANSITION'))).toBe(true);
        const next = r + 1 < ROUNDS ? [task(`r${r + 1}`, 'scheduler_assigned')] : [];
        await applyTransitions(root, [task(id, 'execution_completed', { metadata: { exit_code: 0 } }), task(id, 'validation_passed'), ...next]);
      }
    } finally {
      for (const c of racers) c.stdin.end();
    }
    const starts = (await readLocatedEvents(root)).events.filter((e) => e.event.event === 'task_started');
    expect(starts).toHaveLength(ROUNDS);
    await assertLogHealthy(root);
  }, 120_000);
});
