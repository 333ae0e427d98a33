/**
 * Shared pieces of the engine's CLI commands (init, sync, task, worker,
 * status, replay, why, doctor, log): common options, flag parsing and the
 * human rendering of events, state summaries, why-reports and doctor reports.
 *
 * Public API (internal): engineOptions(cmd), EngineFlags, rootOf(flags),
 * lockTimeoutOf(flags), printAcknowledged(output, events), commitAndReport(output, flags, request),
 * summarize(snapshot),
 * printSummary(output, summary), printWhy(output, report), printDoctor(output, report).
 * Integration points: src/cli/commands/{init,sync,task,worker,status,replay,why,doctor,log}.ts.
 * Dependencies: commander (types), ../cli/output.js (types), ./*.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { OrcError } from '../errors.js';
import type { OrcEvent, Snapshot } from '../model.js';
import type { Output } from '../cli/output.js';
import type { TransitionRequest } from '../machines/index.js';
import type { DoctorReport } from './doctor.js';
import type { WhyReport } from './why.js';

export interface EngineFlags {
  root: string;
  json?: boolean;
  lockTimeout?: string;
}

export function engineOptions(cmd: Command, opts: { lock?: boolean } = {}): Command {
  cmd.option('--root <dir>', 'repository root (holds tasks/ and .state/)', process.cwd()).option('--json', 'machine-readable output on stdout');
  // Every command accepts --lock-timeout; read-only ones (lock: false) never take the lock, so it has no effect there.
  cmd.option('--lock-timeout <ms>', opts.lock === false ? 'accepted for uniformity; this read-only command never takes the lock' : 'how long to wait for the .state lock before exit 3', '10000');
  return cmd;
}

export function rootOf(flags: EngineFlags): string {
  return resolve(flags.root);
}

export function intFlag(name: string, value: string | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new OrcError('USAGE', `${name} must be an integer >= ${min}${max < Number.MAX_SAFE_INTEGER ? ` and <= ${max}` : ''} (got "${value}")`, { fix: `e.g. ${name} ${Math.max(min, 1)}` });
  }
  return Number(value);
}

/** Longest wait a Node timer can express (~24.8 days); longer values would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

export function lockTimeoutOf(flags: EngineFlags): number {
  return intFlag('--lock-timeout', flags.lockTimeout ?? '10000', 0, MAX_TIMER_MS) as number;
}

export function describeEvent(e: OrcEvent): string {
  const move = e.from_state === null && e.to_state === null ? '' : ` (${e.entity_type} ${e.entity_id}: ${e.from_state ?? '∅'} → ${e.to_state ?? '∅'})`;
  return `seq ${e.seq} ${e.event}${move}`;
}

/** Commit one request through the engine and print the result (JSON, or repairs + acknowledged events). */
export async function commitAndReport(output: Output, flags: EngineFlags, request: TransitionRequest): Promise<void> {
  const { applyTransitions } = await import('./commit.js');
  const r = await applyTransitions(rootOf(flags), [request], { lockTimeoutMs: lockTimeoutOf(flags) });
  if (flags.json) {
    output.json({ ok: true, events: r.events, ...(r.expired ? { expired: r.expired } : {}), last_seq: r.snapshot.last_seq, notices: r.notices });
    return;
  }
  for (const n of r.notices) output.err(`${output.paint('yellow', n.kind === 'lease_expired' ? 'expired' : 'repaired')} ${n.message}`);
  printAcknowledged(output, r.events);
}

/** "acknowledged" lines are printed only after the commit returned (the crash test relies on it). */
export function printAcknowledged(output: Output, events: OrcEvent[]): void {
  for (const e of events) output.out(`${output.paint('green', 'acknowledged')} ${describeEvent(e)}${e.severity !== 'info' ? ` [${e.severity}]` : ''}`);
}

export interface Summary {
  last_seq: number;
  timestamp: string;
  workstreams: Array<{ workstream_id: string; status: string; tasks: Record<string, number> }>;
  tasks: Record<string, number>;
  workers: Array<{ worker_id: string; status: string; current_task: string | null; lease?: { token: string; expires_at: string } }>;
  orphaned: string[];
}

export function summarize(snapshot: Snapshot): Summary {
  const byWs = new Map<string, Record<string, number>>();
  const total: Record<string, number> = {};
  const orphaned: string[] = [];
  for (const t of snapshot.tasks) {
    const counts = byWs.get(t.workstream_id) ?? {};
    counts[t.status] = (counts[t.status] ?? 0) + 1;
    byWs.set(t.workstream_id, counts);
    total[t.status] = (total[t.status] ?? 0) + 1;
    if (t.orphaned) orphaned.push(t.task_id);
  }
  return {
    last_seq: snapshot.last_seq,
    timestamp: snapshot.timestamp,
    workstreams: snapshot.workstreams.map((w) => ({ workstream_id: w.workstream_id, status: w.status, tasks: byWs.get(w.workstream_id) ?? {} })),
    tasks: total,
    workers: snapshot.workers.map((w) => ({ worker_id: w.worker_id, status: w.status, current_task: w.current_task, ...(w.lease ? { lease: { token: w.lease.token, expires_at: w.lease.expires_at } } : {}) })),
    orphaned,
  };
}

const counts = (c: Record<string, number>) =>
  Object.entries(c)
    .sort()
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'no tasks';

export function printSummary(output: Output, s: Summary): void {
  output.out(`${output.paint('bold', 'state')} at seq ${s.last_seq} (${s.timestamp})`);
  output.out(`tasks: ${counts(s.tasks)}`);
  for (const w of s.workstreams) output.out(`  workstream ${output.paint('cyan', w.workstream_id)} ${w.status}: ${counts(w.tasks)}`);
  if (s.workers.length) {
    output.out(`workers:`);
    for (const w of s.workers) output.out(`  ${w.worker_id} ${w.status}${w.current_task ? ` (running ${w.current_task}${w.lease ? `, lease until ${w.lease.expires_at}` : ''})` : ''}`);
  }
  if (s.orphaned.length) output.out(output.paint('yellow', `orphaned (definition file gone): ${s.orphaned.join(', ')}`));
}

export function printWhy(output: Output, r: WhyReport): void {
  output.out(`${output.paint('bold', `task ${r.task_id}`)}: ${r.explanation}`);
  if (r.causes.length) {
    output.out('caused by:');
    for (const c of r.causes) output.out(`  ${c.timestamp} seq ${c.seq} ${c.entity_type} ${c.entity_id} ${c.event} by ${c.actor ?? 'unknown'} (${c.file}:${c.line})`);
  }
  output.out('events:');
  for (const e of r.events) {
    const extra = [
      e.worker_id ? `worker ${e.worker_id}` : '',
      e.retry_count ? `retry ${e.retry_count}` : '',
      e.duration_seconds != null ? `${e.duration_seconds}s` : '',
      e.error ? output.paint('red', `error: ${e.error}`) : '',
      e.actor ? `by ${e.actor}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    output.out(`  ${e.timestamp} seq ${e.seq} ${e.event} ${e.from_state ?? '∅'} → ${e.to_state ?? '∅'} on ${e.trigger}${extra ? ` (${extra})` : ''}`);
  }
  if (r.attempts.length) {
    output.out('attempts:');
    for (const a of r.attempts) output.out(`  #${a.attempt} on ${a.worker_id ?? 'unknown worker'}: ${a.outcome ?? 'still running'}${a.duration_seconds != null ? ` after ${a.duration_seconds}s` : ''}${a.error ? ` (${a.error})` : ''}`);
  }
  if (r.effects.length) {
    output.out('caused:');
    for (const e of r.effects) output.out(`  seq ${e.seq} ${e.entity_type} ${e.entity_id} ${e.event} ${e.from_state ?? '∅'} → ${e.to_state ?? '∅'}`);
  }
  if (r.unresolved.length) output.out(output.paint('yellow', `caused_by ids not found in the log: ${r.unresolved.join(', ')}`));
}

export function printDoctor(output: Output, r: DoctorReport, repair: boolean): void {
  const label = (s: string) => (s === 'error' ? output.paint('red', 'error') : s === 'warning' ? output.paint('yellow', 'warning') : output.paint('dim', s));
  const show = repair ? r.found : r.remaining;
  if (repair && r.found.length) output.out('found:');
  for (const i of show) {
    output.out(`${repair ? '  ' : ''}${i.file}${i.line ? `:${i.line}:1` : ''}: ${label(i.severity)} [${i.check}] ${i.message}`);
    if (!repair) output.out(`  fix: ${i.fix}`);
  }
  for (const x of r.repaired) output.out(`${output.paint('green', 'repaired')} ${x}`);
  for (const x of r.refused) output.out(`${output.paint('red', 'refused')} ${x}`);
  if (repair) {
    for (const i of r.remaining) output.out(`${output.paint('yellow', 'still')} ${i.file}${i.line ? `:${i.line}:1` : ''}: [${i.check}] ${i.message}\n  fix: ${i.fix}`);
  }
  output.out(
    r.ok
      ? `${output.paint('green', 'ok')}: ${r.events} event(s), last seq ${r.last_seq}${r.remaining.length ? ` (${r.remaining.length} notice/warning(s))` : ''}`
      : `${output.paint('red', 'problems remain')}: ${r.remaining.filter((i) => i.severity === 'error').length} error(s)${repair ? '' : '; run `orc-state doctor --repair` to fix the repairable ones'}`,
  );
}
