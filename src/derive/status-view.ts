/**
 * Task statuses without parsing the whole snapshot: when `.state/by_status.json` was derived from the
 * snapshot that `.state/current.json` holds now (same last_seq and timestamp, read from the snapshot's
 * first lines), its groups are every task's status. Read-only commands that need nothing else of the
 * snapshot (`ready`) read ~10 % of the bytes this way.
 *
 * Public API (internal): readStatusView(root) → Snapshot | null — a snapshot holding only last_seq,
 * timestamp and, per task, { task_id, status } (no workstreams, workers, events or other task fields);
 * null when the index is missing, stale or unreadable, or current.json does not start the way
 * serializeSnapshot writes it (the caller then reads the snapshot itself: readSnapshot).
 * Integration points: src/graph/repo.ts (loadGraphInputs, statusesOnly).
 * Stability: internal.
 * Dependencies: node:fs, node:path, ../core/state-paths.js, ./indices.js, ./guard.js (fileHead), ../model.js.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Snapshot, TaskState } from '../model.js';
import { statePaths } from '../core/state-paths.js';
import { indexFileName, type IndexFile } from './indices.js';
import { fileHead } from './guard.js';

/** serializeSnapshot's first lines: schema_version, schema_url, timestamp, last_seq (one key per line). */
const HEAD = /^\{\n {2}"schema_version": ("[^"\n]*"),\n {2}"schema_url": ("[^"\n]*"),\n {2}"timestamp": ("[^"\n]*"),\n {2}"last_seq": (\d+),\n/;

function head(file: string): { schema_version: string; schema_url: string; timestamp: string; last_seq: number } | null {
  const text = fileHead(file, 1024);
  const m = text === null ? null : HEAD.exec(text);
  if (!m) return null;
  try {
    return { schema_version: JSON.parse(m[1]!) as string, schema_url: JSON.parse(m[2]!) as string, timestamp: JSON.parse(m[3]!) as string, last_seq: Number(m[4]) };
  } catch {
    return null;
  }
}

export function readStatusView(root: string): Snapshot | null {
  const paths = statePaths(root);
  const h = head(paths.current);
  if (!h) return null;
  let index: IndexFile;
  try {
    index = JSON.parse(readFileSync(join(paths.stateDir, indexFileName('by_status')), 'utf8')) as IndexFile;
  } catch {
    return null;
  }
  if (index.index !== 'by_status' || index.source_last_seq !== h.last_seq || index.source_timestamp !== h.timestamp) return null;
  if (!index.groups || typeof index.groups !== 'object') return null;
  const tasks: TaskState[] = [];
  for (const [status, ids] of Object.entries(index.groups)) {
    if (!Array.isArray(ids)) return null;
    for (const id of ids) tasks.push({ task_id: id, status } as TaskState);
  }
  return { ...h, last_events: [], workstreams: [], tasks, workers: [] } as unknown as Snapshot;
}
