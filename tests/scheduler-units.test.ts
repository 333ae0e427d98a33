// The scheduler's pure parts on an injected clock: resource admission
// (exclusive, shared, pooled, rate-limited refill, conflicts), retry backoff
// and worker health from heartbeats. No wall clock decides anything here.
import { describe, expect, it } from 'vitest';
import { ResourceLedger, conflictsBetween, selfConflict, type RuntimeResource } from '../src/scheduler/admission.js';
import { retryDelayMs, retryPolicyOf } from '../src/scheduler/backoff.js';
import { FakeClock } from '../src/scheduler/clock.js';
import { HealthMonitor } from '../src/scheduler/health.js';
import { claimsOf, type PlanTask } from '../src/graph/plan.js';
import type { TaskDefinition } from '../src/model.js';

const res = (list: RuntimeResource[]) => new Map(list.map((r) => [r.ResourceId, r]));
const claims = (resources: Map<string, RuntimeResource>, req: Record<string, unknown>) => claimsOf({ task_id: 't', workstream_id: 'w', dependencies: [], resource_requirements: req } as unknown as PlanTask, resources).claims;

describe('ResourceLedger', () => {
  it('exclusive: one holder; shared and pooled: up to MaxHolders units, returned on release', () => {
    const r = res([
      { ResourceId: 'db', Type: 'exclusive', MaxHolders: 1 },
      { ResourceId: 'gpu', Type: 'pooled', MaxHolders: 4 },
    ]);
    const l = new ResourceLedger(r, 0);
    l.acquire('a', claims(r, { db: 'exclusive' }), 0);
    expect(l.check('b', claims(r, { db: 'shared' }), 0)).toMatchObject({ ok: false, reason: expect.stringMatching(/db is held by a/) });
    l.acquire('g1', claims(r, { gpu: 3 }), 0);
    expect(l.check('g2', claims(r, { gpu: 2 }), 0)).toMatchObject({ ok: false, reason: expect.stringMatching(/3\/4 unit/) });
    expect(l.check('g3', claims(r, { gpu: 1 }), 0).ok).toBe(true);
    l.release('g1');
    l.release('a');
    expect(l.check('g2', claims(r, { gpu: 2 }), 0).ok).toBe(true);
    expect(l.check('b', claims(r, { db: 'exclusive' }), 0).ok).toBe(true);
    expect(l.holders()).toEqual({});
  });

  it('rate_limited: a token bucket refilled at RefillRate per second of the injected clock', () => {
    const clock = new FakeClock(1_000_000);
    const r = res([{ ResourceId: 'api', Type: 'rate_limited', MaxHolders: 2, RefillRate: 0.5 }]);
    const l = new ResourceLedger(r, clock.now());
    const one = claims(r, { api: 1 });
    l.acquire('a', one, clock.now());
    l.acquire('b', one, clock.now());
    const denied = l.check('c', one, clock.now());
    expect(denied).toMatchObject({ ok: false, retry_at: clock.now() + 2000 });
    clock.advance(1999);
    expect(l.check('c', one, clock.now()).ok).toBe(false);
    clock.advance(1);
    expect(l.check('c', one, clock.now()).ok).toBe(true);
    l.release('a'); // tokens never come back on release
    l.acquire('c', one, clock.now());
    expect(l.check('d', one, clock.now()).ok).toBe(false);
    clock.advance(10_000); // capped at MaxHolders
    l.acquire('d', one, clock.now());
    l.acquire('e', one, clock.now());
    expect(l.check('f', one, clock.now()).ok).toBe(false);
  });

  it('conflicting resources: ConflictsWith (either side, "*" for all) unless CompatibleWith', () => {
    const r = res([
      { ResourceId: 'migrate', Type: 'shared', MaxHolders: -1, ConflictsWith: ['*'], CompatibleWith: ['logs'] },
      { ResourceId: 'reports', Type: 'shared', MaxHolders: -1 },
      { ResourceId: 'logs', Type: 'shared', MaxHolders: -1 },
    ]);
    expect(conflictsBetween('migrate', 'reports', r)).toBe(true);
    expect(conflictsBetween('reports', 'migrate', r)).toBe(true);
    expect(conflictsBetween('migrate', 'logs', r)).toBe(false);
    expect(conflictsBetween('reports', 'logs', r)).toBe(false);
    const l = new ResourceLedger(r, 0);
    l.acquire('rep', claims(r, { reports: 'shared' }), 0);
    expect(l.check('mig', claims(r, { migrate: 'shared' }), 0)).toMatchObject({ ok: false, reason: expect.stringMatching(/conflicts with reports, held by rep/) });
    expect(l.check('log', claims(r, { logs: 'shared' }), 0).ok).toBe(true);
    expect(selfConflict(claims(r, { migrate: 'shared', reports: 'shared' }), r)).toEqual(['migrate', 'reports']);
  });
});

describe('retry backoff', () => {
  const task = (execution: Record<string, unknown>) => ({ execution: { command: 'x', timeout_seconds: 1, max_retries: 5, ...execution } }) as unknown as TaskDefinition;
  it('grows by the coefficient, is capped, and jitters within ±10 %', () => {
    const t = task({ retry_delay_seconds: 1, retry_policy: { backoff_coefficient: 3, max_delay_seconds: 20 } });
    expect([1, 2, 3, 4].map((n) => retryDelayMs(t, n, () => 0.5))).toEqual([1000, 3000, 9000, 20000]);
    expect(retryDelayMs(t, 1, () => 0)).toBe(900);
    expect(retryDelayMs(t, 1, () => 1)).toBe(1100);
    expect(retryDelayMs(t, 4, () => 1)).toBe(20000); // never beyond the cap
    expect(retryPolicyOf(task({ retry_delay_seconds: 5 }))).toMatchObject({ backoff_coefficient: 2, max_delay_seconds: 500, non_retryable_exit_codes: [] });
    expect(retryDelayMs(task({}), 3, () => 0.5)).toBe(0);
  });
});

describe('HealthMonitor', () => {
  it('marks a silent worker unresponsive after the heartbeat timeout, recovered when it beats again, dead after the maximum', () => {
    const clock = new FakeClock(0);
    const h = new HealthMonitor(clock, { heartbeatTimeoutMs: 1000, maxTimeoutMs: 5000 });
    h.register('w1');
    h.register('w2');
    clock.advance(800);
    h.beat('w2');
    expect(h.check()).toEqual([]);
    clock.advance(400);
    expect(h.check()).toEqual([{ worker_id: 'w1', trigger: 'health_check_timeout', silent_ms: 1200 }]);
    expect(h.isUnresponsive('w1')).toBe(true);
    h.beat('w1');
    expect(h.check().map((c) => `${c.worker_id}:${c.trigger}`)).toEqual(['w1:health_check_recovered']);
    clock.advance(1001);
    expect(h.check().map((c) => `${c.worker_id}:${c.trigger}`)).toEqual(['w1:health_check_timeout', 'w2:health_check_timeout']);
    clock.advance(5000);
    expect(h.check().map((c) => `${c.worker_id}:${c.trigger}`)).toEqual(['w1:max_timeout_exceeded', 'w2:max_timeout_exceeded']);
    expect(h.check()).toEqual([]);
  });

  it('FakeClock sleeps resolve only when the clock reaches them', async () => {
    const clock = new FakeClock(0);
    let done = false;
    const p = clock.sleep(100).then(() => (done = true));
    clock.advance(99);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(1);
    await p;
    expect(done).toBe(true);
  });
});
