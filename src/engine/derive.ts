/**
 * The derive step run after every commit (STATE-OBS-005/006, OBS-001,
 * DAG-VIEW-001..003): indices and metrics (B1's src/derive) and the DAG and
 * execution-plan files (C's src/graph/files.ts), all written durably.
 *
 * Public API:
 *   - deriveAll(root, taskSet, snapshot, newEvents?): Promise<DeriveReport> (internal; engine and doctor)
 *   - recentEvents(root, now, windowMs?): OrcEvent[]                         (internal) last day of events from the log tail
 *   - DeriveReport (stable)
 * Integration points: engine commit path, `doctor --repair` (stale indices),
 * `orc-state sync`.
 * Dependencies: ../derive/indices.js, ../derive/metrics.js (B1), ../graph/files.js (C), ../io/jsonl-log.js.
 */
import type { Finding, OrcEvent, Snapshot } from '../model.js';
import { writeIndices } from '../derive/indices.js';
import { computeMetrics, writeMetrics } from '../derive/metrics.js';
import { writeGraphFiles } from '../graph/files.js';
import { readTailLines } from '../io/jsonl-log.js';
import type { TaskSet } from '../repo/load-tasks.js';
import { statePaths } from './paths.js';

export interface DeriveReport {
  written: string[];
  findings: Finding[];
}

/** How much of the live log's tail is read to find the last day's events for metrics. */
const TAIL_BYTES = 512 * 1024;

/** Events of the last `windowMs` (default 24 h) found in the tail of the live log, oldest first. */
export function recentEvents(root: string, now: Date, windowMs = 24 * 3600_000): OrcEvent[] {
  const since = now.getTime() - windowMs;
  const out: OrcEvent[] = [];
  for (const line of readTailLines(statePaths(root).log, TAIL_BYTES)) {
    try {
      const ev = JSON.parse(line) as OrcEvent;
      if (Date.parse(ev.timestamp) >= since) out.push(ev);
    } catch {
      /* corrupt lines are doctor's business */
    }
  }
  return out;
}

export async function deriveAll(root: string, taskSet: TaskSet, snapshot: Snapshot): Promise<DeriveReport> {
  const { stateDir } = statePaths(root);
  const now = new Date();
  await writeIndices(stateDir, snapshot);
  await writeMetrics(stateDir, computeMetrics(snapshot, recentEvents(root, now), now));
  const graph = await writeGraphFiles(root, taskSet, snapshot);
  return {
    written: ['.state/by_workstream.json', '.state/by_status.json', '.state/by_worker.json', '.state/metrics.json', ...graph.written],
    findings: graph.findings,
  };
}
