// Registries as the upstream writes them (issue 9 item 1), and ConflictsWith honoured by plan and ready.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCapabilities, loadResources } from '../src/registry/index.js';
import { parseRefillRate } from '../src/registry/normalize.js';
import { resourcesConflict, type ResourceLike } from '../src/graph/resources.js';
import { analyze, buildExecutionPlan } from '../src/graph/files.js';
import { computeReady } from '../src/graph/ready.js';
import { RunHistory } from '../src/graph/estimates.js';
import { loadTasks } from '../src/repo/load-tasks.js';
import type { Finding } from '../src/model.js';

const REPO = join(import.meta.dirname, 'fixtures/upstream/repo');
const tmp = mkdtempSync(join(tmpdir(), 'orc-upstream-reg-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const at = (f: Finding) => `${f.file}:${f.line}:${f.column} ${f.requirement} ${f.severity}`;

describe('upstream capability registry', () => {
  const reg = loadCapabilities(REPO);
  it('reads a top-level array with lower-case keys and Operations objects', () => {
    expect(reg.file).toBe('capabilities/registry.psd1');
    expect([...reg.capabilities.keys()]).toEqual(['aider', 'pytest']);
    const aider = reg.capabilities.get('aider')!;
    expect(aider.Operations).toEqual(['edit', 'refactor']);
    expect(aider.OperationDetails?.[0]).toMatchObject({ Name: 'edit', Output: 'diff', Inputs: ['files', 'message'] });
    expect(reg.capabilities.get('pytest')).toMatchObject({ CapabilityId: 'pytest', Version: '1.2.0', Operations: ['test', 'coverage'], Stability: 'stable' });
  });
  it('keeps unknown keys and reports them only as warnings, at their key', () => {
    expect(reg.findings.every((f) => f.severity === 'warning')).toBe(true);
    expect(reg.findings.map(at)).toEqual(['capabilities/registry.psd1:28:9 CAP-REG-001 warning', 'capabilities/registry.psd1:41:9 CAP-REG-001 warning']);
    expect(reg.capabilities.get('aider')!.Extras).toEqual({ Owner: 'platform-team' });
    expect(reg.capabilities.get('pytest')!.Extras).toEqual({ Tags: ['python', 'tests'] });
  });
  it('says "did you mean" for a key close to a known one, and still fails a missing required key', () => {
    const root = join(tmp, 'typo');
    mkdirSync(join(root, 'capabilities'), { recursive: true });
    writeFileSync(
      join(root, 'capabilities/registry.psd1'),
      "@{ Capabilities = @(\n  @{ CapabilityId = 'a'; Version = '1.0.0'; Name = 'A'; Description = 'd'; Provder = 'x'; Requirements = @(); Operations = @('run'); Stability = 'stable'; SinceVersion = '1.0.0'; DeprecatedBy = $null }\n) }\n",
    );
    const r = loadCapabilities(root);
    const typo = r.findings.find((f) => f.message.includes('Provder'))!;
    expect(typo.severity).toBe('warning');
    expect(typo.fix).toMatch(/did you mean `Provider`/);
    expect(r.findings.some((f) => f.severity === 'error' && /Provider/.test(f.message))).toBe(true);
  });
});

describe('upstream resource registry', () => {
  const reg = loadResources(REPO);
  it('normalises Priority, Metadata, pooled, RefillRate strings and Type case into ResourceDef', () => {
    expect(reg.resources.get('filesystem_write')).toMatchObject({ Type: 'shared', MaxHolders: 4, Priority: 10, ConflictsWith: ['filesystem_read'], CompatibleWith: ['llm_api'] });
    expect(reg.resources.get('filesystem_write')!.Metadata).toMatchObject({ AllocationStrategy: 'fifo', Scoped: true });
    expect(reg.resources.get('llm_api')).toMatchObject({ Type: 'rate_limited', RefillRate: 100 / 60 });
    expect(reg.resources.get('gpu_pool')).toMatchObject({ Type: 'pooled', MaxHolders: 4 });
    expect(reg.resources.get('git_lock')).toMatchObject({ Type: 'exclusive', MaxHolders: 1 });
  });
  it('warns (only) when ConflictsWith names no resource', () => {
    expect(reg.findings.map(at)).toEqual(['capabilities/resources.psd1:32:42 CONC-REG-001 warning']);
    expect(reg.findings[0]!.message).toMatch(/nothing_known/);
  });
  it('parses RefillRate in every unit, and refuses what is not a rate', () => {
    expect(parseRefillRate(2)).toBe(2);
    expect(parseRefillRate('60/minute')).toBe(1);
    expect(parseRefillRate('7200/hour')).toBe(2);
    expect(parseRefillRate('3/second')).toBe(3);
    expect(parseRefillRate('fast')).toBeUndefined();
    expect(parseRefillRate(0)).toBeUndefined();
    const root = join(tmp, 'badrate');
    mkdirSync(join(root, 'capabilities'), { recursive: true });
    writeFileSync(join(root, 'capabilities/resources.psd1'), "@( @{ ResourceId = 'a'; Type = 'rate_limited'; Description = 'd'; MaxHolders = 5; RefillRate = 'often' } )\n");
    const r = loadResources(root);
    expect(r.findings.filter((f) => f.severity === 'error').map(at)).toEqual(['capabilities/resources.psd1:1:96 CONC-REG-001 error']);
  });
  it('accepts a psd1 hashtable without schema_version/schema_url; an unknown top-level key is only a warning', () => {
    const root = join(tmp, 'hashtable');
    mkdirSync(join(root, 'capabilities'), { recursive: true });
    writeFileSync(join(root, 'capabilities/resources.psd1'), "@{\n  Owner = 'ops'\n  Resources = @( @{ ResourceId = 'a'; Type = 'shared'; Description = 'd'; MaxHolders = 2 } )\n}\n");
    const r = loadResources(root);
    expect([...r.resources.keys()]).toEqual(['a']);
    expect(r.findings.map(at)).toEqual(['capabilities/resources.psd1:2:3 CONC-REG-001 warning']);
  });
  it('accepts the hashtable form in YAML with lower-case keys', () => {
    const root = join(tmp, 'yaml');
    mkdirSync(join(root, 'capabilities'), { recursive: true });
    writeFileSync(join(root, 'capabilities/resources.yaml'), 'resources:\n  - resourceid: db\n    type: Exclusive\n    description: the db\n  - resourceid: pool\n    type: pooled\n    description: p\n    maxholders: 3\n    refillrate: 5\n');
    const r = loadResources(root);
    expect([...r.resources.keys()]).toEqual(['db', 'pool']);
    expect(r.findings.map((f) => f.message)).toEqual(['RefillRate is only used by rate_limited resources; "pool" is pooled']);
  });
});

describe('resourcesConflict', () => {
  const R = (id: string, extra: Partial<ResourceLike> = {}): ResourceLike => ({ ResourceId: id, Type: 'shared', MaxHolders: -1, ...extra });
  it('is symmetric, lets CompatibleWith win, and never makes a resource conflict with itself', () => {
    const w = R('w', { ConflictsWith: ['r'] });
    const r = R('r');
    expect(resourcesConflict(w, r)).toBe(true);
    expect(resourcesConflict(r, w)).toBe(true);
    expect(resourcesConflict(w, w)).toBe(false);
    expect(resourcesConflict(w, R('r', { CompatibleWith: ['w'] }))).toBe(false);
    expect(resourcesConflict(R('x', { ConflictsWith: ['*'], CompatibleWith: ['y'] }), R('y'))).toBe(false);
    expect(resourcesConflict(R('x', { ConflictsWith: ['*'] }), R('z'))).toBe(true);
    expect(resourcesConflict(R('a'), R('b'))).toBe(false);
  });
});

describe('ConflictsWith in plans and ready', () => {
  const repo = join(tmp, 'plan');
  cpSync(REPO, repo, { recursive: true });
  const taskSet = loadTasks(repo);
  const resources = loadResources(repo).resources;
  const a = analyze({ taskSet, snapshot: null, resources, history: new RunHistory(), maxParallel: 8 });
  it('never puts a filesystem_write holder and a filesystem_read holder in the same stage', () => {
    const k = a.graph.workstreams.indexOf('ws-fs');
    const plan = buildExecutionPlan(a, k, '2026-01-01T00:00:00.000Z').plan!;
    expect(plan.stages.length).toBeGreaterThanOrEqual(2);
    const writers = new Set(['fs-write-a', 'fs-write-b']);
    const readers = new Set(['fs-read-a', 'fs-read-b']);
    for (const s of plan.stages) {
      const w = s.parallel_tasks.some((t) => writers.has(t));
      const r = s.parallel_tasks.some((t) => readers.has(t));
      expect(w && r, `stage ${s.stage}: ${s.parallel_tasks.join(', ')}`).toBe(false);
    }
    // Priority tie-break: filesystem_write (Priority 10) goes before filesystem_read (5).
    expect(plan.stages[0]!.parallel_tasks).toContain('fs-write-a');
    // the pooled gpu_pool (4) cannot hold 3 + 2 units in one stage
    const gpuStages = plan.stages.filter((s) => s.parallel_tasks.some((t) => t.startsWith('gpu-')));
    expect(gpuStages.length).toBe(2);
    // CompatibleWith: llm_api may be held next to filesystem_write
    expect(plan.stages[0]!.parallel_tasks).toContain('fs-write-b');
  });
  it('ready never reports a writer and a reader runnable together, and names the conflict', () => {
    const report = computeReady(a, { workstream: 'ws-fs' });
    const ids = report.ready.map((t) => t.task_id);
    expect(ids.some((t) => t.startsWith('fs-write')) && ids.some((t) => t.startsWith('fs-read'))).toBe(false);
    const blockedReader = report.blocked.find((b) => b.task_id.startsWith('fs-read'));
    expect(blockedReader?.reasons.join(' ')).toMatch(/conflicts with filesystem_write/);
  });
});

describe('CONC-REG-002 on plan files', () => {
  it('a hand-edited plan that co-schedules a writer with a reader is a located error', () => {
    const root = join(tmp, 'planfile');
    cpSync(REPO, root, { recursive: true });
    const bin = join(import.meta.dirname, '..', 'bin/orc-state.js');
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args, '--root', root], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(run('init').status).toBe(0);
    expect(run('validate', '--requirement', 'CONC-REG-002').status).toBe(0);
    const file = join(root, '.state/execution_plan_ws-fs.json');
    const plan = JSON.parse(readFileSync(file, 'utf8')) as { stages: Array<{ parallel_tasks: string[] }> };
    const reader = plan.stages[1]!.parallel_tasks.find((t) => t.startsWith('fs-read'))!;
    plan.stages[1]!.parallel_tasks = plan.stages[1]!.parallel_tasks.filter((t) => t !== reader);
    plan.stages[0]!.parallel_tasks.push(reader);
    writeFileSync(file, JSON.stringify(plan, null, 2));
    const r = run('validate', '--requirement', 'CONC-REG-002');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/\.state\/execution_plan_ws-fs\.json:\d+:\d+ +stage 1 co-schedules .*\(holding "filesystem_read"\) with .*\(holding "filesystem_write"\), and these resources conflict/);
  });
});
