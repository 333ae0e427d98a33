// STATE-OBS-004's per-event lookups (machine edge by from/trigger/to, per-entity chain by kind and id) judge a
// hand-written log exactly as the string-keyed lookups did: the same findings, in the same order, at the same
// lines, for a known edge, a wrong severity, a wrong event name, an unknown edge (also one whose from_state
// holds a NUL), a broken chain, an entity never created, and ids that only agree once turned into strings.
// AUDIT-001's "caused_by names an earlier event" (remembering only the ids named as causes) reports exactly
// what remembering every id reported: an earlier cause, a later one, the event itself, an unknown id; and the
// same near and far: a cause among the last 64 events is settled at once, one further back at the end.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/compliance/context.js';
import { rule } from '../src/compliance/rules/STATE-OBS-004.js';
import { rule as audit001 } from '../src/compliance/rules/AUDIT-001.js';
import type { Rule } from '../src/compliance/types.js';
import type { Finding } from '../src/model.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let seq = 0;
function ev(entity_type: string, entity_id: unknown, from_state: string | null, to_state: string, trigger: string, event: string, severity = 'info'): Record<string, unknown> {
  seq++;
  return {
    schema_version: '2.0.0',
    seq,
    event_id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    timestamp: '2026-01-31T12:00:00.000Z',
    event,
    trigger,
    entity_type,
    entity_id,
    workstream_id: entity_type === 'task' ? 'ws' : null,
    from_state,
    to_state,
    severity,
    caused_by: null,
    metadata: {},
    actor: 'test',
  };
}

async function findingsFor(events: Array<Record<string, unknown>>, judge: Rule = rule): Promise<Array<Pick<Finding, 'line' | 'column' | 'message'>>> {
  const root = mkdtempSync(join(tmpdir(), 'orc-obs004-'));
  dirs.push(root);
  mkdirSync(join(root, '.state'));
  writeFileSync(join(root, '.state/transitions.jsonl'), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  const outcome = await judge.check(createContext(root));
  if (!('findings' in outcome)) throw new Error('expected findings');
  return outcome.findings.map((f) => ({ line: f.line, column: f.column, message: f.message }));
}

/** What the string-keyed lookups (before the nested ones) reported for the log below. */
const EXPECTED = [
  { line: 3, column: 1, message: 'seq 3: severity critical for task_started (queued → running on worker_started); the machine assigns info' },
  { line: 4, column: 1, message: 'seq 4: event name task_renamed for running → validating on execution_completed; the machine names it task_validating' },
  { line: 6, column: 1, message: 'seq 6: task t2 pending\u0000scheduler_assigned → queued on scheduler_assigned is not a transition of the task machine' },
  { line: 6, column: 1, message: 'seq 6: task t2 moves from pending\u0000scheduler_assigned but its previous event left it pending' },
  { line: 7, column: 1, message: 'seq 7: task t2 queued → no_such_state on worker_started is not a transition of the task machine' },
  { line: 8, column: 1, message: 'seq 8: first event of task t3 moves from pending, but it was never created' },
  { line: 9, column: 217, message: 'seq 9: /entity_id must be string' },
  { line: 11, column: 1, message: 'seq 11: worker 7 moves from busy but its previous event left it idle' },
];

describe('STATE-OBS-004 lookups', () => {
  it('report exactly what the string-keyed lookups reported', async () => {
    seq = 0;
    const log = [
      ev('task', 't1', null, 'pending', 'task_created', 'task_created'), // 1 ok
      ev('task', 't1', 'pending', 'queued', 'scheduler_assigned', 'task_queued'), // 2 ok
      ev('task', 't1', 'queued', 'running', 'worker_started', 'task_started', 'critical'), // 3 severity
      ev('task', 't1', 'running', 'validating', 'execution_completed', 'task_renamed'), // 4 event name
      ev('task', 't2', null, 'pending', 'task_created', 'task_created'), // 5 ok
      ev('task', 't2', 'pending\u0000scheduler_assigned', 'queued', 'scheduler_assigned', 'task_queued'), // 6 unknown edge (NUL in from_state), broken chain
      ev('task', 't2', 'queued', 'no_such_state', 'worker_started', 'task_started'), // 7 unknown edge (the chain holds: 6 left it queued)
      ev('task', 't3', 'pending', 'queued', 'scheduler_assigned', 'task_queued'), // 8 never created
      ev('worker', 7, null, 'initializing', 'worker_registered', 'worker_registered'), // 9 schema: entity_id a number
      ev('worker', '7', 'initializing', 'idle', 'registration_complete', 'worker_ready'), // 10 ok: the same worker as 7
      ev('worker', '7', 'busy', 'idle', 'task_completed', 'worker_task_completed'), // 11 broken chain (left idle)
      ev('workstream', 't1', null, 'planned', 'workstream_created', 'workstream_created'), // 12 ok: another kind, same id as a task
    ];
    const got = await findingsFor(log);
    expect(got).toEqual(EXPECTED);
  });
});

/** What AUDIT-001 reported, remembering every event id, for the log below. */
const EXPECTED_CAUSES = [
  { line: 3, column: 1, message: 'seq 3: caused_by 00000000-0000-4000-8000-000000000004 names no earlier event in the log' },
  { line: 4, column: 1, message: 'seq 4: caused_by 00000000-0000-4000-8000-000000000004 names no earlier event in the log' },
  { line: 5, column: 1, message: 'seq 5: caused_by 00000000-0000-4000-8000-00000000ffff names no earlier event in the log' },
];

describe('AUDIT-001 causes', () => {
  it('report exactly what remembering every event id reported', async () => {
    seq = 0;
    const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    const log = [
      ev('task', 't1', null, 'pending', 'task_created', 'task_created'), // 1
      { ...ev('task', 't1', 'pending', 'queued', 'scheduler_assigned', 'task_queued'), caused_by: id(1) }, // 2 ok: an earlier event
      { ...ev('task', 't1', 'queued', 'running', 'worker_started', 'task_started'), caused_by: id(4) }, // 3 a later event
      { ...ev('task', 't1', 'running', 'validating', 'execution_completed', 'task_validating'), caused_by: id(4) }, // 4 itself
      { ...ev('task', 't1', 'validating', 'completed', 'validation_passed', 'task_completed'), caused_by: '00000000-0000-4000-8000-00000000ffff' }, // 5 unknown
      { ...ev('task', 't2', null, 'pending', 'task_created', 'task_created'), caused_by: id(4) }, // 6 ok: 4 is earlier now
      { ...ev('task', 't2', 'pending', 'queued', 'scheduler_assigned', 'task_queued'), caused_by: id(2) }, // 7 ok
    ];
    expect(await findingsFor(log, audit001)).toEqual(EXPECTED_CAUSES);
  });

  it('settle a cause among the latest events and one further back alike (the ring of recent ids and the end scan)', async () => {
    seq = 0;
    const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    const log: Array<Record<string, unknown>> = [ev('task', 't1', null, 'pending', 'task_created', 'task_created')]; // 1
    for (let w = 0; w < 100; w++) log.push(ev('worker', `w${w}`, null, 'initializing', 'worker_registered', 'worker_registered')); // 2..101
    log.push({ ...ev('task', 't1', 'pending', 'queued', 'scheduler_assigned', 'task_queued'), caused_by: id(1) }); // 102 ok: 101 events back
    log.push({ ...ev('worker', 'w0', 'initializing', 'idle', 'registration_complete', 'worker_ready'), caused_by: id(102) }); // 103 ok: the one before
    log.push({ ...ev('worker', 'w1', 'initializing', 'idle', 'registration_complete', 'worker_ready'), caused_by: id(40) }); // 104 ok: 64 back
    log.push({ ...ev('worker', 'w2', 'initializing', 'idle', 'registration_complete', 'worker_ready'), caused_by: id(106) }); // 105 a later event
    log.push({ ...ev('worker', 'w3', 'initializing', 'idle', 'registration_complete', 'worker_ready'), caused_by: id(106) }); // 106 itself
    log.push({ ...ev('worker', 'w4', 'initializing', 'idle', 'registration_complete', 'worker_ready'), caused_by: id(39) }); // 107 ok: 68 back
    expect(await findingsFor(log, audit001)).toEqual([
      { line: 105, column: 1, message: `seq 105: caused_by ${id(106)} names no earlier event in the log` },
      { line: 106, column: 1, message: `seq 106: caused_by ${id(106)} names no earlier event in the log` },
    ]);
  });
});
