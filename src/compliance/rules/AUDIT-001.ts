/**
 * AUDIT-001 (MUST): the log alone answers "why did task X fail?" and "who
 * did each transition?". Checks, over the archives and the live log: every
 * `caused_by` resolves to an earlier event; every failed task's failure is
 * explainable — an error message is recorded on the failing event or on an
 * earlier event of that task (the retries before it); every event names who
 * or what did it (`actor`, or `metadata.worker_id`).
 *
 * Public API (stable): rule.
 * Integration points: compliance runner; its visitor of the shared pass over the log
 * (src/engine/event-pass.ts); the same
 * chain is what `orc-state why` prints (src/engine/why.ts).
 * Dependencies: ../../engine/event-pass.js.
 */
import type { Finding, OrcEvent } from '../../model.js';
import { visitorRule, type EventVisitor } from '../../engine/event-pass.js';
import type { Rule } from '../types.js';

const ID = 'AUDIT-001';
const MAX_FINDINGS = 200;
/** How many of the latest event ids a caused_by is compared with before it waits for the end of the pass. */
const RECENT = 64;

type Outcome = { findings: Finding[] } | { skip: string };

type Located = { at: number; finding: Finding };

/**
 * The checks, event by event in one pass over the log (src/engine/event-pass.ts). "caused_by names an
 * earlier event": the engine sets caused_by on the follow-ups of one commit, so the cause is nearly always
 * among the last few events; the pass compares it with the ids of the last RECENT events and settles it
 * there. Any other reference is decided at the end against every id in log order (kept for that), as the
 * two loops over the log in memory did: only the ids named as causes are remembered. The findings of both
 * kinds carry their event's index and are merged back into log order (the cause first within an event),
 * capped as the one list was.
 */
function visitor(): EventVisitor<Outcome> {
  const other: Located[] = [];
  const add = (at: number, file: string, line: number, message: string, fix: string) => {
    if (other.length < MAX_FINDINGS) other.push({ at, finding: { requirement: ID, severity: 'error', file, line, column: 1, message, fix } });
  };
  let index = 0;
  let pruned = false;
  const ids: unknown[] = [];
  /** The ids of the last RECENT events, a ring indexed by event index. */
  const recent: unknown[] = new Array(RECENT).fill(undefined);
  /** References not settled among the recent ids. */
  const refs: Array<{ at: number; cause: unknown; seq: number; file: string; line: number }> = [];
  const errorsByTask = new Map<string, number>();
  return {
    event(e: OrcEvent, file: string, line: number) {
      const at = index++;
      if (at === 0) pruned = e.seq > 1;
      if (!pruned) {
        const cause = e.caused_by;
        if (cause && !inRecent(recent, at, cause)) refs.push({ at, cause, seq: e.seq, file, line });
        ids.push(e.event_id);
        recent[at % RECENT] = e.event_id;
      }
      const hasActor = typeof e.actor === 'string' && e.actor.length > 0;
      const hasWorker = typeof e.metadata?.worker_id === 'string' && e.metadata.worker_id.length > 0;
      if (!hasActor && !hasWorker) {
        add(at, file, line, `seq ${e.seq} (${e.event} of ${e.entity_type} ${e.entity_id}) does not say who did it: no actor and no metadata.worker_id`, 'every transition goes through the engine, which records the actor (ORC_STATE_ACTOR or user@host); restore the line from a backup');
      }
      if (e.entity_type !== 'task') return;
      if (typeof e.metadata?.error === 'string' && e.metadata.error.trim() !== '') {
        errorsByTask.set(e.entity_id, (errorsByTask.get(e.entity_id) ?? 0) + 1);
      }
      if (e.to_state === 'failed' && !errorsByTask.get(e.entity_id)) {
        add(at, file, line, `seq ${e.seq}: task ${e.entity_id} failed (${e.event} on ${e.trigger}) and no event of it records an error message`, 'report failures with an error: `orc-state task <id> execution_failed --error "<what went wrong>"`');
      }
    },
    end(log) {
      if (log.count === 0) return { skip: 'no events in .state/transitions.jsonl or its archives' };
      const causeFindings: Located[] = [];
      if (refs.length > 0) {
        // The first index of each id some unsettled reference names (a caused_by given by hand, a forward or dangling one).
        const causes = new Set<unknown>();
        for (const r of refs) causes.add(r.cause);
        const firstAt = new Map<unknown, number>();
        for (let j = 0; j < ids.length; j++) {
          const id = ids[j];
          if (causes.has(id) && !firstAt.has(id)) firstAt.set(id, j);
        }
        for (const r of refs) {
          const seenAt = firstAt.get(r.cause);
          if (seenAt !== undefined && seenAt < r.at) continue;
          causeFindings.push({
            at: r.at,
            finding: { requirement: ID, severity: 'error', file: r.file, line: r.line, column: 1, message: `seq ${r.seq}: caused_by ${String(r.cause)} names no earlier event in the log`, fix: 'caused_by must be the event_id of an earlier event (orc-state task ... --caused-by <event_id>)' },
          });
          if (causeFindings.length >= MAX_FINDINGS) break;
        }
      }
      const findings: Finding[] = [];
      let i = 0;
      let j = 0;
      while (findings.length < MAX_FINDINGS && (i < causeFindings.length || j < other.length)) {
        const c = causeFindings[i];
        const o = other[j];
        if (c && (!o || c.at <= o.at)) {
          findings.push(c.finding);
          i++;
        } else if (o) {
          findings.push(o.finding);
          j++;
        }
      }
      return { findings };
    },
  };
}

/** An event among the RECENT before index `at` (the ring holds no later one) has id `cause`. */
function inRecent(recent: unknown[], at: number, cause: unknown): boolean {
  const n = Math.min(at, RECENT);
  for (let k = 1; k <= n; k++) if (recent[(at - k) % RECENT] === cause) return true;
  return false;
}

export const rule: Rule = {
  id: ID,
  level: 'MUST',
  section: 'audit',
  title: 'The log explains every failure and names who did each transition',
  ...visitorRule(ID, visitor),
};
