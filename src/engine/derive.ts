/**
 * The derive step run after every commit (STATE-OBS-005/006, OBS-001,
 * DAG-VIEW-001..003): indices and metrics (B1's src/derive) and the DAG and
 * execution-plan files (C's src/graph/files.ts), all written durably.
 *
 * Public API:
 *   - deriveAll(root, taskSet, snapshot, affected?, recent?, now?): Promise<DeriveReport> (internal; the derive
 *     subscriber (src/derive/refresher.ts) and doctor; runs under the derive lock, never the commit lock;
 *     `recent` = the last day's events when the caller keeps them, else read from the log tail)
 *   - affectedWorkstreams(events, taskSet): Set<string> | undefined (internal) which DAG/plan files a commit can change
 * DAG and plan files are rewritten only for the workstreams a commit can
 * affect (those of its task and workstream events, plus those holding tasks
 * that depend on a changed task): on a 10,000-task state in 100 workstreams
 * this is ~30 ms instead of ~300 ms per commit. Indices and metrics are global
 * and always rewritten.
 *   - recentEvents(root, now, windowMs?): OrcEvent[]                         (internal) last day of events from the log tail
 *   - DeriveReport (stable)
 * Integration points: engine commit path, `doctor --repair` (stale indices),
 * `orc-state sync`.
 * A one-shot commit's lazy definitions (./definitions-cache.ts) are turned into what the touched
 * workstreams' files need (graphDefinitions: their definitions, the rest of the graph's shape from the
 * index), so a transition never reads every task file.
 * Dependencies: ../derive/indices.js (buildIndices, serializeIndex), ../derive/metrics.js (B1), ./definitions-cache.js,
 * ../graph/files.js (C), ../io/atomic-write.js, ../io/jsonl-log.js.
 */
import type { Finding, OrcEvent, Snapshot } from '../model.js';
import { buildIndices, indexFileName, INDEX_NAMES, serializeIndex } from '../derive/indices.js';
import { withDeriveLock, writeDerivedFile } from '../derive/guard.js';
import { join } from 'node:path';
import { computeMetrics, METRICS_FILE, METRICS_PROM_FILE, writeMetrics } from '../derive/metrics.js';
import { writeGraphFiles } from '../graph/files.js';
import { graphDefinitions } from './definitions-cache.js';
import { readTailLines } from '../io/jsonl-log.js';
import type { TaskSet } from '../repo/load-tasks.js';
import { statePaths } from './paths.js';
import { stateRel } from '../core/state-paths.js';

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

/** Workstreams whose DAG/plan files the events can change; undefined = all (definitions changed). */
export function affectedWorkstreams(events: OrcEvent[], taskSet: TaskSet): Set<string> | undefined {
  const out = new Set<string>();
  for (const e of events) {
    if (e.entity_type === 'task') {
      if (e.from_state === null) return undefined; // a new task: the graph itself changed
      const loaded = taskSet.tasks.get(e.entity_id);
      if (!loaded) return undefined;
      out.add(loaded.task.workstream_id);
      for (const dependent of loaded.task.blocks ?? []) {
        const ws = taskSet.tasks.get(dependent)?.task.workstream_id;
        if (ws) out.add(ws);
      }
    } else if (e.entity_type === 'workstream') {
      out.add(e.entity_id);
    }
  }
  return out;
}

export async function deriveAll(root: string, taskSet: TaskSet, snapshot: Snapshot, affected?: Set<string>, recent?: OrcEvent[], now: Date = new Date()): Promise<DeriveReport> {
  const { stateDir } = statePaths(root);
  // One derive lock for the batch (never the commit lock): no file is replaced by an older seq.
  return withDeriveLock(stateDir, async () => {
    // Independent files: written concurrently so their fsyncs overlap; every write settles before the lock is released.
    const built = buildIndices(snapshot);
    const results = await Promise.allSettled([
      ...INDEX_NAMES.map((name) => writeDerivedFile(join(stateDir, indexFileName(name)), serializeIndex(built[name]), snapshot.last_seq)),
      writeMetrics(stateDir, computeMetrics(snapshot, recent ?? recentEvents(root, now), now)),
      affected === undefined
        ? writeGraphFiles(root, graphDefinitions(taskSet, undefined), snapshot)
        : affected.size === 0
          ? Promise.resolve({ written: [] as string[], findings: [] as Finding[] })
          : writeGraphFiles(root, graphDefinitions(taskSet, affected), snapshot, { workstreams: affected }),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const graph = (results[results.length - 1] as PromiseFulfilledResult<{ written: string[]; findings: Finding[] }>).value;
    return {
      written: [...INDEX_NAMES.map((n) => stateRel(indexFileName(n))), stateRel(METRICS_FILE), stateRel(METRICS_PROM_FILE), ...graph.written],
      findings: graph.findings,
    };
  });
}
