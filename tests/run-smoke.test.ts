import { describe, expect, it } from 'vitest';
import { runPlan } from '../src/scheduler/loop.js';
import { intervals, logAgrees, makeRepo, maxOverlap, statuses, timed } from './run-helpers.js';

describe('smoke', () => {
  it('runs', async () => {
    const tasks = Array.from({ length: 6 }, (_, i) => ({ id: `t${i}`, command: timed(`t${i}`, 'sleep 0.2') }));
    tasks.push({ id: 'last', command: timed('last', 'true'), deps: ['t0', 't1'] } as never);
    const root = await makeRepo(tasks);
    const events: string[] = [];
    const r = await runPlan({ root, jobs: 3, onEvent: (e) => events.push(e.type) });
    console.log(JSON.stringify(r.summary.counts), r.summary.commits, maxOverlap(intervals(root)));
    expect(Object.values(statuses(root)).every((s) => s === 'completed')).toBe(true);
    expect(await logAgrees(root)).toEqual([]);
  });
});
