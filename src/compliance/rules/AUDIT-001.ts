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

type Outcome = { findings: Finding[] } | { skip: string };

/** The checks, event by event in one pass over the log (src/engine/event-pass.ts). */
function visitor(): EventVisitor<Outcome> {
  const findings: Finding[] = [];
  const add = (file: string, line: number, message: string, fix: string) => {
    if (findings.length < MAX_FINDINGS) findings.push({ requirement: ID, severity: 'error', file, line, column: 1, message, fix });
  };
  let first = true;
  let pruned = false;
  // Every id seen so far: a caused_by must name an earlier event (one pass, so the causes are not known up front).
  const seen = new Set<unknown>();
  const errorsByTask = new Map<string, number>();
  return {
    event(e: OrcEvent, file: string, line: number) {
      if (first) {
        first = false;
        pruned = e.seq > 1;
      }
      if (!pruned) {
        if (e.caused_by && !seen.has(e.caused_by)) {
          add(file, line, `seq ${e.seq}: caused_by ${e.caused_by} names no earlier event in the log`, 'caused_by must be the event_id of an earlier event (orc-state task ... --caused-by <event_id>)');
        }
        seen.add(e.event_id);
      }
      const hasActor = typeof e.actor === 'string' && e.actor.length > 0;
      const hasWorker = typeof e.metadata?.worker_id === 'string' && e.metadata.worker_id.length > 0;
      if (!hasActor && !hasWorker) {
        add(file, line, `seq ${e.seq} (${e.event} of ${e.entity_type} ${e.entity_id}) does not say who did it: no actor and no metadata.worker_id`, 'every transition goes through the engine, which records the actor (ORC_STATE_ACTOR or user@host); restore the line from a backup');
      }
      if (e.entity_type !== 'task') return;
      if (typeof e.metadata?.error === 'string' && e.metadata.error.trim() !== '') {
        errorsByTask.set(e.entity_id, (errorsByTask.get(e.entity_id) ?? 0) + 1);
      }
      if (e.to_state === 'failed' && !errorsByTask.get(e.entity_id)) {
        add(file, line, `seq ${e.seq}: task ${e.entity_id} failed (${e.event} on ${e.trigger}) and no event of it records an error message`, 'report failures with an error: `orc-state task <id> execution_failed --error "<what went wrong>"`');
      }
    },
    end(log) {
      if (log.count === 0) return { skip: 'no events in .state/transitions.jsonl or its archives' };
      return { findings };
    },
  };
}

export const rule: Rule = {
  id: ID,
  level: 'MUST',
  section: 'audit',
  title: 'The log explains every failure and names who did each transition',
  ...visitorRule(ID, visitor),
};
