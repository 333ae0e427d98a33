// The one pass over the event log shared by the rules (src/engine/event-pass.ts): every visitor sees exactly
// the events readLocatedEvents lists (file:line, corrupt/duplicate lines left out), the summary matches its
// problems, sources and ends; a key asked for after the pass gets the same answer from a pass of its own; a
// visitor that throws fails only its own key; STATE-OBS-004's "never created" still depends on a clean log.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/compliance/context.js';
import { eventPass, logSummary, wantEvents, wantLogSummary, type EventVisitor } from '../src/engine/event-pass.js';
import { readLocatedEvents } from '../src/engine/log.js';
import { rule as obs004 } from '../src/compliance/rules/STATE-OBS-004.js';
import type { OrcEvent } from '../src/model.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A task event of the log (only the fields these checks look at differ between lines). */
function ev(seq: number, entity_id: string, from_state: string | null, to_state: string, trigger: string, event: string): Record<string, unknown> {
  const event_id = `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`;
  return { schema_version: '2.0.0', seq, event_id, timestamp: '2026-01-31T12:00:00.000Z', event, trigger, entity_type: 'task', entity_id, workstream_id: 'ws', from_state, to_state, severity: 'info', caused_by: null, metadata: {}, actor: 'test' };
}

function repo(lines: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'orc-event-pass-'));
  dirs.push(root);
  mkdirSync(join(root, '.state'));
  writeFileSync(join(root, '.state/transitions.jsonl'), lines.map((l) => `${l}\n`).join(''));
  return root;
}

const collect = (): EventVisitor<Array<{ seq: number; file: string; line: number }>> => {
  const seen: Array<{ seq: number; file: string; line: number }> = [];
  return { event: (e: OrcEvent, file, line) => seen.push({ seq: e.seq, file, line }), end: () => seen };
};

const LINES = [
  JSON.stringify(ev(1, 't1', null, 'pending', 'task_created', 'task_created')),
  '{"not": "an event"',
  JSON.stringify(ev(2, 't1', 'pending', 'queued', 'scheduler_assigned', 'task_queued')),
  JSON.stringify(ev(2, 't1', 'pending', 'queued', 'scheduler_assigned', 'task_queued')),
  '',
  JSON.stringify(ev(4, 't2', 'pending', 'queued', 'scheduler_assigned', 'task_queued')),
];

describe('the shared pass over the event log', () => {
  it('shows every visitor what readLocatedEvents lists, and the same summary', async () => {
    const root = repo(LINES);
    const all = await readLocatedEvents(root);
    const ctx = createContext(root);
    wantEvents(ctx, 'a', collect);
    wantEvents(ctx, 'b', collect);
    wantLogSummary(ctx);
    const a = await eventPass(ctx, 'a', collect);
    const expected = all.events.map((e) => ({ seq: e.event.seq, file: e.file, line: e.line }));
    expect(a).toEqual(expected);
    expect(await eventPass(ctx, 'b', collect)).toEqual(expected);
    const summary = await logSummary(ctx);
    expect(summary.count).toBe(all.events.length);
    expect(summary.problems).toEqual(all.problems);
    expect(summary.sources).toEqual(all.sources);
    expect(summary.first).toEqual(all.events[0]);
    expect(summary.last).toEqual(all.events[all.events.length - 1]);
  });

  it('answers a key asked for after the pass from a pass of its own, and isolates a visitor that throws', async () => {
    const root = repo(LINES);
    const ctx = createContext(root);
    const broken = (): EventVisitor<number> => ({
      event: (e) => {
        if (e.seq === 2) throw new Error('visitor bug');
      },
      end: () => 0,
    });
    wantEvents(ctx, 'broken', broken);
    const first = await eventPass(ctx, 'a', collect);
    await expect(eventPass(ctx, 'broken', broken)).rejects.toThrow('visitor bug');
    const late = await eventPass(ctx, 'late', collect);
    expect(late).toEqual(first);
    expect(first.map((e) => e.seq)).toEqual([1, 2, 4]);
  });

  it('fails every visitor of the pass with the read error', async () => {
    const root = repo([]);
    rmSync(join(root, '.state/transitions.jsonl'));
    mkdirSync(join(root, '.state/transitions.jsonl')); // a directory where the log should be: unreadable
    const ctx = createContext(root);
    wantEvents(ctx, 'a', collect);
    const a = eventPass(ctx, 'a', collect);
    const b = eventPass(ctx, 'b', collect);
    await expect(a).rejects.toThrow();
    await expect(b).rejects.toThrow();
  });
});

describe('STATE-OBS-004 in the shared pass', () => {
  it('reports an entity never created only when the log read cleanly from seq 1', async () => {
    const created = JSON.stringify(ev(1, 't1', null, 'pending', 'task_created', 'task_created'));
    const orphan = JSON.stringify(ev(2, 't2', 'pending', 'queued', 'scheduler_assigned', 'task_queued'));
    const messages = async (lines: string[]) => {
      const outcome = await obs004.check(createContext(repo(lines)));
      if (!('findings' in outcome)) throw new Error('expected findings');
      return outcome.findings.map((f) => `${f.line}: ${f.message}`);
    };
    expect(await messages([created, orphan])).toEqual(['2: seq 2: first event of task t2 moves from pending, but it was never created']);
    // A corrupt line after it: the log has a problem, so a missing creation may be in the lost line.
    expect(await messages([created, orphan, '{torn'])).toEqual([]);
  });
});

describe('AUDIT-001 in the shared pass', () => {
  it('keeps the findings in log order, the cause first within an event', async () => {
    const { rule: audit001 } = await import('../src/compliance/rules/AUDIT-001.js');
    const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    const noActor = (e: Record<string, unknown>) => {
      const { actor: _actor, ...rest } = e;
      return rest;
    };
    const lines = [
      ev(1, 't1', null, 'pending', 'task_created', 'task_created'),
      noActor({ ...ev(2, 't1', 'pending', 'queued', 'scheduler_assigned', 'task_queued'), caused_by: id(99) }),
      { ...ev(3, 't1', 'queued', 'failed', 'execution_failed', 'task_failed'), caused_by: id(5) },
      noActor(ev(4, 't2', null, 'pending', 'task_created', 'task_created')),
      { ...ev(5, 't2', 'pending', 'queued', 'scheduler_assigned', 'task_queued'), caused_by: id(4) },
    ].map((e) => JSON.stringify(e));
    const outcome = await audit001.check(createContext(repo(lines)));
    if (!('findings' in outcome)) throw new Error('expected findings');
    expect(outcome.findings.map((f) => `${f.line}: ${f.message.split(' ').slice(0, 4).join(' ')}`)).toEqual([
      `2: seq 2: caused_by ${id(99)}`,
      '2: seq 2 (task_queued of',
      `3: seq 3: caused_by ${id(5)}`,
      '3: seq 3: task t1',
      '4: seq 4 (task_created of',
    ]);
  });
});
