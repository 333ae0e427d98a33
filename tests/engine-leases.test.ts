// Leases (issue 12 item 1), through the library with an injected clock: a claim records the lease on the
// worker, a heartbeat moves it forward, the first commit after it expired sends the worker to unresponsive
// and the task to retrying (attempt counted) or failed, the task is claimable again, the old token is refused,
// and the log replays to exactly the same snapshot (leases included).
import { describe, expect, it } from 'vitest';
import { applyTransitions, syncDefinitions } from '../src/engine/commit.js';
import { claimTask, renewLease } from '../src/engine/claim.js';
import { compareWithReplay } from '../src/engine/compare.js';
import { doctor } from '../src/engine/doctor.js';
import { leaseExpiryRequests, newLease, tokenOrder } from '../src/engine/leases.js';
import { readEvents } from '../src/engine/log.js';
import { replay } from '../src/engine/replay.js';
import { readSnapshot } from '../src/engine/snapshot.js';
import { OrcError } from '../src/errors.js';
import type { OrcEvent } from '../src/model.js';
// @ts-expect-error plain JS fixture
import { makeRepo } from './fixtures/engine/make-repo.mjs';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000);

async function agree(root: string): Promise<void> {
  expect(compareWithReplay(readSnapshot(root)!, await replay(root))).toEqual([]);
  const d = await doctor(root);
  expect(d.remaining.filter((i) => i.severity === 'error')).toEqual([]);
}

async function refusal(p: Promise<unknown>): Promise<OrcError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(OrcError);
    return error as OrcError;
  }
  throw new Error('expected a refusal');
}

async function events(root: string): Promise<OrcEvent[]> {
  const out: OrcEvent[] = [];
  for await (const e of readEvents(root)) out.push(e);
  return out;
}

describe('leases', () => {
  it('claim → heartbeat → expiry → reclaim; the stale token is refused; log and snapshot agree', async () => {
    const root = makeRepo({ ws: [{ id: 'a', maxRetries: 1 }] }) as string;
    await syncDefinitions(root, { now: at(0) });
    const first = await claimTask(root, { worker_id: 'w1', lease_seconds: 60, now: at(1), pid: 4242, host: 'box' });
    expect(first.ok).toBe(true);
    expect(first.task_id).toBe('a');
    expect(first.token).toMatch(/^\d+-[0-9a-f]{16}$/);
    // one batch: registration, queue, start (with the derived worker and workstream events)
    expect(first.events.map((e) => `${e.entity_type}:${e.trigger}`)).toEqual([
      'worker:worker_registered',
      'worker:registration_complete',
      'task:scheduler_assigned',
      'workstream:first_task_started',
      'task:worker_started',
      'worker:task_assigned',
    ]);
    expect(new Set(first.events.map((e) => e.seq)).size).toBe(6);
    let w1 = readSnapshot(root)!.workers.find((w) => w.worker_id === 'w1')!;
    expect(w1.status).toBe('busy');
    expect(w1.lease).toEqual({ token: first.token, task_id: 'a', acquired_at: at(1).toISOString(), expires_at: at(61).toISOString(), seconds: 60, pid: 4242, host: 'box' });
    await agree(root);

    // a heartbeat at +50 s moves the lease to +110 s; nothing expires at +100 s
    const hb = await renewLease(root, { worker_id: 'w1', token: first.token!, now: at(50) });
    expect(hb.lease.expires_at).toBe(at(110).toISOString());
    expect(hb.events.map((e) => e.event)).toEqual(['lease_renewed']);
    const quiet = await applyTransitions(root, [], { now: at(100) });
    expect(quiet.expired ?? []).toEqual([]);
    await agree(root);

    // another worker's claim at +111 s expires the lease first, then takes the task again
    const second = await claimTask(root, { worker_id: 'w2', lease_seconds: 30, now: at(111) });
    expect(second.expired.map((e) => `${e.entity_type}:${e.event}`)).toEqual(['worker:worker_unresponsive', 'task:task_timeout', 'worker:worker_task_completed']);
    const timeout = second.expired.find((e) => e.event === 'task_timeout')!;
    expect(timeout.to_state).toBe('retrying');
    expect(timeout.metadata['lease_expired']).toMatchObject({ token: first.token, expires_at: at(110).toISOString(), worker_id: 'w1', task_id: 'a' });
    expect(second.ok).toBe(true);
    expect(second.task_id).toBe('a');
    expect(tokenOrder(second.token!)!).toBeGreaterThan(tokenOrder(first.token!)!);
    const snap = readSnapshot(root)!;
    expect(snap.tasks.find((t) => t.task_id === 'a')).toMatchObject({ status: 'running', assigned_worker: 'w2', retry_count: 1 });
    w1 = snap.workers.find((w) => w.worker_id === 'w1')!;
    expect(w1).toMatchObject({ status: 'unresponsive', current_task: null });
    expect(w1.lease).toBeUndefined();
    await agree(root);

    // the old token: refused for a report, for a heartbeat, and w2's token is refused for w1
    const stale = await refusal(applyTransitions(root, [{ entity_type: 'task', entity_id: 'a', trigger: 'execution_completed', timestamp: at(112).toISOString(), worker_id: 'w1', metadata: { lease_token: first.token } }], { now: at(112) }));
    expect(stale.code).toBe('LEASE_REFUSED');
    expect(stale.message).toContain('stale');
    expect((await refusal(renewLease(root, { worker_id: 'w1', token: first.token!, now: at(112) }))).code).toBe('LEASE_REFUSED');
    const other = await refusal(applyTransitions(root, [{ entity_type: 'task', entity_id: 'a', trigger: 'execution_completed', timestamp: at(112).toISOString(), worker_id: 'w1', metadata: { lease_token: second.token } }], { now: at(112) }));
    expect(other.message).toContain('belongs to worker w2');

    // w2 reports under its token; then the second expiry fails the task (max_retries 1)
    const ok = await applyTransitions(root, [{ entity_type: 'task', entity_id: 'a', trigger: 'execution_completed', timestamp: at(113).toISOString(), worker_id: 'w2', metadata: { lease_token: second.token } }], { now: at(113) });
    expect(ok.events[0]!.to_state).toBe('validating');
    expect(readSnapshot(root)!.workers.find((w) => w.worker_id === 'w2')!.lease).toBeUndefined();
    await agree(root);
    const all = await events(root);
    expect(all.filter((e) => e.event === 'lease_renewed')).toHaveLength(1);
  });

  it('an expired lease with no retry left fails the task; doctor --repair and sync notice it too', async () => {
    const root = makeRepo({ ws: [{ id: 'a', maxRetries: 0 }, { id: 'b', maxRetries: 0 }] }) as string;
    await syncDefinitions(root, { now: at(0) });
    const a = await claimTask(root, { worker_id: 'w1', lease_seconds: 10, now: at(1) });
    const b = await claimTask(root, { worker_id: 'w2', lease_seconds: 20, now: at(1) });
    expect([a.task_id, b.task_id].sort()).toEqual(['a', 'b']);
    expect(leaseExpiryRequests(await replay(root), at(12)).map((r) => `${r.entity_id}:${r.trigger}`)).toEqual(['w1:health_check_timeout', `${a.task_id}:task_timeout`]);
    const rep = await doctor(root, { repair: true, now: at(12) });
    expect(rep.repaired.some((x) => x.includes(`lease ${a.token}`))).toBe(true);
    expect(readSnapshot(root)!.tasks.find((t) => t.task_id === a.task_id)!.status).toBe('failed');
    const synced = await syncDefinitions(root, { now: at(30) });
    expect((synced.expired ?? []).some((e) => e.event === 'task_timeout' && e.entity_id === b.task_id)).toBe(true);
    expect(readSnapshot(root)!.tasks.every((t) => t.status === 'failed')).toBe(true);
    await agree(root);
    const none = await claimTask(root, { worker_id: 'w3', now: at(31) });
    expect(none.ok).toBe(false);
    expect(none.task_id).toBeNull();
    expect(none.reason?.code).toBe('nothing_left');
  });

  it('refuses a hand-made lease that newLease did not make, and a lease on any other request', async () => {
    const root = makeRepo({ ws: [{ id: 'a' }] }) as string;
    await syncDefinitions(root, { now: at(0) });
    await applyTransitions(root, [
      { entity_type: 'worker', entity_id: 'w1', trigger: 'worker_registered', timestamp: at(1).toISOString(), metadata: { capabilities: [] } },
      { entity_type: 'worker', entity_id: 'w1', trigger: 'registration_complete', timestamp: at(1).toISOString() },
      { entity_type: 'task', entity_id: 'a', trigger: 'scheduler_assigned', timestamp: at(1).toISOString() },
    ], { now: at(1) });
    const start = (lease: unknown) => applyTransitions(root, [{ entity_type: 'task', entity_id: 'a', trigger: 'worker_started', worker_id: 'w1', timestamp: at(2).toISOString(), metadata: { lease } }], { now: at(2) });
    const bad = await refusal(start({ token: 'abc', expires_at: 'soon' }));
    expect(bad.code).toBe('USAGE');
    expect(bad.message).toContain('token is not <seq>-<16 hex>');
    const onWorker = await refusal(applyTransitions(root, [{ entity_type: 'worker', entity_id: 'w1', trigger: 'health_check_timeout', timestamp: at(2).toISOString(), metadata: { lease: newLease(await replay(root), at(2)) } }], { now: at(2) }));
    expect(onWorker.message).toContain('only by a task worker_started');
    // the library path a driver uses: a planner builds the lease from the live state under the lock
    const r = await applyTransitions(root, (state) => [{ entity_type: 'task', entity_id: 'a', trigger: 'worker_started', worker_id: 'w1', timestamp: at(3).toISOString(), metadata: { lease: newLease(state, at(3), { seconds: 30, pid: 7 }) } }], { now: at(3) });
    expect(r.snapshot.workers[0]!.lease).toMatchObject({ task_id: 'a', expires_at: at(33).toISOString(), pid: 7 });
    await agree(root);
  });

  it('says why nothing is claimable: blocked, all claimed, no capability, worker busy', async () => {
    const root = makeRepo({ ws: [{ id: 'a' }, { id: 'b', deps: ['a'] }, { id: 'c', capabilities: ['gpu'] }] }) as string;
    await syncDefinitions(root, { now: at(0) });
    const first = await claimTask(root, { worker_id: 'w1', now: at(1) });
    expect(first.task_id).toBe('a');
    const busy = await claimTask(root, { worker_id: 'w1', now: at(2) });
    expect(busy.reason?.code).toBe('worker_busy');
    const noCap = await claimTask(root, { worker_id: 'w2', now: at(2) });
    expect(noCap.reason?.code).toBe('no_capability');
    expect(noCap.reason?.message).toContain('c needs [gpu]');
    const gpu = await claimTask(root, { worker_id: 'g1', capabilities: ['gpu'], now: at(3) });
    expect(gpu.task_id).toBe('c');
    const blocked = await claimTask(root, { worker_id: 'w3', now: at(4) });
    expect(blocked.reason?.code).toBe('blocked');
    expect(blocked.reason?.message).toContain('waiting for a (running)');
    const onlyC = await claimTask(root, { worker_id: 'w4', workstream: 'ws', now: at(4) });
    expect(onlyC.ok).toBe(false);
    await agree(root);
  });
});
