/**
 * A state summary (counts per status, per workstream; workers; orphaned tasks) from a snapshot:
 * data, not presentation (the status command prints it with src/cli/render/engine.ts, or as JSON).
 *
 * Public API (stable): summarize(snapshot, now?) → Summary, Summary. With `now`, each lease says whether it has
 * expired by then (read-only commands never expire one: the next writer does, through the machine).
 * Integration points: `orc-state status`, the live view, serve.
 * Dependencies: ../model.js (types).
 */
import type { Snapshot } from '../model.js';

export interface Summary {
  last_seq: number;
  timestamp: string;
  workstreams: Array<{ workstream_id: string; status: string; tasks: Record<string, number> }>;
  tasks: Record<string, number>;
  workers: Array<{ worker_id: string; status: string; current_task: string | null; lease?: { token: string; expires_at: string; expired?: boolean } }>;
  orphaned: string[];
}

export function summarize(snapshot: Snapshot, now?: Date): Summary {
  const byWs = new Map<string, Record<string, number>>();
  const total: Record<string, number> = {};
  const orphaned: string[] = [];
  for (const t of snapshot.tasks) {
    const counts = byWs.get(t.workstream_id) ?? {};
    counts[t.status] = (counts[t.status] ?? 0) + 1;
    byWs.set(t.workstream_id, counts);
    total[t.status] = (total[t.status] ?? 0) + 1;
    if (t.orphaned) orphaned.push(t.task_id);
  }
  return {
    last_seq: snapshot.last_seq,
    timestamp: snapshot.timestamp,
    workstreams: snapshot.workstreams.map((w) => ({ workstream_id: w.workstream_id, status: w.status, tasks: byWs.get(w.workstream_id) ?? {} })),
    tasks: total,
    workers: snapshot.workers.map((w) => ({ worker_id: w.worker_id, status: w.status, current_task: w.current_task, ...(w.lease ? { lease: { token: w.lease.token, expires_at: w.lease.expires_at, ...(now ? { expired: Date.parse(w.lease.expires_at) <= now.getTime() } : {}) } } : {}) })),
    orphaned,
  };
}

