import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyTransitions, syncDefinitions } from '../src/engine/commit.js';
import { compareWithReplay } from '../src/engine/compare.js';
import { doctor } from '../src/engine/doctor.js';
import { readEvents, readLocatedEvents } from '../src/engine/log.js';
import { replay } from '../src/engine/replay.js';
import { pruneArchives, rotateLog } from '../src/engine/rotate.js';
import { readSnapshot } from '../src/engine/snapshot.js';
import { explainTask } from '../src/engine/why.js';
import { isTempFileName } from '../src/io/atomic-write.js';
import { OrcError } from '../src/errors.js';
import type { OrcEvent, Snapshot } from '../src/model.js';
import type { TransitionRequest } from '../src/machines/index.js';
// @ts-expect-error plain JS fixture
import { flatSpec, makeRepo } from './fixtures/engine/make-repo.mjs';

// One injected clock for every timestamp (requests and sync's own events): replay --at must not depend on
// how fast the machine is (under load, wall-clock sync timestamps overtook this clock and several commits
// ended on one timestamp, so `replay --at` of an earlier commit included later events).
let clock = Date.parse('2026-01-01T00:00:00.000Z');
const ts = () => new Date((clock += 1000)).toISOString();
const now = () => new Date((clock += 1000));
const task = (id: string, trigger: string, extra: Partial<TransitionRequest> = {}): TransitionRequest => ({ entity_type: 'task', entity_id: id, trigger, timestamp: ts(), ...extra });
const worker = (id: string, trigger: string, extra: Partial<TransitionRequest> = {}): TransitionRequest => ({ entity_type: 'worker', entity_id: id, trigger, timestamp: ts(), ...extra });

async function events(root: string): Promise<OrcEvent[]> {
  const out: OrcEvent[] = [];
  for await (const e of readEvents(root)) out.push(e);
  return out;
}

/** A repo with history: t0 fails after a retry (with errors), t1 completes; snapshots kept per commit. */
async function history(): Promise<{ root: string; snaps: Snapshot[] }> {
  const root = makeRepo(flatSpec('ws', 3, { maxRetries: 1 })) as string;
  const snaps: Snapshot[] = [];
  const commit = async (reqs: TransitionRequest[]) => snaps.push((await applyTransitions(root, reqs)).snapshot);
  await syncDefinitions(root, { clock: now });
  await commit([worker('w1', 'worker_registered', { metadata: { capabilities: [] } }), worker('w1', 'registration_complete')]);
  await commit([task('t0', 'scheduler_assigned'), task('t0', 'worker_started', { worker_id: 'w1' })]);
  await commit([task('t0', 'execution_failed', { error: 'npm test exited 1' })]);
  await commit([task('t0', 'retry_delay_elapsed'), task('t0', 'worker_started', { worker_id: 'w1' })]);
  await commit([task('t0', 'execution_failed', { error: 'npm test exited 1 again' })]);
  await commit([task('t1', 'scheduler_assigned'), task('t1', 'worker_started', { worker_id: 'w1' })]);
  await commit([task('t1', 'execution_completed', { metadata: { exit_code: 0 } }), task('t1', 'validation_passed')]);
  return { root, snaps };
}

describe('replay', () => {
  it('rebuilds every intermediate snapshot by seq and by timestamp', async () => {
    const { root, snaps } = await history();
    for (const s of snaps) {
      expect(compareWithReplay(s, await replay(root, { seq: s.last_seq }))).toEqual([]);
      expect(compareWithReplay(s, await replay(root, { at: s.timestamp }))).toEqual([]);
    }
    const err = await replay(root, { at: 'yesterday' }).catch((e: unknown) => e);
    expect((err as OrcError).code).toBe('USAGE');
  });

  it('reports a corrupt line with its file and line number', async () => {
    const { root } = await history();
    const log = join(root, '.state/transitions.jsonl');
    const lines = readFileSync(log, 'utf8').split('\n');
    lines[4] = '{"seq": 5, broken';
    writeFileSync(log, lines.join('\n'));
    const err = (await replay(root).catch((e: unknown) => e)) as OrcError;
    expect(err.code).toBe('STATE_CORRUPT');
    expect(err.details.location).toMatchObject({ file: '.state/transitions.jsonl', line: 5 });
  });
});

describe('why', () => {
  it('explains a failure from the log: errors, retries, attempts, worker, caused events', async () => {
    const { root } = await history();
    const r = await explainTask(root, 't0');
    expect(r.status).toBe('failed');
    expect(r.retries).toBe(1);
    expect(r.workers).toEqual(['w1']);
    expect(r.errors.map((e) => e.error)).toEqual(['npm test exited 1', 'npm test exited 1 again']);
    expect(r.attempts).toHaveLength(2);
    expect(r.attempts[0]).toMatchObject({ worker_id: 'w1', outcome: 'task_retry', duration_seconds: 1 });
    expect(r.explanation).toContain('after 2 attempt(s) and 1 retry');
    expect(r.explanation).toContain('npm test exited 1 again');
    expect(r.effects.some((e) => e.entity_type === 'worker' && e.event === 'worker_task_assigned')).toBe(true);
    expect(r.unresolved).toEqual([]);
    await expect(explainTask(root, 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('follows caused_by upwards to events of other entities', async () => {
    const { root } = await history();
    const cause = (await events(root)).find((e) => e.entity_type === 'task' && e.entity_id === 't1' && e.to_state === 'completed')!;
    await applyTransitions(root, [task('t2', 'user_cancelled', { caused_by: cause.event_id, error: 'superseded by t1' })]);
    const r = await explainTask(root, 't2');
    expect(r.causes.map((c) => c.event_id)).toContain(cause.event_id);
    expect(r.explanation).toMatch(/^cancelled/);
  });
});

describe('rotation and retention', () => {
  it('seals the log into a gzip archive, continues the seq, and every reader sees one sequence', async () => {
    const { root } = await history();
    const before = await events(root);
    const snapBefore = readSnapshot(root)!;
    const r = await rotateLog(root);
    expect(r).toMatchObject({ rotated: true, first_seq: 1, last_seq: before.length, archive: `.state/archive/transitions.1-${before.length}.jsonl.gz` });
    const live = readFileSync(join(root, '.state/transitions.jsonl'), 'utf8').trim().split('\n');
    expect(live).toHaveLength(1);
    expect(JSON.parse(live[0]!)).toMatchObject({ seq: before.length + 1, event: 'log_rotated', entity_type: 'system' });
    const after = await events(root);
    expect(after.map((e) => e.seq)).toEqual(after.map((_, i) => i + 1));
    expect(compareWithReplay({ ...snapBefore, last_seq: before.length + 1 }, await replay(root))).toEqual([]);
    const next = await applyTransitions(root, [task('t2', 'scheduler_assigned')]);
    expect(next.events[0]!.seq).toBe(before.length + 2);
    expect((await explainTask(root, 't0')).errors).toHaveLength(2); // read from the archive
    expect((await doctor(root)).ok).toBe(true);
    // a second rotation makes a second, contiguous archive
    await rotateLog(root);
    const located = await readLocatedEvents(root);
    expect(located.problems).toEqual([]);
    expect(located.sources.filter((s) => s.gzip).map((s) => s.file)).toEqual([
      `.state/archive/transitions.1-${before.length}.jsonl.gz`,
      `.state/archive/transitions.${before.length + 1}-${before.length + 2}.jsonl.gz`,
    ]);
  });

  it('an interrupted rotation (archive written, live log not yet replaced) is finished by rotating again', async () => {
    const { root } = await history();
    const log = join(root, '.state/transitions.jsonl');
    const cur = join(root, '.state/current.json');
    const oldLog = readFileSync(log);
    const oldSnap = readFileSync(cur);
    const first = await rotateLog(root);
    writeFileSync(log, oldLog); // crash after the archive, before the snapshot and the new live log
    writeFileSync(cur, oldSnap);
    const d = await doctor(root);
    expect(d.found.some((i) => i.check === 'seq_duplicate')).toBe(true);
    expect((await events(root)).map((e) => e.seq)).toEqual(Array.from({ length: first.last_seq! }, (_, i) => i + 1));
    const again = await rotateLog(root);
    expect(again).toMatchObject({ rotated: true, archive: null, events: 0 });
    const located = await readLocatedEvents(root);
    expect(located.problems).toEqual([]);
    expect(located.sources.filter((x) => x.gzip)).toHaveLength(1);
    expect((await doctor(root)).found.filter((i) => i.severity !== 'notice')).toEqual([]);
    await applyTransitions(root, [task('t2', 'scheduler_assigned')]);
    await rotateLog(root);
    const after = await readLocatedEvents(root);
    expect(after.problems).toEqual([]);
    expect(after.sources.filter((x) => x.gzip).map((x) => [x.firstSeq, x.lastSeq])).toEqual([
      [1, first.last_seq],
      [first.last_seq! + 1, first.last_seq! + 2],
    ]);
  });

  it('refuses to prune below 90 days; prunes old archives behind a checkpoint so replay still works', async () => {
    const { root } = await history();
    await rotateLog(root);
    await applyTransitions(root, [task('t2', 'scheduler_assigned')]);
    await expect(pruneArchives(root, { olderThanDays: 89 })).rejects.toMatchObject({ code: 'USAGE' });
    expect(await pruneArchives(root, { olderThanDays: 90, now: new Date(clock) })).toMatchObject({ removed: [] }); // every archive is younger than 90 days
    const later = new Date(clock + 200 * 86_400_000);
    const pruned = await pruneArchives(root, { olderThanDays: 90, now: later });
    expect(pruned.removed).toHaveLength(1);
    expect(pruned.checkpoint).toMatch(/checkpoint\.\d+\.json$/);
    const expected = readSnapshot(root)!;
    expect(compareWithReplay(expected, await replay(root))).toEqual([]);
    const d = await doctor(root);
    expect(d.remaining.filter((i) => i.severity === 'error')).toEqual([]);
  });
});

describe('doctor', () => {
  it('finds nothing on a healthy store and reads without writing', async () => {
    const { root } = await history();
    const before = readdirSync(join(root, '.state')).map((f) => [f, readFileSync(join(root, '.state', f === 'archive' || f === 'recovered' ? '' : f)).length]);
    const r = await doctor(root);
    expect(r.ok).toBe(true);
    expect(r.found.filter((i) => i.severity !== 'notice')).toEqual([]);
    expect(readdirSync(join(root, '.state')).map((f) => [f, readFileSync(join(root, '.state', f === 'archive' || f === 'recovered' ? '' : f)).length])).toEqual(before);
  });

  it('repairs a hand-edited snapshot from the log, keeping the old file', async () => {
    const { root } = await history();
    const file = join(root, '.state/current.json');
    const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
    snap.tasks[0]!.retry_count = 0;
    snap.tasks[0]!.status = 'completed';
    writeFileSync(file, JSON.stringify(snap));
    writeFileSync(join(root, '.state/current.json.tmp'), '{"partial');
    const check = await doctor(root);
    expect(check.ok).toBe(false);
    expect(check.found.map((i) => i.check)).toEqual(expect.arrayContaining(['snapshot_mismatch', 'stale_temp']));
    const fixed = await doctor(root, { repair: true });
    expect(fixed.ok).toBe(true);
    expect(fixed.repaired.join('\n')).toMatch(/rebuilt \.state\/current\.json/);
    expect(fixed.repaired.join('\n')).toMatch(/removed leftover temp file \.state\/current\.json\.tmp/);
    expect(readdirSync(join(root, '.state/recovered')).some((f) => f.startsWith('current.json.'))).toBe(true);
    expect(readSnapshot(root)!.tasks[0]).toMatchObject({ status: 'failed', retry_count: 1 });
  });

  it('refuses to repair around a corrupt middle line and never deletes it', async () => {
    const { root } = await history();
    const log = join(root, '.state/transitions.jsonl');
    const lines = readFileSync(log, 'utf8').split('\n');
    lines[2] = 'not json at all';
    writeFileSync(log, lines.join('\n'));
    const content = readFileSync(log, 'utf8');
    const r = await doctor(root, { repair: true });
    expect(r.ok).toBe(false);
    const corrupt = r.remaining.find((i) => i.check === 'corrupt_line')!;
    expect(corrupt).toMatchObject({ file: '.state/transitions.jsonl', line: 3, repairable: false });
    expect(r.refused.length).toBeGreaterThan(0);
    expect(readFileSync(log, 'utf8')).toBe(content);
  });

  it('reports a line that parses and has a seq but is no event (schema), and never rewrites it', async () => {
    const { root } = await history();
    const log = join(root, '.state/transitions.jsonl');
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    const last = JSON.parse(lines[lines.length - 1]!) as OrcEvent;
    // A valid-looking seq continuing the log, but nothing else of an event.
    writeFileSync(log, `${lines.join('\n')}\n${JSON.stringify({ seq: last.seq + 1 })}\n`);
    const content = readFileSync(log, 'utf8');
    const r = await doctor(root, { repair: true });
    expect(r.ok).toBe(false);
    expect(r.remaining.find((i) => i.check === 'invalid_event')).toMatchObject({ file: '.state/transitions.jsonl', line: lines.length + 1, severity: 'error', repairable: false });
    expect(readFileSync(log, 'utf8')).toBe(content);
  });

  it('repairs a torn tail plus an unlogged commit (crash mid-append) and stale indices', async () => {
    const { root } = await history();
    const log = join(root, '.state/transitions.jsonl');
    const full = readFileSync(log, 'utf8');
    const lines = full.trimEnd().split('\n');
    // the last commit wrote 2 events: keep the first one and half of the second
    writeFileSync(log, lines.slice(0, -1).join('\n') + '\n' + lines[lines.length - 1]!.slice(0, 40));
    const idx = join(root, '.state/by_status.json');
    writeFileSync(idx, JSON.stringify({ ...JSON.parse(readFileSync(idx, 'utf8')), source_last_seq: 1 }));
    const found = (await doctor(root)).found.map((i) => i.check);
    expect(found).toEqual(expect.arrayContaining(['torn_tail', 'snapshot_ahead', 'stale_index']));
    const r = await doctor(root, { repair: true });
    expect(r.ok).toBe(true);
    expect(r.remaining.filter((i) => i.severity !== 'notice')).toEqual([]);
    expect(readFileSync(log, 'utf8')).toBe(full);
    expect(readdirSync(join(root, '.state')).filter(isTempFileName)).toEqual([]);
    expect(existsSync(join(root, '.state/recovered'))).toBe(true);
  });
});
