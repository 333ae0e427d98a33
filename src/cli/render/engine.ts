/**
 * Human rendering of the engine's results: events, state summaries, why-reports, doctor reports.
 * All of it honours the Output's colour rules (NO_COLOR, non-TTY).
 *
 * Public API (internal): describeEvent(e), printAcknowledged(output, events), printSummary(output, summary),
 * printWhy(output, report), printDoctor(output, report, repair).
 * (Moved from src/engine/cli-support.ts: presentation lives under src/cli/render/.)
 * Integration points: src/cli/commands/{task,worker,sync,init,status,why,doctor,log}.ts, src/cli/support.ts.
 * Dependencies: ../output.js (types), ../../engine/summary.js, ../../engine/why.js, ../../engine/doctor.js (types).
 */
import type { OrcEvent } from '../../model.js';
import type { Output } from '../output.js';
import type { DoctorReport } from '../../engine/doctor.js';
import type { WhyReport } from '../../engine/why.js';
import type { Summary } from '../../engine/summary.js';

export function describeEvent(e: OrcEvent): string {
  const move = e.from_state === null && e.to_state === null ? '' : ` (${e.entity_type} ${e.entity_id}: ${e.from_state ?? '∅'} → ${e.to_state ?? '∅'})`;
  return `seq ${e.seq} ${e.event}${move}`;
}

/** "acknowledged" lines are printed only after the commit returned (the crash test relies on it). */
export function printAcknowledged(output: Output, events: OrcEvent[]): void {
  for (const e of events) output.out(`${output.paint('green', 'acknowledged')} ${describeEvent(e)}${e.severity !== 'info' ? ` [${e.severity}]` : ''}`);
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
    for (const w of s.workers) output.out(`  ${w.worker_id} ${w.status}${w.current_task ? ` (running ${w.current_task}${w.lease ? (w.lease.expired ? `, ${output.paint('yellow', `lease expired at ${w.lease.expires_at}`)}: the next command that commits recovers the task` : `, lease until ${w.lease.expires_at}`) : ''})` : ''}`);
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
