/**
 * The log follower (src/live/log-follower.ts) driven by explicit check() calls
 * (no watcher, no poll: nothing depends on timing): each event once and in
 * order across commits, a rotation (new file continuing the seq) and a torn
 * tail set aside by the next writer; corrupt lines reported with file:line.
 */
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { applyTransitions } from '../src/engine/commit.js';
import { rotateLog } from '../src/engine/rotate.js';
import { readSnapshot } from '../src/engine/snapshot.js';
import { followLog, type FollowProblem } from '../src/live/log-follower.js';
import type { OrcEvent } from '../src/model.js';
import { copyExample } from './fixtures/serve/helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const cancel = (id: string) => ({ entity_type: 'task' as const, entity_id: id, trigger: 'user_cancelled', timestamp: new Date().toISOString() });

describe('followLog', () => {
  test('hands over every event once, in order, across commits, a rotation and a torn-tail repair', async () => {
    const root = copyExample();
    dirs.push(root);
    const seen: OrcEvent[] = [];
    const problems: FollowProblem[] = [];
    const f = followLog(root, { watch: false, pollMs: 0, onEvents: (e) => seen.push(...e), onProblem: (p) => problems.push(p) });
    const start = readSnapshot(root)!.last_seq;
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: start }, (_, i) => i + 1));

    await applyTransitions(root, [cancel('rel-tag')]);
    f.check();
    expect(seen.at(-1)!.seq).toBe(start + 1);

    const rotated = await rotateLog(root);
    expect(rotated.rotated).toBe(true);
    await applyTransitions(root, [cancel('rel-bench')]);
    f.check();
    // A torn tail (a crashed append), then a writer that sets it aside and commits.
    appendFileSync(join(root, '.state/transitions.jsonl'), '{"seq":12345,"torn');
    f.check();
    f.check();
    expect(problems.filter((p) => p.kind === 'torn')).toHaveLength(1);
    await applyTransitions(root, [cancel('rel-lint')]);
    f.check();
    const seqs = seen.map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.at(-1)).toBe(readSnapshot(root)!.last_seq);
    expect(seen.filter((e) => e.entity_type === 'task' && e.to_state === 'cancelled').map((e) => e.entity_id)).toEqual(['rel-tag', 'rel-bench', 'rel-lint']);
    expect(seqs).not.toContain(12345);
    expect(f.problems().filter((p) => p.kind === 'torn')).toEqual([]); // repaired: no longer a problem
    f.close();
  });

  test('afterSeq skips what the caller knows; a corrupt line is reported at its line and skipped', () => {
    const root = copyExample();
    dirs.push(root);
    const log = join(root, '.state/transitions.jsonl');
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    const last = JSON.parse(lines.at(-1)!) as OrcEvent;
    appendFileSync(log, `[1,2,3]\n${JSON.stringify({ ...last, seq: last.seq + 1 })}\n`);
    const seen: number[] = [];
    const problems: FollowProblem[] = [];
    const f = followLog(root, { afterSeq: last.seq - 1, watch: false, pollMs: 0, onEvents: (e) => seen.push(...e.map((x) => x.seq)), onProblem: (p) => problems.push(p) });
    expect(seen).toEqual([last.seq, last.seq + 1]);
    expect(problems).toEqual([{ kind: 'corrupt', file: '.state/transitions.jsonl', line: lines.length + 1, message: expect.stringContaining('not an event') }]);
    f.check();
    expect(problems).toHaveLength(1); // reported once
    f.close();
  });
});
