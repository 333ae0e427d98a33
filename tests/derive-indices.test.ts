import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { INDEX_NAMES, buildIndices, indexFileName, isIndexStale, serializeIndex, writeIndices } from '../src/derive/indices.js';
import type { Snapshot, TaskState } from '../src/model.js';
import { validate } from '../src/schema/registry.js';

const ts = '2026-04-02T08:00:00.000Z';
const t = (task_id: string, workstream_id: string, status: TaskState['status'], assigned_worker: string | null = null): TaskState => ({
  task_id,
  workstream_id,
  status,
  created_at: ts,
  started_at: status === 'running' ? ts : null,
  completed_at: null,
  assigned_worker,
  retry_count: 0,
  max_retries: 1,
  last_error: null,
  updated_at: ts,
});

function sampleSnapshot(): Snapshot {
  return {
    schema_version: '2.0.0',
    schema_url: 'https://orc-state.dev/schemas/snapshot/2.0.0.json',
    timestamp: ts,
    last_seq: 42,
    last_events: [],
    workstreams: [
      { workstream_id: 'ws-b', status: 'executing', updated_at: ts },
      { workstream_id: 'ws-a', status: 'ready', updated_at: ts },
      { workstream_id: 'ws-empty', status: 'planned', updated_at: ts },
    ],
    tasks: [t('b2', 'ws-b', 'running', 'w1'), t('a1', 'ws-a', 'pending'), t('b1', 'ws-b', 'completed'), t('a2', 'ws-a', 'pending')],
    workers: [
      { worker_id: 'w2', status: 'idle', capabilities: [], current_task: null, registered_at: ts, updated_at: ts },
      { worker_id: 'w1', status: 'busy', capabilities: [], current_task: 'b2', registered_at: ts, updated_at: ts },
    ],
  };
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('buildIndices', () => {
  test('groups task ids by workstream, status and worker, recording the source snapshot', () => {
    const idx = buildIndices(sampleSnapshot());
    expect(idx.by_workstream.groups).toEqual({ 'ws-a': ['a1', 'a2'], 'ws-b': ['b1', 'b2'], 'ws-empty': [] });
    expect(idx.by_status.groups).toEqual({
      pending: ['a1', 'a2'],
      queued: [],
      running: ['b2'],
      validating: [],
      retrying: [],
      completed: ['b1'],
      failed: [],
      cancelled: [],
    });
    expect(idx.by_worker.groups).toEqual({ w1: ['b2'], w2: [] });
    for (const name of INDEX_NAMES) {
      expect(idx[name].source_last_seq).toBe(42);
      expect(idx[name].source_timestamp).toBe(ts);
      expect(idx[name].index).toBe(name);
      expect(validate('index', '1.0.0', idx[name]).errors).toEqual([]);
    }
  });

  test('bytes are deterministic whatever the order of the snapshot arrays', () => {
    const a = sampleSnapshot();
    const b = sampleSnapshot();
    b.tasks.reverse();
    b.workstreams.reverse();
    b.workers.reverse();
    const ia = buildIndices(a);
    const ib = buildIndices(b);
    for (const name of INDEX_NAMES) expect(serializeIndex(ib[name])).toBe(serializeIndex(ia[name]));
  });

  test('the schema rejects a by_status index with an unknown status and a non-array group', () => {
    const idx = buildIndices(sampleSnapshot()).by_status;
    expect(validate('index', '1.0.0', { ...idx, groups: { ...idx.groups, sleeping: [] } }).valid).toBe(false);
    expect(validate('index', '1.0.0', { ...idx, groups: { pending: 'a1' } }).valid).toBe(false);
    expect(validate('index', '1.0.0', { ...idx, source_last_seq: undefined }).valid).toBe(false);
  });

  test('isIndexStale compares source seq and timestamp with the snapshot', () => {
    const snap = sampleSnapshot();
    const idx = buildIndices(snap).by_worker;
    expect(isIndexStale(idx, snap)).toBe(false);
    expect(isIndexStale(idx, { ...snap, last_seq: 43 })).toBe(true);
    expect(isIndexStale(idx, { ...snap, timestamp: '2026-04-02T08:00:01.000Z' })).toBe(true);
  });
});

describe('writeIndices', () => {
  test('writes the three files durably and idempotently, leaving no temp file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orc-b1-idx-'));
    dirs.push(dir);
    const snap = sampleSnapshot();
    await writeIndices(dir, snap);
    const first = INDEX_NAMES.map((n) => readFileSync(join(dir, indexFileName(n)), 'utf8'));
    await writeIndices(dir, snap);
    const second = INDEX_NAMES.map((n) => readFileSync(join(dir, indexFileName(n)), 'utf8'));
    expect(second).toEqual(first);
    expect(JSON.parse(first[0]!)).toEqual(buildIndices(snap).by_workstream);
    expect(readdirSync(dir).sort()).toEqual(['by_status.json', 'by_worker.json', 'by_workstream.json']);
  });
});
