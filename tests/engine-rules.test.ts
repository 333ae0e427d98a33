// The STATE-OBS-001..004 and AUDIT-001/002 rules on a clean engine-made repo, and each breaker turning exactly its rule (of these six) to FAIL.
import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/compliance/context.js';
import { statusFor } from '../src/compliance/runner.js';
import type { Rule } from '../src/compliance/types.js';
import { applyTransitions, syncDefinitions } from '../src/engine/commit.js';
import { rotateLog } from '../src/engine/rotate.js';
import type { TransitionRequest } from '../src/machines/index.js';
// @ts-expect-error plain JS fixture
import { flatSpec, makeRepo } from './fixtures/engine/make-repo.mjs';

const IDS = ['STATE-OBS-001', 'STATE-OBS-002', 'STATE-OBS-003', 'STATE-OBS-004', 'AUDIT-001', 'AUDIT-002'] as const;
const rules = new Map<string, Rule>();
const breakers = new Map<string, (dir: string) => void>();
let clean = '';

const ts = () => new Date().toISOString();
const task = (id: string, trigger: string, extra: Partial<TransitionRequest> = {}): TransitionRequest => ({ entity_type: 'task', entity_id: id, trigger, timestamp: ts(), ...extra });

async function evaluate(root: string): Promise<Record<string, string>> {
  const ctx = createContext(root);
  const out: Record<string, string> = {};
  for (const id of IDS) {
    const outcome = await rules.get(id)!.check(ctx);
    out[id] = 'skip' in outcome ? `SKIP ${outcome.skip}` : statusFor(rules.get(id)!.level, outcome.findings);
  }
  return out;
}

beforeAll(async () => {
  for (const id of IDS) {
    rules.set(id, ((await import(`../src/compliance/rules/${id}.ts`)) as { rule: Rule }).rule);
    breakers.set(id, ((await import(`./fixtures/compliance/breakers/${id}.ts`)) as { breakRepo: (d: string) => void }).breakRepo);
  }
  clean = makeRepo(flatSpec('ws', 4, { maxRetries: 1 })) as string;
  mkdirSync(join(clean, 'docs/operations'), { recursive: true });
  cpSync(join(import.meta.dirname, '..', 'docs/operations/AUDIT_RETENTION.md'), join(clean, 'docs/operations/AUDIT_RETENTION.md'));
  await syncDefinitions(clean);
  await applyTransitions(clean, [
    { entity_type: 'worker', entity_id: 'w1', trigger: 'worker_registered', timestamp: ts(), metadata: { capabilities: [] } },
    { entity_type: 'worker', entity_id: 'w1', trigger: 'registration_complete', timestamp: ts() },
    task('t0', 'scheduler_assigned'),
    task('t0', 'worker_started', { worker_id: 'w1' }),
    task('t0', 'execution_failed', { error: 'exit 2' }),
  ]);
  await rotateLog(clean); // archives are part of every check
  await applyTransitions(clean, [task('t0', 'retry_delay_elapsed'), task('t0', 'worker_started', { worker_id: 'w1' }), task('t0', 'task_timeout', { error: 'timeout' })]);
  await applyTransitions(clean, [task('t1', 'scheduler_assigned'), task('t1', 'worker_started', { worker_id: 'w1' }), task('t1', 'execution_completed')]);
});

function copy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orc-rules-'));
  cpSync(clean, dir, { recursive: true });
  return dir;
}

describe('engine rules', () => {
  it('all pass on a repo written by the engine (with an archive)', async () => {
    expect(await evaluate(clean)).toEqual(Object.fromEntries(IDS.map((id) => [id, 'PASS'])));
  });

  for (const id of IDS) {
    it(`breaker ${id} fails ${id} and none of the other five`, async () => {
      const dir = copy();
      breakers.get(id)!(dir);
      const result = await evaluate(dir);
      expect(result).toEqual(Object.fromEntries(IDS.map((x) => [x, x === id ? 'FAIL' : 'PASS'])));
    });
  }

  it('reports located findings: a corrupt archive and a tampered event', async () => {
    const dir = copy();
    const { readdirSync, writeFileSync, readFileSync } = await import('node:fs');
    const archive = readdirSync(join(dir, '.state/archive')).find((f) => f.endsWith('.gz'))!;
    writeFileSync(join(dir, '.state/archive', archive), Buffer.concat([readFileSync(join(dir, '.state/archive', archive)).subarray(0, 30), Buffer.from('garbage')]));
    const ctx = createContext(dir);
    const audit = await rules.get('AUDIT-002')!.check(ctx);
    expect('findings' in audit && audit.findings.some((f) => f.file === `.state/archive/${archive}`)).toBe(true);
  });

  it('STATE-OBS-003 --fix repairs through doctor and reports each repair', async () => {
    const dir = copy();
    breakers.get('STATE-OBS-003')!(dir);
    const outcome = await rules.get('STATE-OBS-003')!.check(createContext(dir, { fix: true }));
    expect('findings' in outcome && outcome.findings.every((f) => f.severity === 'notice')).toBe(true);
    expect(await evaluate(dir)).toEqual(Object.fromEntries(IDS.map((x) => [x, 'PASS'])));
  });

  it('STATE-OBS-001 --fix registers a new definition through sync', async () => {
    const dir = copy();
    makeRepo({ ws: [{ id: 'late' }] }, dir);
    const before = await rules.get('STATE-OBS-001')!.check(createContext(dir));
    expect('findings' in before && before.findings.some((f) => f.file === 'tasks/ws/late.json')).toBe(true);
    await rules.get('STATE-OBS-001')!.check(createContext(dir, { fix: true }));
    expect((await evaluate(dir))['STATE-OBS-001']).toBe('PASS');
  });
});
