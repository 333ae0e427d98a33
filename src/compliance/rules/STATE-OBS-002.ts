/**
 * STATE-OBS-002 (MUST): `.state/transitions.jsonl` (with its archives) is an
 * append-only log, one JSON event per line, and replaying it reconstructs
 * the state. Checks: every complete line parses (corrupt lines located by
 * file:line); seq strictly increasing without gaps across archives and the
 * live log; replaying the log from empty (or from the prune checkpoint)
 * yields exactly the statuses, timestamps, retry counts, errors and workers
 * of current.json (events the snapshot records beyond the log — an
 * interrupted commit, STATE-OBS-003 — are applied first).
 *
 * Public API (stable): rule.
 * Integration points: compliance runner; memoised load 'snapshot'; replays in the shared
 * pass over the log (src/engine/event-pass.ts).
 * Dependencies: ../../engine/*, ../../machines/index.js.
 */
import type { Finding, OrcEvent } from '../../model.js';
import { applyEvent, emptyState, fromSnapshot, type LiveState } from '../../machines/index.js';
import { compareWithReplay, describeDifference } from '../../engine/compare.js';
import { startingCheckpoint } from '../../engine/replay.js';
import { locator, snapshotOf } from '../../engine/rule-loaders.js';
import { eventPass, wantEvents, type EventVisitor, type LogSummary } from '../../engine/event-pass.js';
import type { Rule } from '../types.js';
import { LOG_FILE, stateRel } from '../../core/state-paths.js';

const ID = 'STATE-OBS-002';

interface Replay {
  log: LogSummary;
  /** The replayed state; null when the log held no event (the checkpoint is then read by the rule). */
  state: LiveState | null;
  /** Where replay stopped, if it did. */
  stopped: Finding | null;
}

/** Replay event by event in the one pass over the log (src/engine/event-pass.ts), from empty or the prune checkpoint. */
function visitor(root: string): () => EventVisitor<Replay> {
  return () => {
    let state: LiveState | null = null;
    let stopped: Finding | null = null;
    return {
      event(event: OrcEvent, file: string, line: number) {
        if (stopped) return;
        if (!state) {
          const checkpoint = startingCheckpoint(root);
          state = checkpoint ? fromSnapshot(checkpoint) : emptyState();
        }
        try {
          applyEvent(state, event);
        } catch (error) {
          stopped = { requirement: ID, severity: 'error', file, line, column: 1, message: `replay stops at seq ${event.seq}: ${(error as Error).message}`, fix: 'the log contradicts itself here; inspect the entity with `orc-state why` and restore the log from a backup' };
        }
      },
      end: (log) => ({ log, state, stopped }),
    };
  };
}

export const rule: Rule = {
  id: ID,
  level: 'MUST',
  section: 'state',
  title: 'The event log is append-only, ordered, and replays to current.json',
  prepare(ctx) {
    wantEvents(ctx, ID, visitor(ctx.root));
  },
  async check(ctx) {
    const replay = await eventPass(ctx, ID, visitor(ctx.root));
    const log = replay.log;
    const snap = snapshotOf(ctx);
    if (log.sources.length === 0) {
      if (snap.snapshot && snap.snapshot.last_seq > 0) {
        return { findings: [{ requirement: ID, severity: 'error', file: stateRel(LOG_FILE), line: 1, column: 1, message: `the log is missing but current.json is at seq ${snap.snapshot.last_seq}`, fix: 'restore .state/transitions.jsonl from version control or a backup' }] };
      }
      return { skip: 'no event log in .state/' };
    }
    const findings: Finding[] = [];
    for (const p of log.problems) {
      if (p.kind === 'torn') {
        findings.push({ requirement: ID, severity: 'warning', file: p.file, line: p.line, column: 1, message: p.message, fix: 'run `orc-state doctor --repair` (the incomplete bytes are kept in .state/recovered/)' });
      } else {
        findings.push({ requirement: ID, severity: 'error', file: p.file, line: p.line, column: 1, message: p.message, fix: p.kind === 'corrupt' ? 'restore the line from version control or a backup; it is never deleted automatically' : 'events are missing or repeated: restore the log from a backup (`orc-state doctor` shows the details)' });
      }
    }
    // Replay (done during the pass; an empty log replays to the checkpoint or the empty state).
    let state = replay.state;
    if (!state) {
      const checkpoint = startingCheckpoint(ctx.root);
      state = checkpoint ? fromSnapshot(checkpoint) : emptyState();
    }
    const replayed = replay.stopped === null;
    if (replay.stopped) findings.push(replay.stopped);
    const s = snap.snapshot;
    if (replayed && s) {
      if (s.last_seq > state.last_seq) {
        for (const e of (s.last_events ?? []).filter((x) => x.seq > state.last_seq).sort((a, b) => a.seq - b.seq)) {
          try {
            applyEvent(state, e);
          } catch {
            break;
          }
        }
      }
      const at = locator(snap.text);
      for (const d of compareWithReplay(s, state, 50)) {
        const where = d.index >= 0 ? at([d.entity_type === 'task' ? 'tasks' : d.entity_type === 'worker' ? 'workers' : 'workstreams', d.index, ...(d.field.startsWith('(') ? [] : [d.field])]) : at(['last_seq']);
        findings.push({ requirement: ID, severity: 'error', file: snap.file, line: where.line, column: where.column, message: describeDifference(d), fix: 'current.json must equal the replayed log: run `orc-state doctor --repair` (rebuilds current.json from the log, keeping the old file in .state/recovered/)' });
      }
    }
    return { findings };
  },
};
