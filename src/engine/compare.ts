/**
 * Compare a snapshot with a state replayed from the log (STATE-OBS-002,
 * doctor): statuses, timestamps, retry counts, errors, workers.
 *
 * Public API (stable): compareWithReplay(snapshot, replayed, limit?) → StateDifference[] (workers' leases included).
 * The `orphaned` flag is not compared: it reflects the definitions on disk,
 * not the log.
 * Integration points: doctor, STATE-OBS-002 rule, tests.
 * Dependencies: ../machines/index.js (LiveState type only).
 */
import type { Snapshot } from '../model.js';
import type { LiveState } from '../machines/index.js';

export interface StateDifference {
  entity_type: 'task' | 'workstream' | 'worker' | 'log';
  entity_id: string;
  field: string;
  /** Index in the snapshot's array, to locate it in current.json (-1 when absent there). */
  index: number;
  snapshot: unknown;
  replayed: unknown;
}

const TASK_FIELDS = ['status', 'workstream_id', 'created_at', 'started_at', 'completed_at', 'assigned_worker', 'retry_count', 'max_retries', 'last_error', 'updated_at'] as const;
const WS_FIELDS = ['status', 'updated_at'] as const;
const WORKER_FIELDS = ['status', 'current_task', 'registered_at', 'updated_at', 'lease'] as const;

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((a === undefined || a === null) && (b === undefined || b === null)) return true;
  return JSON.stringify(a) === JSON.stringify(b);
}

export function compareWithReplay(snapshot: Snapshot, replayed: LiveState, limit = 100): StateDifference[] {
  const out: StateDifference[] = [];
  const push = (d: StateDifference) => {
    if (out.length < limit) out.push(d);
  };
  if (snapshot.last_seq !== replayed.last_seq) {
    push({ entity_type: 'log', entity_id: 'last_seq', field: 'last_seq', index: -1, snapshot: snapshot.last_seq, replayed: replayed.last_seq });
  }
  const groups = [
    { type: 'task' as const, list: snapshot.tasks as unknown as Array<Record<string, unknown>>, key: 'task_id', map: replayed.tasks as Map<string, unknown>, fields: TASK_FIELDS as readonly string[] },
    { type: 'workstream' as const, list: snapshot.workstreams as unknown as Array<Record<string, unknown>>, key: 'workstream_id', map: replayed.workstreams as Map<string, unknown>, fields: WS_FIELDS as readonly string[] },
    { type: 'worker' as const, list: snapshot.workers as unknown as Array<Record<string, unknown>>, key: 'worker_id', map: replayed.workers as Map<string, unknown>, fields: [...WORKER_FIELDS, 'capabilities'] as readonly string[] },
  ];
  for (const g of groups) {
    const seen = new Set<string>();
    g.list.forEach((item, index) => {
      const id = String(item[g.key]);
      seen.add(id);
      const other = g.map.get(id) as Record<string, unknown> | undefined;
      if (!other) {
        push({ entity_type: g.type, entity_id: id, field: '(entity)', index, snapshot: 'present', replayed: 'absent' });
        return;
      }
      for (const f of g.fields) {
        if (!same(item[f], other[f])) push({ entity_type: g.type, entity_id: id, field: f, index, snapshot: item[f] ?? null, replayed: other[f] ?? null });
      }
    });
    for (const id of g.map.keys()) {
      if (!seen.has(id)) push({ entity_type: g.type, entity_id: id, field: '(entity)', index: -1, snapshot: 'absent', replayed: 'present' });
    }
  }
  return out;
}

export function describeDifference(d: StateDifference): string {
  if (d.field === '(entity)') return `${d.entity_type} ${d.entity_id} is ${d.snapshot} in current.json but ${d.replayed} after replaying the log`;
  return `${d.entity_type} ${d.entity_id}: ${d.field} is ${JSON.stringify(d.snapshot)} in current.json but ${JSON.stringify(d.replayed)} after replaying the log`;
}
