// Temp repositories for the `orc-state run` tests: task files, an optional
// resource registry, and `sh` commands that record their own start/end times.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initStore } from '../src/engine/init.js';
import { readSnapshot } from '../src/engine/snapshot.js';
import { replay } from '../src/engine/replay.js';
import { compareWithReplay } from '../src/engine/compare.js';

export interface TaskSpec {
  id: string;
  ws?: string;
  command: string;
  deps?: string[];
  maxRetries?: number;
  retryDelay?: number;
  timeout?: number;
  capabilities?: string[];
  resources?: Record<string, 'exclusive' | 'shared' | number>;
  priority?: number;
  critical?: boolean;
  estimate?: number;
  extra?: Record<string, unknown>;
  execution?: Record<string, unknown>;
  version?: '2.0.0' | '2.1.0';
}

export function taskJson(t: TaskSpec, blocks: string[]): Record<string, unknown> {
  const version = t.version ?? (t.extra || t.execution ? '2.1.0' : '2.0.0');
  return {
    schema_version: version,
    schema_url: `https://orc-state.dev/schemas/task/${version}.json`,
    task_id: t.id,
    workstream_id: t.ws ?? 'ws',
    name: `Task ${t.id}`,
    description: `run test task ${t.id}`,
    type: 'custom',
    status: 'pending',
    ...(t.priority !== undefined ? { priority: t.priority } : {}),
    ...(t.critical !== undefined ? { critical: t.critical } : {}),
    dependencies: t.deps ?? [],
    blocks,
    worker_requirements: { capabilities: t.capabilities ?? ['shell'] },
    execution: {
      command: t.command,
      timeout_seconds: t.timeout ?? 30,
      max_retries: t.maxRetries ?? 0,
      retry_delay_seconds: t.retryDelay ?? 0,
      ...(t.estimate !== undefined ? { estimated_duration_seconds: t.estimate } : {}),
      ...(t.execution ?? {}),
    },
    context_requirements: { max_context_tokens: 1000, required_files: [], exclude_patterns: [] },
    validation_rules: { pre_execution: [], post_execution: [] },
    ...(t.resources ? { resource_requirements: t.resources } : {}),
    ...(t.extra ?? {}),
    state: { created_at: '2026-01-01T00:00:00.000Z', retry_count: 0 },
  };
}

export async function makeRepo(tasks: TaskSpec[], options: { resources?: unknown[]; capabilities?: string[] } = {}): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'orc-run-'));
  const blocks = new Map<string, string[]>();
  for (const t of tasks) for (const d of t.deps ?? []) blocks.set(d, [...(blocks.get(d) ?? []), t.id]);
  for (const t of tasks) {
    const dir = join(root, 'tasks', t.ws ?? 'ws');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${t.id}.json`), JSON.stringify(taskJson(t, blocks.get(t.id) ?? []), null, 2));
  }
  mkdirSync(join(root, 'capabilities'), { recursive: true });
  if (options.resources) {
    writeFileSync(
      join(root, 'capabilities/resources.json'),
      JSON.stringify({ schema_version: '1.0.0', schema_url: 'https://orc-state.dev/schemas/resource-registry/1.0.0.json', Resources: options.resources }, null, 2),
    );
  }
  mkdirSync(join(root, 'marks'), { recursive: true });
  await initStore(root);
  return root;
}

/** A command that records `<id> start <ms>` and `<id> end <ms>` (times from the process itself) around `body`. */
export function timed(id: string, body = 'sleep 0.3'): string {
  return `echo "${id} start $(date +%s%N)" >> marks/${id}; ${body}; echo "${id} end $(date +%s%N)" >> marks/${id}`;
}

export interface Interval {
  id: string;
  start: number;
  end: number;
}

/** Every recorded [start, end] (ms) per run of each task. */
export function intervals(root: string): Interval[] {
  const out: Interval[] = [];
  const dir = join(root, 'marks');
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir)) {
    const lines = readFileSync(join(dir, f), 'utf8').trim().split('\n').filter(Boolean);
    let start: number | null = null;
    for (const l of lines) {
      const [id, kind, ns] = l.split(' ');
      if (!ns || !/^\d+$/.test(ns)) continue;
      const ms = Number(BigInt(ns as string) / 1000000n);
      if (kind === 'start') start = ms;
      else if (start !== null) {
        out.push({ id: id as string, start, end: ms });
        start = null;
      }
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Largest number of intervals open at one instant. */
export function maxOverlap(list: Interval[]): number {
  const points = list.flatMap((i) => [
    { t: i.start, d: 1 },
    { t: i.end, d: -1 },
  ]);
  points.sort((a, b) => a.t - b.t || a.d - b.d);
  let cur = 0;
  let max = 0;
  for (const p of points) {
    cur += p.d;
    max = Math.max(max, cur);
  }
  return max;
}

export function overlaps(a: Interval, b: Interval): boolean {
  return a.start < b.end && b.start < a.end;
}

/** The log and the snapshot agree (STATE-OBS-002): replaying the log gives current.json. */
export async function logAgrees(root: string): Promise<string[]> {
  const snap = readSnapshot(root);
  if (!snap) return ['no snapshot'];
  const replayed = await replay(root);
  return compareWithReplay(snap, replayed).map((d) => JSON.stringify(d));
}

export function statuses(root: string): Record<string, string> {
  const snap = readSnapshot(root);
  return Object.fromEntries((snap?.tasks ?? []).map((t) => [t.task_id, t.status]));
}
