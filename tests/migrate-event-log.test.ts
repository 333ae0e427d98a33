import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OrcError } from '../src/errors.js';
import { MigrationRegistry, type MigrationStep } from '../src/migrate/chain.js';
import { migrateEventLog } from '../src/migrate/event-log.js';

// Events have one version today: the mechanism is tested with hypothetical steps.
const step = (from: string, to: string, apply: MigrationStep['apply']): MigrationStep => ({
  id: `event_v${from}_to_v${to}`,
  kind: 'event',
  from,
  to,
  doc: 'n/a',
  summary: 'test step',
  lostFields: [],
  apply,
});
const addCost = step('2.0.0', '3.0.0', (e) => ({ ...e, schema_version: '3.0.0', metadata: { ...(e.metadata as object), cost: 0 } }));
const registry = new MigrationRegistry([addCost], { event: ['2.0.0', '3.0.0'] });

function store(): { root: string; log: string; original: string } {
  const root = mkdtempSync(join(tmpdir(), 'orc-eventlog-'));
  mkdirSync(join(root, '.state'));
  const lines = [1, 2, 3].map((seq) => JSON.stringify({ schema_version: '2.0.0', seq, event_id: `e-${seq}`, event: 'task_created', metadata: { n: seq } }));
  const original = `${lines.join('\n')}\n`;
  const log = join(root, '.state/transitions.jsonl');
  writeFileSync(log, original);
  return { root, log, original };
}

describe('event log migration (new log written, old one archived)', () => {
  it('writes a new live log with the same seq/event ids and keeps the original byte for byte', async () => {
    const { root, log, original } = store();
    const dry = await migrateEventLog(root, { from: '2.0.0', to: '3.0.0', registry, dryRun: true });
    expect(dry).toMatchObject({ ok: true, events: 3, migrated: 3, archived: null });
    expect(readFileSync(log, 'utf8')).toBe(original);

    const r = await migrateEventLog(root, { from: '2.0.0', to: '3.0.0', registry, now: () => new Date('2026-11-21T10:00:00Z') });
    expect(r).toMatchObject({ ok: true, migrated: 3, steps: ['event_v2.0.0_to_v3.0.0'] });
    expect(r.archived).toBe('.state/archive/migrated/transitions.v2.0.0.1-3.2026-11-21T10-00-00-000Z.jsonl');
    expect(readFileSync(join(root, r.archived as string), 'utf8')).toBe(original);
    const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => [e.seq, e.event_id, e.schema_version, e.metadata.cost])).toEqual([
      [1, 'e-1', '3.0.0', 0],
      [2, 'e-2', '3.0.0', 0],
      [3, 'e-3', '3.0.0', 0],
    ]);
    // No leftover temp file, lock released, and a second run has nothing to do.
    expect(readdirSync(join(root, '.state')).sort()).toEqual(['archive', 'transitions.jsonl']);
    const again = await migrateEventLog(root, { from: '2.0.0', to: '3.0.0', registry });
    expect(again).toMatchObject({ migrated: 0, archived: null });
    expect(readdirSync(join(root, '.state/archive/migrated'))).toHaveLength(1);
  });

  it('refuses, writing nothing, when a step would change history or the log has a torn tail', async () => {
    const bad = new MigrationRegistry([step('2.0.0', '3.0.0', (e) => ({ ...e, seq: (e.seq as number) + 1, schema_version: '3.0.0' }))], { event: ['2.0.0', '3.0.0'] });
    const a = store();
    const refused = await migrateEventLog(a.root, { from: '2.0.0', to: '3.0.0', registry: bad });
    expect(refused.ok).toBe(false);
    expect(refused.findings[0]).toMatchObject({ file: '.state/transitions.jsonl', line: 1 });
    expect(readFileSync(a.log, 'utf8')).toBe(a.original);
    expect(existsSync(join(a.root, '.state/archive'))).toBe(false);

    const b = store();
    appendFileSync(b.log, '{"schema_version":"2.0.0","seq":4');
    const torn = await migrateEventLog(b.root, { from: '2.0.0', to: '3.0.0', registry });
    expect(torn.ok).toBe(false);
    expect(torn.findings[0]?.message).toMatch(/incomplete line/);
    expect(readFileSync(b.log, 'utf8')).toBe(`${b.original}{"schema_version":"2.0.0","seq":4`);
  });

  it('the real registry has no event steps: any version change is refused as a usage error', async () => {
    const { root } = store();
    const error = await migrateEventLog(root, { from: '2.0.0', to: '3.0.0' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrcError);
    expect((error as OrcError).message).toMatch(/single version/);
  });
});
