import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyTransitions, openStore, syncDefinitions } from '../src/engine/commit.js';
import { readEvents } from '../src/engine/log.js';
import { replay } from '../src/engine/replay.js';
import { readSnapshot } from '../src/engine/snapshot.js';
import { compareWithReplay } from '../src/engine/compare.js';
import { isTempFileName } from '../src/io/atomic-write.js';
import { OrcError } from '../src/errors.js';
import { validate } from '../src/schema/registry.js';
import type { OrcEvent } from '../src/model.js';
import type { TransitionRequest } from '../src/machines/index.js';
// @ts-expect-error plain JS fixture
import { flatSpec, makeRepo } from './fixtures/engine/make-repo.mjs';

const ts = () => new Date().toISOString();
const task = (id: string, trigger: string, extra: Partial<TransitionRequest> = {}): TransitionRequest => ({ entity_type: 'task', entity_id: id, trigger, timestamp: ts(), ...extra });
const worker = (id: string, trigger: string, extra: Partial<TransitionRequest> = {}): TransitionRequest => ({ entity_type: 'worker', entity_id: id, trigger, timestamp: ts(), ...extra });

async function allEvents(root: string): Promise<OrcEvent[]> {
  const out: OrcEvent[] = [];
  for await (const e of readEvents(root)) out.push(e);
  return out;
}

function repo(): string {
  return makeRepo({ ...flatSpec('ws1', 3, { maxRetries: 1 }), ws2: [{ id: 'a' }, { id: 'b', deps: ['a'] }] }) as string;
}

async function readyRepo(): Promise<string> {
  const root = repo();
  await syncDefinitions(root);
  await applyTransitions(root, [worker('w1', 'worker_registered', { metadata: { capabilities: [] } }), worker('w1', 'registration_complete')]);
  return root;
}

describe('commit path', () => {
  it('sync registers every definition once, with gap-free seq, schema-valid events and a matching snapshot', async () => {
    const root = repo();
    const first = await syncDefinitions(root);
    expect(first.createdTasks.sort()).toEqual(['a', 'b', 't0', 't1', 't2']);
    expect(first.createdWorkstreams).toEqual(['ws1', 'ws2']);
    const again = await syncDefinitions(root);
    expect(again.events).toEqual([]);
    const events = await allEvents(root);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    for (const e of events) expect(validate('event', '2.0.0', e).errors).toEqual([]);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
    const snap = readSnapshot(root)!;
    expect(validate('snapshot', '2.0.0', snap).errors).toEqual([]);
    expect(snap.last_seq).toBe(events.length);
    expect(snap.last_events.map((e) => e.seq)).toEqual(first.events.map((e) => e.seq));
    expect(compareWithReplay(snap, await replay(root))).toEqual([]);
    expect(readdirSync(join(root, '.state')).filter(isTempFileName)).toEqual([]);
    // derived files were written from this snapshot
    const idx = JSON.parse(readFileSync(join(root, '.state/by_status.json'), 'utf8')) as { source_last_seq: number };
    expect(idx.source_last_seq).toBe(snap.last_seq);
    expect(existsSync(join(root, '.state/metrics.json'))).toBe(true);
    expect(existsSync(join(root, '.state/dag_ws2.json'))).toBe(true);
  });

  it('numbers a batch in order, links derived events to their cause and records the actor', async () => {
    const root = await readyRepo();
    const r = await applyTransitions(root, [task('a', 'scheduler_assigned'), task('a', 'worker_started', { worker_id: 'w1', caused_by: null })], { actor: 'tester' });
    const start = r.events.find((e) => e.event === 'task_started')!;
    const assigned = r.events.find((e) => e.entity_type === 'worker')!;
    expect(assigned.caused_by).toBe(start.event_id);
    expect(r.events.every((e) => e.actor === 'tester')).toBe(true);
    expect(r.events.map((e) => e.seq)).toEqual(r.events.map((_, i) => r.events[0]!.seq + i));
    expect(r.snapshot.tasks.find((t) => t.task_id === 'a')).toMatchObject({ status: 'running', assigned_worker: 'w1' });
  });

  it('rejects the whole batch on the first illegal request, naming the allowed triggers, and writes nothing', async () => {
    const root = await readyRepo();
    const before = { log: readFileSync(join(root, '.state/transitions.jsonl'), 'utf8'), snap: readFileSync(join(root, '.state/current.json'), 'utf8') };
    const err = await applyTransitions(root, [task('t0', 'scheduler_assigned'), task('b', 'scheduler_assigned')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OrcError);
    expect((err as OrcError).code).toBe('ILLEGAL_TRANSITION');
    expect((err as OrcError).message).toMatch(/task b is pending/);
    expect((err as OrcError).message).toMatch(/scheduler_assigned, user_cancelled/);
    expect((err as OrcError).details.data).toMatchObject({ request_index: 1, batch_size: 2 });
    expect(readFileSync(join(root, '.state/transitions.jsonl'), 'utf8')).toBe(before.log);
    expect(readFileSync(join(root, '.state/current.json'), 'utf8')).toBe(before.snap);
    // and the next commit starts from the untouched state (no half-applied cache)
    const ok = await applyTransitions(root, [task('t0', 'scheduler_assigned')]);
    expect(ok.events[0]).toMatchObject({ from_state: 'pending', to_state: 'queued' });
  });

  it('a store keeps definitions and state between commits and still sees other writers', async () => {
    const root = await readyRepo();
    const store = openStore(root);
    await store.applyTransitions([task('t0', 'scheduler_assigned')]);
    await applyTransitions(root, [task('t1', 'scheduler_assigned')]); // another writer
    const r = await store.applyTransitions([task('t1', 'worker_started', { worker_id: 'w1' })]);
    expect(r.events[0]).toMatchObject({ entity_id: 't1', from_state: 'queued', to_state: 'running' });
    const events = await allEvents(root);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(compareWithReplay(readSnapshot(root)!, await replay(root))).toEqual([]);
  });

  it('Decision 4: events recorded in the snapshot but missing from the log are appended by the next writer, once', async () => {
    const root = await readyRepo();
    const log = join(root, '.state/transitions.jsonl');
    const sizeBefore = statSync(log).size;
    const r = await applyTransitions(root, [task('t0', 'scheduler_assigned'), task('t1', 'scheduler_assigned')]);
    truncateSync(log, sizeBefore); // crash after the rename, before the append
    const notices: string[] = [];
    const next = await applyTransitions(root, [task('t2', 'scheduler_assigned')], { onNotice: (n) => notices.push(n.kind) });
    expect(notices).toContain('events_reappended');
    const events = await allEvents(root);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    for (const e of r.events) expect(events.filter((x) => x.event_id === e.event_id)).toHaveLength(1);
    expect(next.events[0]!.seq).toBe(r.events[r.events.length - 1]!.seq + 1);
    expect(compareWithReplay(readSnapshot(root)!, await replay(root))).toEqual([]);
  });

  it('the next writer removes the current.json.prev link a killed commit left behind (doctor has nothing to report)', async () => {
    const root = await readyRepo();
    // What a commit killed between its link and its unlink leaves: a second name of the previous snapshot.
    const left = join(root, '.state', 'current.json.prev.4242.0badf00d.tmp');
    writeFileSync(left, readFileSync(join(root, '.state/current.json')));
    await applyTransitions(root, [task('t1', 'user_cancelled')]);
    expect(existsSync(left)).toBe(false);
    expect(readdirSync(join(root, '.state')).filter((n) => isTempFileName(n))).toEqual([]);
  });

  it('a torn tail is cut off by the next writer and kept in .state/recovered/', async () => {
    const root = await readyRepo();
    appendFileSync(join(root, '.state/transitions.jsonl'), '{"seq":99,"event_id":"x');
    const notices: string[] = [];
    await applyTransitions(root, [task('t0', 'scheduler_assigned')], { onNotice: (n) => notices.push(n.kind) });
    expect(notices).toContain('torn_tail_repaired');
    const kept = readdirSync(join(root, '.state/recovered'));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(root, '.state/recovered', kept[0]!), 'utf8')).toBe('{"seq":99,"event_id":"x');
    const events = await allEvents(root);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  });

  it('rebuilds a missing snapshot from the log before committing', async () => {
    const root = await readyRepo();
    const expected = readSnapshot(root)!;
    rmSync(join(root, '.state/current.json'));
    const notices: string[] = [];
    const r = await applyTransitions(root, [task('t0', 'scheduler_assigned')], { onNotice: (n) => notices.push(n.kind) });
    expect(notices).toContain('snapshot_rebuilt');
    expect(r.events[0]!.seq).toBe(expected.last_seq + 1);
  });

  it('retries, failure after the last retry, and severities follow the machine', async () => {
    const root = await readyRepo();
    const run = (id: string) => [task(id, 'worker_started', { worker_id: 'w1' })];
    await applyTransitions(root, [task('t0', 'scheduler_assigned'), ...run('t0')]);
    const retry = await applyTransitions(root, [task('t0', 'execution_failed', { error: 'exit 1' })]);
    expect(retry.events[0]).toMatchObject({ event: 'task_retry', severity: 'warning', to_state: 'retrying' });
    await applyTransitions(root, [task('t0', 'retry_delay_elapsed'), ...run('t0')]);
    const failed = await applyTransitions(root, [task('t0', 'task_timeout', { error: 'timed out after 60 s' })]);
    expect(failed.events[0]).toMatchObject({ event: 'task_timeout', severity: 'error', to_state: 'failed' });
    const t0 = failed.snapshot.tasks.find((t) => t.task_id === 't0')!;
    expect(t0).toMatchObject({ status: 'failed', retry_count: 1, last_error: 'timed out after 60 s', assigned_worker: null });
    const err = await applyTransitions(root, [task('t0', 'retry_delay_elapsed')]).catch((e: unknown) => e);
    expect((err as OrcError).code).toBe('ILLEGAL_TRANSITION');
  });

  it('refuses ids and caused_by values that would make a schema-invalid event', async () => {
    const root = await readyRepo();
    await expect(applyTransitions(root, [worker('bad id', 'worker_registered', { metadata: { capabilities: [] } })])).rejects.toMatchObject({ code: 'USAGE' });
    await expect(applyTransitions(root, [task('t0', 'scheduler_assigned', { caused_by: 'not-a-uuid' })])).rejects.toMatchObject({ code: 'USAGE' });
    await expect(applyTransitions(root, [task('t0', 'scheduler_assigned', { timestamp: 'soon' })])).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('keeps event timestamps non-decreasing even when a request carries an older time', async () => {
    const root = await readyRepo();
    const r = await applyTransitions(root, [task('t0', 'scheduler_assigned', { timestamp: '2020-01-01T00:00:00Z' })]);
    const events = await allEvents(root);
    for (let i = 1; i < events.length; i++) expect(events[i]!.timestamp >= events[i - 1]!.timestamp).toBe(true);
    expect(r.events[0]!.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('one-shot commits reuse cached definitions, and an edited task file is read again (guards see the edit)', async () => {
    const root = await readyRepo();
    await applyTransitions(root, [task('t0', 'scheduler_assigned')]); // fills the definitions cache
    const file = join(root, 'tasks/ws1/t0.json');
    const def = JSON.parse(readFileSync(file, 'utf8')) as { worker_requirements: { capabilities: string[] } };
    def.worker_requirements.capabilities = ['gpu'];
    writeFileSync(file, JSON.stringify(def, null, 2));
    const err = (await applyTransitions(root, [task('t0', 'worker_started', { worker_id: 'w1' })]).catch((e: unknown) => e)) as OrcError;
    expect(err.code).toBe('ILLEGAL_TRANSITION');
    expect(err.message).toMatch(/gpu/);
  });
});
