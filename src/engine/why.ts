/**
 * `orc-state why <task_id>` (AUDIT-001): explain a task's current state from
 * the log alone — its events in order, what caused them (caused_by chain),
 * the worker/workstream events they caused, each attempt with its worker,
 * duration and error, and a one-line explanation.
 *
 * Public API (stable): explainTask(root, taskId) → Promise<WhyReport>; WhyReport, WhyEvent, Attempt.
 * Reads archives and the live log (streaming, two passes at most); never writes.
 * Integration points: CLI why, library users, AUDIT-001 rule (same chain logic via causeChain).
 * Dependencies: ./log.js, ../errors.js.
 */
import { OrcError } from '../errors.js';
import type { OrcEvent } from '../model.js';
import { eventBatches } from './log.js';

export interface WhyEvent {
  seq: number;
  event_id: string;
  timestamp: string;
  event: string;
  trigger: string;
  entity_type: string;
  entity_id: string;
  from_state: string | null;
  to_state: string | null;
  severity: string;
  caused_by: string | null;
  actor: string | null;
  worker_id: string | null;
  retry_count: number | null;
  duration_seconds: number | null;
  error: string | null;
  file: string;
  line: number;
}

export interface Attempt {
  attempt: number;
  worker_id: string | null;
  started_at: string;
  ended_at: string | null;
  outcome: string | null;
  duration_seconds: number | null;
  error: string | null;
}

export interface WhyReport {
  task_id: string;
  status: string | null;
  retries: number;
  workers: string[];
  errors: Array<{ seq: number; timestamp: string; error: string }>;
  attempts: Attempt[];
  /** The task's own events. */
  events: WhyEvent[];
  /** Events that caused the task's events without being its own (caused_by chain upwards). */
  causes: WhyEvent[];
  /** Worker and workstream events caused by the task's events. */
  effects: WhyEvent[];
  /** caused_by values that resolve to no event in the log. */
  unresolved: string[];
  total_duration_seconds: number | null;
  explanation: string;
}

function view(e: OrcEvent, file: string, line: number): WhyEvent {
  const m = e.metadata ?? {};
  return {
    seq: e.seq,
    event_id: e.event_id,
    timestamp: e.timestamp,
    event: e.event,
    trigger: e.trigger,
    entity_type: e.entity_type,
    entity_id: e.entity_id,
    from_state: e.from_state,
    to_state: e.to_state,
    severity: e.severity,
    caused_by: e.caused_by ?? null,
    actor: e.actor ?? null,
    worker_id: typeof m.worker_id === 'string' ? m.worker_id : null,
    retry_count: typeof m.retry_count === 'number' ? m.retry_count : null,
    duration_seconds: typeof m.duration_seconds === 'number' ? m.duration_seconds : null,
    error: typeof m.error === 'string' ? m.error : null,
    file,
    line,
  };
}

const seconds = (a: string, b: string) => Math.max(0, (Date.parse(b) - Date.parse(a)) / 1000);

export async function explainTask(root: string, taskId: string): Promise<WhyReport> {
  const own: WhyEvent[] = [];
  const ownIds = new Set<string>();
  const effects: WhyEvent[] = [];
  const wanted = new Set<string>();
  for await (const batch of eventBatches(root, { mode: 'collect', withLines: true })) {
    batch.events.forEach((e, i) => {
      const line = batch.lines?.[i] ?? 0;
      if (e.entity_type === 'task' && e.entity_id === taskId) {
        own.push(view(e, batch.file, line));
        ownIds.add(e.event_id);
        if (e.caused_by) wanted.add(e.caused_by);
      } else if (e.caused_by && ownIds.has(e.caused_by)) {
        effects.push(view(e, batch.file, line));
      }
    });
  }
  if (!own.length) {
    throw new OrcError('NOT_FOUND', `no event in the log names task ${taskId}`, {
      fix: 'check the id (orc-state status lists tasks); a task enters the log when `orc-state sync` creates it',
    });
  }
  // Upward caused_by chain: events the task's events point at (repeat until resolved; usually 1 pass).
  const causes: WhyEvent[] = [];
  for (const id of ownIds) wanted.delete(id);
  let rounds = 0;
  while (wanted.size && rounds++ < 8) {
    const found: WhyEvent[] = [];
    for await (const batch of eventBatches(root, { mode: 'collect', withLines: true })) {
      batch.events.forEach((e, i) => {
        if (wanted.has(e.event_id)) found.push(view(e, batch.file, batch.lines?.[i] ?? 0));
      });
    }
    if (!found.length) break;
    for (const f of found) {
      wanted.delete(f.event_id);
      causes.push(f);
      if (f.caused_by && !ownIds.has(f.caused_by) && !causes.some((c) => c.event_id === f.caused_by)) wanted.add(f.caused_by);
    }
  }
  causes.sort((a, b) => a.seq - b.seq);

  const attempts: Attempt[] = [];
  let current: Attempt | null = null;
  for (const e of own) {
    if (e.to_state === 'running') {
      current = { attempt: attempts.length + 1, worker_id: e.worker_id, started_at: e.timestamp, ended_at: null, outcome: null, duration_seconds: null, error: null };
      attempts.push(current);
    } else if (current && e.from_state === 'running') {
      current.ended_at = e.timestamp;
      current.outcome = e.event;
      current.duration_seconds = seconds(current.started_at, e.timestamp);
      current.error = e.error;
      current = null;
    }
  }
  const last = own[own.length - 1] as WhyEvent;
  const errors = own.filter((e) => e.error).map((e) => ({ seq: e.seq, timestamp: e.timestamp, error: e.error as string }));
  const retries = own.filter((e) => e.to_state === 'retrying').length;
  const workers = [...new Set(own.map((e) => e.worker_id).filter((w): w is string => !!w))];
  const first = own[0] as WhyEvent;
  const terminal = ['completed', 'failed', 'cancelled'].includes(last.to_state ?? '');
  const total = terminal ? seconds(first.timestamp, last.timestamp) : null;
  const unresolved = [...wanted];

  let explanation: string;
  const status = last.to_state;
  if (status === 'failed') {
    const lastError = errors[errors.length - 1];
    explanation =
      `failed at seq ${last.seq} (${last.event} on ${last.trigger}) after ${attempts.length} attempt(s) and ${retries} retr${retries === 1 ? 'y' : 'ies'}` +
      (lastError ? `; last error: ${lastError.error}` : '; no error message was recorded');
  } else if (status === 'completed') {
    explanation = `completed at seq ${last.seq} after ${attempts.length} attempt(s)${retries ? ` (${retries} retr${retries === 1 ? 'y' : 'ies'})` : ''}`;
  } else if (status === 'cancelled') {
    explanation = `cancelled at seq ${last.seq} by ${last.actor ?? 'unknown actor'}`;
  } else {
    explanation = `${status ?? 'unknown'} since seq ${last.seq} (${last.event})${last.worker_id ? ` on worker ${last.worker_id}` : ''}`;
  }
  return {
    task_id: taskId,
    status,
    retries,
    workers,
    errors,
    attempts,
    events: own,
    causes,
    effects,
    unresolved,
    total_duration_seconds: total,
    explanation,
  };
}
