/**
 * Derived indices (.state/by_workstream.json, by_status.json, by_worker.json):
 * task ids grouped three ways, always derivable from current.json
 * (requirements STATE-OBS-005/006).
 *
 * Public API (stable):
 *   - INDEX_NAMES, IndexName, IndexFile, INDEX_SCHEMA_VERSION
 *   - buildIndices(snapshot): Record<IndexName, IndexFile> (pure)
 *   - serializeIndex(index): string — the exact bytes written (deterministic:
 *     sorted keys and ids, 2-space JSON, trailing newline)
 *   - indexFileName(name): e.g. 'by_status.json'
 *   - writeIndices(stateDir, snapshot): Promise<void> (durable, one atomic
 *     replace per file; idempotent: same snapshot, same bytes)
 *   - isIndexStale(index, snapshot): boolean — a reader's staleness test
 *     (source_last_seq / source_timestamp differ from the snapshot's)
 * Integration points: the engine's derive step after each commit (B2), doctor,
 * rules STATE-OBS-005/006 (regenerate and compare; --fix rewrites).
 * Dependencies: ../io/atomic-write.js, ../schema/registry.js, ../model.js.
 */
import { join } from 'node:path';
import { withDeriveLock, writeDerivedFile } from './guard.js';
import { TASK_STATUSES, type Snapshot } from '../model.js';
import { schemaId } from '../schema/registry.js';
import { INDEX_VERSION } from '../core/versions.js';

export const INDEX_SCHEMA_VERSION = INDEX_VERSION;
export const INDEX_NAMES = ['by_workstream', 'by_status', 'by_worker'] as const;
export type IndexName = (typeof INDEX_NAMES)[number];

export interface IndexFile {
  schema_version: string;
  schema_url: string;
  index: IndexName;
  /** `last_seq` of the snapshot this index was built from. */
  source_last_seq: number;
  /** `timestamp` of the snapshot this index was built from. */
  source_timestamp: string;
  /** Group key -> sorted task ids. */
  groups: Record<string, string[]>;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function indexFileName(name: IndexName): string {
  return `${name}.json`;
}

function sortedGroups(groups: Map<string, string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const k of [...groups.keys()].sort(cmp)) out[k] = (groups.get(k) as string[]).sort(cmp);
  return out;
}

export function buildIndices(snapshot: Snapshot): Record<IndexName, IndexFile> {
  const byWs = new Map<string, string[]>();
  for (const w of snapshot.workstreams) byWs.set(w.workstream_id, []);
  const byStatus = new Map<string, string[]>(TASK_STATUSES.map((s) => [s, []]));
  const byWorker = new Map<string, string[]>();
  for (const w of snapshot.workers) byWorker.set(w.worker_id, []);
  for (const t of snapshot.tasks) {
    (byWs.get(t.workstream_id) ?? byWs.set(t.workstream_id, []).get(t.workstream_id))!.push(t.task_id);
    (byStatus.get(t.status) ?? byStatus.set(t.status, []).get(t.status))!.push(t.task_id);
    if (t.assigned_worker) {
      (byWorker.get(t.assigned_worker) ?? byWorker.set(t.assigned_worker, []).get(t.assigned_worker))!.push(t.task_id);
    }
  }
  const make = (index: IndexName, groups: Record<string, string[]>): IndexFile => ({
    schema_version: INDEX_SCHEMA_VERSION,
    schema_url: schemaId('index', INDEX_SCHEMA_VERSION),
    index,
    source_last_seq: snapshot.last_seq,
    source_timestamp: snapshot.timestamp,
    groups,
  });
  // by_status keeps the machine's state order (every status present, possibly empty)
  const statusGroups: Record<string, string[]> = {};
  for (const [k, v] of byStatus) statusGroups[k] = v.sort(cmp);
  return {
    by_workstream: make('by_workstream', sortedGroups(byWs)),
    by_status: make('by_status', statusGroups),
    by_worker: make('by_worker', sortedGroups(byWorker)),
  };
}

export function serializeIndex(index: IndexFile): string {
  return `${JSON.stringify(index, null, 2)}\n`;
}

export function isIndexStale(index: Pick<IndexFile, 'source_last_seq' | 'source_timestamp'>, snapshot: Snapshot): boolean {
  return index.source_last_seq !== snapshot.last_seq || index.source_timestamp !== snapshot.timestamp;
}

/** Write the three indices (concurrently, so their fsyncs overlap); an index that records a newer seq is kept. */
export async function writeIndices(stateDir: string, snapshot: Snapshot): Promise<void> {
  const built = buildIndices(snapshot);
  await withDeriveLock(stateDir, async () => {
    const results = await Promise.allSettled(INDEX_NAMES.map((name) => writeDerivedFile(join(stateDir, indexFileName(name)), serializeIndex(built[name]), snapshot.last_seq)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  });
}
