import { expect, test } from 'vitest';
import { OrcError } from '../src/errors.js';
import {
  DEFINITIONS,
  MACHINE_KINDS,
  applyEvent,
  checkInvariants,
  emptyState,
  planTransition,
  toSnapshot,
  type TransitionRequest,
} from '../src/machines/index.js';
import type { OrcEvent, TaskDefinition } from '../src/model.js';
import { rng as prng } from '../src/util/random.js';

const CAPS = ['py', 'git', 'node'];
const T0 = Date.parse('2026-05-01T00:00:00.000Z');

function makeDefs(rand: () => number): Map<string, TaskDefinition> {
  const defs = new Map<string, TaskDefinition>();
  const n = 4 + Math.floor(rand() * 5);
  for (let i = 0; i < n; i++) {
    const id = `t${i}`;
    const deps = [];
    for (let j = 0; j < i; j++) if (rand() < 0.25) deps.push(`t${j}`);
    defs.set(id, {
      schema_version: '2.0.0',
      schema_url: 'https://orc-state.dev/schemas/task/2.0.0.json',
      task_id: id,
      workstream_id: rand() < 0.5 ? 'wsA' : 'wsB',
      name: id,
      description: id,
      type: 'custom',
      status: 'pending',
      critical: rand() < 0.3,
      dependencies: deps,
      blocks: [],
      worker_requirements: { capabilities: rand() < 0.5 ? ['py'] : ['py', 'git'] },
      execution: { command: 'true', timeout_seconds: 10, max_retries: Math.floor(rand() * 3) },
      context_requirements: { max_context_tokens: 1, required_files: [], exclude_patterns: [] },
      validation_rules: { pre_execution: [], post_execution: [] },
      state: { created_at: new Date(T0).toISOString(), retry_count: 0 },
    });
  }
  return defs;
}

const key = (kind: string, from: string | null, trigger: string, to: string | null): string => `${kind}:${from}--${trigger}-->${to}`;

const pick = <T>(rand: () => number, list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;

const requestable = (kind: (typeof MACHINE_KINDS)[number], state: string): string[] => [
  ...new Set(
    DEFINITIONS[kind].transitions
      .filter((t) => t.from === state && !(kind === 'worker' && (t.trigger === 'task_assigned' || t.trigger === 'task_completed')))
      .map((t) => t.trigger),
  ),
];

function walk(seed: number, steps: number, covered: Set<string>): { illegal: number; legal: number } {
  const rand = prng(seed);
  const defs = makeDefs(rand);
  const state = emptyState();
  const log: OrcEvent[] = [];
  let clock = T0;
  let seq = 0;
  const severityOf = new Map<string, string>();
  for (const kind of MACHINE_KINDS) for (const t of DEFINITIONS[kind].transitions) severityOf.set(key(kind, t.from, t.trigger, t.to), t.severity);

  const commit = (r: TransitionRequest): void => {
    const pending = planTransition(state, { defs }, r);
    let first: string | null = null;
    for (const p of pending) {
      const e = { ...p, seq: ++seq, event_id: `e${seq}`, caused_by: first ?? p.caused_by } as OrcEvent;
      first ??= e.event_id;
      applyEvent(state, e);
      log.push(e);
      covered.add(key(e.entity_type, e.from_state, e.trigger, e.to_state));
      if (e.from_state !== null && e.severity !== severityOf.get(key(e.entity_type, e.from_state, e.trigger, e.to_state))) {
        throw new Error(`seed ${seed}: ${key(e.entity_type, e.from_state, e.trigger, e.to_state)} logged severity ${e.severity}`);
      }
    }
    checkInvariants(state, defs);
  };
  const ts = (): string => new Date((clock += 1000 + Math.floor(rand() * 5000))).toISOString();

  // Some walks announce the workstreams before their tasks (planned, then derived or cancelled);
  // some definitions start in another status (Decision 1).
  if (rand() < 0.5) {
    for (const ws of ['wsA', 'wsB']) commit({ entity_type: 'workstream', entity_id: ws, trigger: 'workstream_created', timestamp: ts() });
    if (rand() < 0.2) commit({ entity_type: 'workstream', entity_id: 'wsB', trigger: 'user_cancelled', timestamp: ts() });
  }
  for (const d of defs.values()) {
    if (d.dependencies.length === 0 && rand() < 0.3) {
      d.status = pick(rand, ['completed', 'failed', 'queued', 'running', 'retrying'] as const);
      if (d.status === 'completed' || d.status === 'failed') {
        d.state.started_at = new Date(T0).toISOString();
        d.state.completed_at = new Date(T0 + 1000).toISOString();
      }
    }
  }
  for (const id of defs.keys()) commit({ entity_type: 'task', entity_id: id, trigger: 'task_created', timestamp: ts() });
  const workers = ['w0', 'w1', 'w2'];
  for (const w of workers) {
    const caps = CAPS.filter(() => rand() < 0.7);
    commit({ entity_type: 'worker', entity_id: w, trigger: 'worker_registered', timestamp: ts(), metadata: { capabilities: caps } });
  }

  let illegal = 0;
  let legal = 0;
  const allTriggers = Object.fromEntries(MACHINE_KINDS.map((k) => [k, DEFINITIONS[k].triggers])) as Record<string, string[]>;
  for (let i = 0; i < steps; i++) {
    const r = rand();
    const kind: (typeof MACHINE_KINDS)[number] = r < 0.75 ? 'task' : r < 0.9 ? 'worker' : 'workstream';
    const ids = kind === 'task' ? [...state.tasks.keys()] : kind === 'worker' ? [...state.workers.keys()] : [...state.workstreams.keys()];
    const id = pick(rand, ids);
    const current = kind === 'task' ? state.tasks.get(id)!.status : kind === 'worker' ? state.workers.get(id)!.status : state.workstreams.get(id)!.status;
    const allowed = requestable(kind, current);
    // mostly legal, mostly forward (cancellations and failures are rarer), sometimes anything
    const forward = kind === 'workstream' ? allowed : allowed.filter((t) => t !== 'user_cancelled' && t !== 'workstream_timeout' && t !== 'worker_crashed' && t !== 'shutdown_requested' && t !== 'max_timeout_exceeded');
    const trigger =
      rand() < 0.85 && allowed.length
        ? pick(rand, forward.length && rand() < 0.9 ? forward : allowed)
        : pick(rand, allTriggers[kind]!);
    const request: TransitionRequest = {
      entity_type: kind,
      entity_id: id,
      trigger,
      timestamp: ts(),
      worker_id: trigger === 'worker_started' ? pick(rand, workers) : null,
      error: rand() < 0.3 ? `error ${i}` : null,
      ...(trigger === 'execution_completed' && rand() < 0.1 ? { metadata: { exit_code: 1 } } : {}),
    };
    const before = `${state.last_seq}|${JSON.stringify([...state.tasks.values(), ...state.workers.values(), ...state.workstreams.values()])}`;
    try {
      commit(request);
      legal++;
    } catch (error) {
      const e = error as OrcError;
      const ok =
        e instanceof OrcError &&
        e.code === 'ILLEGAL_TRANSITION' &&
        e.message.includes(`${kind} ${id} is ${current}`) &&
        e.message.includes(`trigger ${trigger}`) &&
        JSON.stringify((e.details.data as { allowed: string[] }).allowed) === JSON.stringify(allowed);
      if (!ok) throw new Error(`seed ${seed} step ${i}: unexpected rejection: ${String(e?.message)} (allowed ${allowed.join(',')})`);
      // a rejected request changes nothing
      const after = `${state.last_seq}|${JSON.stringify([...state.tasks.values(), ...state.workers.values(), ...state.workstreams.values()])}`;
      if (after !== before) throw new Error(`seed ${seed} step ${i}: a rejected request changed the state`);
      illegal++;
    }
  }

  // the log alone reproduces the state (replay)
  const replayed = emptyState();
  for (const e of log) applyEvent(replayed, e);
  expect(JSON.stringify(toSnapshot(replayed, []))).toBe(JSON.stringify(toSnapshot(state, [])));
  return { illegal, legal };
}

test('random walks: invariants hold, illegal requests are rejected unchanged, replay reproduces state, every YAML transition is exercised', () => {
  const covered = new Set<string>();
  let illegal = 0;
  let legal = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const r = walk(seed, 80, covered);
    illegal += r.illegal;
    legal += r.legal;
  }
  expect(illegal).toBeGreaterThan(100);
  expect(legal).toBeGreaterThan(1000);
  const missing: string[] = [];
  for (const kind of MACHINE_KINDS) {
    for (const t of DEFINITIONS[kind].transitions) {
      if (!covered.has(key(kind, t.from, t.trigger, t.to))) missing.push(key(kind, t.from, t.trigger, t.to));
    }
    const c = DEFINITIONS[kind].creation;
    expect([...covered].some((k) => k.startsWith(`${kind}:null--${c.trigger}-->`)), `${kind} creation`).toBe(true);
  }
  expect(missing).toEqual([]);
});

