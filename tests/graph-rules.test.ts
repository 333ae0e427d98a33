// DAG-VIEW-001..003 and CONC-REG-002 on the example repo: clean passes, each breaker fails exactly its rule,
// --fix regenerates, cycles are located with their full path.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCompliance } from '../src/compliance/runner.js';
import { initStore } from '../src/engine/init.js';
import { syncDefinitions } from '../src/engine/commit.js';

const PROJECT = join(import.meta.dirname, '..');
const IDS = ['DAG-VIEW-001', 'DAG-VIEW-002', 'DAG-VIEW-003', 'CONC-REG-002', 'CONC-REG-001', 'TASK-DEF-001', 'TASK-DEF-002'];
let template: string;
const dirs: string[] = [];

function copyRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orc-graph-rules-'));
  dirs.push(dir);
  cpSync(template, dir, { recursive: true });
  return dir;
}

async function statuses(dir: string): Promise<Record<string, string>> {
  const report = await runCompliance({ root: dir, requirements: IDS });
  return Object.fromEntries(report.requirements.map((r) => [r.id, r.status]));
}

beforeAll(async () => {
  template = mkdtempSync(join(tmpdir(), 'orc-graph-template-'));
  dirs.push(template);
  cpSync(join(PROJECT, 'tasks'), join(template, 'tasks'), { recursive: true });
  cpSync(join(PROJECT, 'capabilities'), join(template, 'capabilities'), { recursive: true });
  await initStore(template);
  await syncDefinitions(template);
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('graph rules', () => {
  it('pass on the clean example repo', async () => {
    const s = await statuses(copyRepo());
    for (const id of ['DAG-VIEW-001', 'DAG-VIEW-002', 'DAG-VIEW-003', 'CONC-REG-002']) expect(s[id], id).toBe('PASS');
  });

  for (const id of ['DAG-VIEW-001', 'DAG-VIEW-002', 'DAG-VIEW-003', 'CONC-REG-002']) {
    it(`breaker ${id} fails exactly ${id}`, async () => {
      const dir = copyRepo();
      const clean = await statuses(dir);
      const { breakRepo } = (await import(`./fixtures/compliance/breakers/${id}.ts`)) as { breakRepo(d: string): void };
      breakRepo(dir);
      const broken = await statuses(dir);
      expect(broken[id]).toBe('FAIL');
      for (const other of IDS) if (other !== id) expect(broken[other], `${other} after breaking ${id}`).toBe(clean[other]);
    });
  }

  it('DAG-VIEW-003 finds a critical path that is not a longest one in every workstream of the repo', async () => {
    const dir = copyRepo();
    const shortened: string[] = [];
    for (const ws of readdirSync(join(dir, 'tasks')).sort()) {
      const file = join(dir, '.state', `execution_plan_${ws}.json`);
      const plan = JSON.parse(readFileSync(file, 'utf8')) as { critical_path_tasks: string[]; critical_path_duration: number; tasks: Record<string, { estimated_duration_seconds: number }> };
      if (plan.critical_path_tasks.length < 2) continue;
      // Keep only the path's last task: still a path, its duration summed right, but shorter than the longest.
      const last = plan.critical_path_tasks[plan.critical_path_tasks.length - 1]!;
      plan.critical_path_tasks = [last];
      plan.critical_path_duration = plan.tasks[last]!.estimated_duration_seconds;
      writeFileSync(file, JSON.stringify(plan, null, 2));
      shortened.push(ws);
    }
    expect(shortened.length).toBeGreaterThan(1);
    const report = await runCompliance({ root: dir, requirements: ['DAG-VIEW-003'] });
    const longest = report.requirements[0]!.findings.filter((f) => /is not a longest path/.test(f.message)).map((f) => /execution_plan_(.+)\.json$/.exec(f.file)![1]);
    expect(longest.sort()).toEqual(shortened);
  });

  it('--fix regenerates a missing and a stale DAG file', async () => {
    const dir = copyRepo();
    unlinkSync(join(dir, '.state/dag_api-hardening.json'));
    const path = join(dir, 'tasks/docs-refresh/dr-publish.json');
    const task = JSON.parse(readFileSync(path, 'utf8')) as { name: string };
    task.name = 'Renamed task';
    writeFileSync(path, `${JSON.stringify(task, null, 2)}\n`);
    const before = await runCompliance({ root: dir, requirements: ['DAG-VIEW-001'] });
    expect(before.requirements[0]?.status).toBe('FAIL');
    const messages = before.requirements[0]?.findings.map((f) => f.message).join('\n');
    expect(messages).toMatch(/no \.state\/dag_api-hardening\.json/);
    expect(messages).toMatch(/Renamed task/);
    const fixed = await runCompliance({ root: dir, requirements: ['DAG-VIEW-001'], fix: true });
    expect(fixed.requirements[0]?.status).not.toBe('FAIL');
    const after = await runCompliance({ root: dir, requirements: ['DAG-VIEW-001', 'DAG-VIEW-002', 'DAG-VIEW-003'] });
    for (const r of after.requirements) expect(r.status, r.id).toBe('PASS');
  });

  it('CONC-REG-002 catches a plan stage that draws a rate-limited resource faster than it refills', async () => {
    const dir = copyRepo();
    const path = join(dir, '.state/execution_plan_api-hardening.json');
    const plan = JSON.parse(readFileSync(path, 'utf8'));
    const stage = plan.stages.find((s: { resource_requirements: Record<string, { type: string }> }) => Object.values(s.resource_requirements).some((r) => r.type === 'rate_limited'));
    expect(stage).toBeDefined();
    plan.total_estimated_duration -= stage.estimated_duration_seconds - 1;
    stage.estimated_duration_seconds = 1;
    writeFileSync(path, JSON.stringify(plan, null, 2));
    const s = await statuses(dir);
    expect(s['CONC-REG-002']).toBe('FAIL');
    expect(s['DAG-VIEW-003']).toBe('PASS');
  });

  it('reports a cycle with its full path and each entry location', async () => {
    const dir = copyRepo();
    // ah-lint-baseline is a root; make it depend on ah-lint-final, which depends (transitively) on it.
    const path = join(dir, 'tasks/api-hardening/ah-lint-baseline.json');
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.replace(/"dependencies": \[\s*\]/, '"dependencies": ["ah-lint-final"]'));
    const report = await runCompliance({ root: dir, requirements: ['DAG-VIEW-001', 'DAG-VIEW-002', 'DAG-VIEW-003', 'CONC-REG-002'] });
    // The cycle is DAG-VIEW-001's finding alone: the other graph rules do not pile on.
    for (const other of report.requirements.filter((x) => x.id !== 'DAG-VIEW-001')) expect(other.status, other.id).not.toBe('FAIL');
    const r = report.requirements.find((x) => x.id === 'DAG-VIEW-001')!;
    expect(r.status).toBe('FAIL');
    const cycle = r.findings.find((f) => f.message.startsWith('dependency cycle'))!;
    // Canonical path: starts at the smallest id, dependency direction, closed.
    const cyclePath = /^dependency cycle: ([^;(]+)/.exec(cycle.message)![1]!.trim().split(' -> ');
    expect(cyclePath[0]).toBe('ah-contract-tests');
    expect(cyclePath.at(-1)).toBe(cyclePath[0]);
    expect(cyclePath).toContain('ah-lint-baseline');
    expect(cyclePath).toContain('ah-lint-final');
    // Every edge of the path is located; the finding sits on the closing entry.
    expect(cycle.message).toMatch(/ah-lint-baseline -> ah-lint-final at tasks\/api-hardening\/ah-lint-baseline\.json:11:\d+/);
    const closing = cyclePath.at(-2)!;
    expect(cycle.file).toBe(`tasks/api-hardening/${closing}.json`);
    expect(cycle.line).toBeGreaterThan(1);
  });
});
