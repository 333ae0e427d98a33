/**
 * Rebuilding state from the event log (STATE-OBS-002, AUDIT-001/002).
 *
 * Public API:
 *   - replay(root, { at?, seq? }): Promise<LiveState>   (stable) state after every event up to a time or seq
 *   - replayInto(state, root, opts): Promise<ReplayStats> (internal) used by the commit path and doctor
 *   - applyLogged(state, event): void                    (internal) applyEvent that also understands system events
 * Streaming: events are parsed chunk by chunk (archives first, gunzipped as
 * streams), so memory is flat in log size. A corrupt line raises
 * OrcError('STATE_CORRUPT') with its file and line unless `mode: 'collect'`.
 * When old archives were pruned (`log prune`), replay starts from the
 * checkpoint written at the prune boundary (`archive/checkpoint.<seq>.json`).
 * Integration points: engine commit path (no snapshot yet / snapshot behind),
 * doctor (snapshot == replay), CLI replay/why/status, library users.
 * Dependencies: ../machines/index.js (emptyState, fromSnapshot, applyEvent), ./log.js.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OrcError } from '../errors.js';
import type { OrcEvent, Snapshot } from '../model.js';
import { applyEvent, emptyState, fromSnapshot, type LiveState } from '../machines/index.js';
import { eventBatches, prunedBaseSeq, type LogProblem } from './log.js';
import { statePaths } from './paths.js';

export interface ReplayOptions {
  /** ISO-8601 timestamp: apply events with timestamp <= at. */
  at?: string;
  /** Apply events with seq <= seq. */
  seq?: number;
  mode?: 'throw' | 'collect';
  onProblem?: (p: LogProblem) => void;
}

export interface ReplayStats {
  applied: number;
  lastEvent: OrcEvent | null;
}

/** applyEvent for every entity type; `system` events only advance seq and time (a heartbeat's lease_renewed also moves its worker's lease). */
export function applyLogged(state: LiveState, event: OrcEvent): void {
  applyEvent(state, event);
  state.last_seq = event.seq;
  state.timestamp = event.timestamp;
}

/** The newest checkpoint that the remaining archives continue from, if older archives were pruned. */
export function startingCheckpoint(root: string): Snapshot | null {
  const base = prunedBaseSeq(root);
  if (base === 0) return null;
  return JSON.parse(readFileSync(join(statePaths(root).archiveDir, `checkpoint.${base}.json`), 'utf8')) as Snapshot;
}

/** ISO-8601 shape and a real calendar date (Date.parse rolls 2026-02-30 over to March 2). */
function isRealIsoDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return false;
  return m[4] === undefined || (Number(m[4]) < 24 && Number(m[5]) < 60 && (m[6] === undefined || Number(m[6]) < 60));
}

export async function replayInto(state: LiveState, root: string, opts: ReplayOptions = {}): Promise<ReplayStats> {
  const atMs = opts.at === undefined ? undefined : Date.parse(opts.at);
  if (opts.at !== undefined && (Number.isNaN(atMs) || !isRealIsoDate(opts.at))) {
    throw new OrcError('USAGE', `--at ${opts.at} is not an ISO-8601 timestamp`, { fix: 'use e.g. --at 2026-01-31T12:00:00.000Z' });
  }
  let applied = 0;
  let lastEvent: OrcEvent | null = null;
  const startSeq = state.last_seq;
  outer: for await (const batch of eventBatches(root, {
    mode: opts.mode ?? 'throw',
    ...(opts.onProblem ? { onProblem: opts.onProblem } : {}),
    baseSeq: startSeq,
  })) {
    for (const event of batch.events) {
      if (event.seq <= startSeq) continue;
      if (opts.seq !== undefined && event.seq > opts.seq) break outer;
      if (atMs !== undefined && Date.parse(event.timestamp) > atMs) break outer;
      applyLogged(state, event);
      lastEvent = event;
      applied++;
    }
  }
  return { applied, lastEvent };
}

/** The state after every logged event up to `at` / `seq` (all of them by default). */
export async function replay(root: string, opts: ReplayOptions = {}): Promise<LiveState> {
  const checkpoint = startingCheckpoint(root);
  if (checkpoint && opts.seq !== undefined && opts.seq < checkpoint.last_seq) {
    throw new OrcError('NOT_FOUND', `events up to seq ${checkpoint.last_seq} were pruned; the oldest reachable state is seq ${checkpoint.last_seq}`, {
      fix: `ask for --seq ${checkpoint.last_seq} or later`,
    });
  }
  const state = checkpoint ? fromSnapshot(checkpoint) : emptyState();
  await replayInto(state, root, opts);
  return state;
}
