/**
 * B1's compliance rules end to end: a copy of the example repo, given state by
 * the engine (sync + a few transitions), passes SM-DEF-001..003,
 * STATE-OBS-005/006, OBS-001/002; each breaker turns exactly its own id FAIL
 * (WARN for SHOULD) among all rules; STATE-OBS-006 repairs under --fix.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCompliance } from '../src/compliance/runner.js';
import type { RequirementResult } from '../src/compliance/types.js';
import { applyTransitions, syncDefinitions } from '../src/engine/commit.js';
import { packageRoot } from '../src/paths.js';

const MINE = ['SM-DEF-001', 'SM-DEF-002', 'SM-DEF-003', 'STATE-OBS-005', 'STATE-OBS-006', 'OBS-001', 'OBS-002'];
const SHOULD = new Set(['SM-DEF-003', 'STATE-OBS-005']);
// orc-state.config.json opts into the full gate profile: these tests check the lifecycle documents too.
const COPY = ['tasks', 'capabilities', 'docs', 'specifications', 'schemas', 'orc-state.config.json'];

let clean: string;
const dirs: string[] = [];
let baseline: Map<string, RequirementResult>;

function copyRepo(from: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'orc-b1-rules-'));
  dirs.push(dir);
  for (const p of [...COPY, '.state']) if (existsSync(join(from, p))) cpSync(join(from, p), join(dir, p), { recursive: true });
  return dir;
}

async function statuses(root: string, fix = false): Promise<Map<string, RequirementResult>> {
  const report = await runCompliance({ root, fix });
  return new Map(report.requirements.map((r) => [r.id, r]));
}

beforeAll(async () => {
  clean = copyRepo(packageRoot());
  rmSync(join(clean, '.state'), { recursive: true, force: true });
  await syncDefinitions(clean);
  const snap = JSON.parse(readFileSync(join(clean, '.state/current.json'), 'utf8')) as { tasks: Array<{ task_id: string; status: string }> };
  const first = snap.tasks.find((t) => t.status === 'pending');
  if (first) await applyTransitions(clean, [{ entity_type: 'task', entity_id: first.task_id, trigger: 'user_cancelled', timestamp: new Date().toISOString() }]);
  await applyTransitions(clean, [
    { entity_type: 'worker', entity_id: 'w-test', trigger: 'worker_registered', timestamp: new Date().toISOString(), metadata: { capabilities: ['shell'] } },
  ]);
  baseline = await statuses(clean);
}, 60_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('on a clean repo', () => {
  test('every B1 rule passes', () => {
    for (const id of MINE) expect(baseline.get(id)?.status, `${id}: ${JSON.stringify(baseline.get(id)?.findings ?? baseline.get(id)?.reason)}`).toBe('PASS');
  });
});

describe('each breaker turns exactly its requirement', () => {
  for (const id of MINE) {
    test(id, async () => {
      const dir = copyRepo(clean);
      const { breakRepo } = (await import(`./fixtures/compliance/breakers/${id}.ts`)) as { breakRepo(dir: string): void };
      breakRepo(dir);
      const after = await statuses(dir);
      const want = SHOULD.has(id) ? 'WARN' : 'FAIL';
      const result = after.get(id)!;
      expect(result.status, JSON.stringify(result.findings)).toBe(want);
      for (const f of result.findings) {
        expect(f.line).toBeGreaterThanOrEqual(1);
        expect(f.fix.length).toBeGreaterThan(0);
        expect(f.file).not.toMatch(/^\//);
      }
      // nothing else changed status
      const changed = [...after].filter(([rid, r]) => rid !== id && r.status !== baseline.get(rid)?.status).map(([rid, r]) => `${rid}:${baseline.get(rid)?.status}->${r.status}`);
      expect(changed).toEqual([]);
    }, 30_000);
  }
});

describe('findings are located and actionable', () => {
  test('SM-DEF-001 names the YAML line of a bad severity and the engine drift', async () => {
    const dir = copyRepo(clean);
    const file = join(dir, 'docs/state_machines/task_lifecycle.yaml');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('          event: task_retry\n          severity: warning', '          event: task_retry\n          severity: info'));
    const line = text.split('\n').findIndex((l, i, all) => l.includes('- to: retrying') && all[i + 2]?.includes('task_retry')) + 1;
    const r = (await statuses(dir)).get('SM-DEF-001')!;
    expect(r.status).toBe('FAIL');
    expect(r.findings).toContainEqual(expect.objectContaining({ file: 'docs/state_machines/task_lifecycle.yaml', line, message: expect.stringContaining('must log severity warning') }));
    expect(r.findings.some((f) => f.message.includes('severity is info here but warning in the engine'))).toBe(true);
  });

  test('SM-DEF-001 reports an unknown task status in current.json at its line', async () => {
    const dir = copyRepo(clean);
    const file = join(dir, '.state/current.json');
    const snap = JSON.parse(readFileSync(file, 'utf8'));
    snap.tasks[0].status = 'sleeping';
    writeFileSync(file, JSON.stringify(snap, null, 2));
    const r = (await statuses(dir)).get('SM-DEF-001')!;
    const f = r.findings.find((x) => x.file === '.state/current.json');
    expect(f?.message).toContain('"sleeping", not a state of the task machine');
    const lines = JSON.stringify(snap, null, 2).split('\n');
    expect(lines[f!.line - 1]).toContain('"status": "sleeping"');
  });

  test('SM-DEF-002 reports a workstream status that contradicts its tasks (Decision 7)', async () => {
    const dir = copyRepo(clean);
    const file = join(dir, '.state/current.json');
    const snap = JSON.parse(readFileSync(file, 'utf8'));
    const ws = snap.workstreams.find(
      (w: { workstream_id: string; status: string }) =>
        w.status === 'ready' &&
        snap.tasks.every((t: { workstream_id: string; status: string }) => t.workstream_id !== w.workstream_id || t.status === 'pending'),
    );
    expect(ws).toBeDefined();
    ws.status = 'executing';
    writeFileSync(file, JSON.stringify(snap, null, 2));
    const r = (await statuses(dir)).get('SM-DEF-002')!;
    expect(r.status).toBe('FAIL');
    expect(r.findings.map((x) => x.message).join('\n')).toContain(`workstream ${ws.workstream_id} is executing but its tasks derive ready`);
  });

  test('STATE-OBS-006 --fix regenerates stale indices and reports the repair', async () => {
    const dir = copyRepo(clean);
    const { breakRepo } = (await import('./fixtures/compliance/breakers/STATE-OBS-006.ts')) as { breakRepo(dir: string): void };
    breakRepo(dir);
    const fixed = (await statuses(dir, true)).get('STATE-OBS-006')!;
    expect(fixed.status).toBe('PASS');
    expect(fixed.fixed?.map((f) => f.file)).toEqual(['.state/by_status.json']);
    expect((await statuses(dir)).get('STATE-OBS-006')!.status).toBe('PASS');
    expect(readFileSync(join(dir, '.state/by_status.json'), 'utf8')).toBe(readFileSync(join(clean, '.state/by_status.json'), 'utf8'));
  });

  test('OBS-001 reports metrics computed from an older snapshot', async () => {
    const dir = copyRepo(clean);
    const file = join(dir, '.state/metrics.json');
    const m = JSON.parse(readFileSync(file, 'utf8'));
    m.source_last_seq -= 1;
    writeFileSync(file, JSON.stringify(m, null, 2));
    const r = (await statuses(dir)).get('OBS-001')!;
    expect(r.status).toBe('FAIL');
    expect(r.findings[0]!.message).toContain('not refreshed after the last transition');
  });

  test('a missing lifecycle YAML fails SM-DEF-003 and --fix writes it from the package', async () => {
    const dir = copyRepo(clean);
    rmSync(join(dir, 'docs/state_machines/worker_lifecycle.yaml'));
    const broken = (await statuses(dir)).get('SM-DEF-003')!;
    expect(broken.status).toBe('WARN');
    expect(broken.findings[0]!.message).toContain('docs/state_machines/worker_lifecycle.yaml is missing');
    const fixed = (await statuses(dir, true)).get('SM-DEF-003')!;
    expect(fixed.status).toBe('PASS');
    expect(fixed.fixed?.map((f) => f.file)).toEqual(['docs/state_machines/worker_lifecycle.yaml']);
    expect(readFileSync(join(dir, 'docs/state_machines/worker_lifecycle.yaml'), 'utf8')).toBe(readFileSync(join(packageRoot(), 'docs/state_machines/worker_lifecycle.yaml'), 'utf8'));
  });

  test('rules skip, never pass, without a snapshot', async () => {
    const dir = copyRepo(clean);
    rmSync(join(dir, '.state'), { recursive: true, force: true });
    const s = await statuses(dir);
    for (const id of ['STATE-OBS-005', 'STATE-OBS-006', 'OBS-001', 'OBS-002']) expect(s.get(id)!.status).toBe('SKIP');
    for (const id of ['SM-DEF-001', 'SM-DEF-002']) expect(s.get(id)!.status).toBe('PASS');
  });
});
