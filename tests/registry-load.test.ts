import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkTaskCapabilities, checkTaskResources, loadCapabilities, loadResources } from '../src/registry/index.js';
import { loadTasks } from '../src/repo/load-tasks.js';
import type { Finding } from '../src/model.js';
import type { Rule, RuleOutcome } from '../src/compliance/types.js';
import { createContext } from '../src/compliance/context.js';
import { rule as TASK_DEF_001 } from '../src/compliance/rules/TASK-DEF-001.js';
import { rule as TASK_DEF_002 } from '../src/compliance/rules/TASK-DEF-002.js';
import { rule as CAP_REG_001 } from '../src/compliance/rules/CAP-REG-001.js';
import { rule as CAP_REG_002 } from '../src/compliance/rules/CAP-REG-002.js';
import { rule as CONC_REG_001 } from '../src/compliance/rules/CONC-REG-001.js';

const FX = 'tests/fixtures/registry/';
const tmp = mkdtempSync(join(tmpdir(), 'orc-registry-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function repoWith(name: string, files: Record<string, string>): string {
  const root = join(tmp, name);
  mkdirSync(join(root, 'capabilities'), { recursive: true });
  for (const [src, dest] of Object.entries(files)) cpSync(FX + src, join(root, 'capabilities', dest));
  return root;
}
const at = (f: Finding) => `${f.file}:${f.line}:${f.column} ${f.requirement} ${f.severity}`;

const RULES: Rule[] = [TASK_DEF_001, TASK_DEF_002, CAP_REG_001, CAP_REG_002, CONC_REG_001];
async function statuses(root: string): Promise<Record<string, string>> {
  const ctx = createContext(root);
  const out: Record<string, string> = {};
  for (const r of RULES) {
    const o: RuleOutcome = await r.check(ctx);
    out[r.id] = 'skip' in o ? 'SKIP' : o.findings.some((f) => f.severity === 'error') ? 'FAIL' : o.findings.some((f) => f.severity === 'warning') ? 'WARN' : 'PASS';
  }
  return out;
}

describe('capability registry', () => {
  it('reports every CAP-REG problem of a bad psd1 registry at its location', () => {
    const reg = loadCapabilities(repoWith('bad-caps', { 'bad-registry.psd1': 'registry.psd1' }));
    expect(reg.file).toBe('capabilities/registry.psd1');
    expect(reg.findings.map(at).sort()).toEqual(
      [
        'capabilities/registry.psd1:7:28 CAP-REG-002 error', // Version '1.2'
        'capabilities/registry.psd1:13:28 CAP-REG-002 error', // Stability 'beta'
        'capabilities/registry.psd1:13:28 CAP-REG-002 error', // DeprecatedBy set but not deprecated
        'capabilities/registry.psd1:15:28 CAP-REG-002 error', // DeprecatedBy names nothing
        'capabilities/registry.psd1:17:9 CAP-REG-001 error', // Provider missing
        'capabilities/registry.psd1:27:13 CAP-REG-001 warning', // unknown key Provder: kept, a warning (issue 9)
        'capabilities/registry.psd1:30:28 CAP-REG-001 error', // duplicate id
      ].sort(),
    );
    expect(reg.findings.find((f) => f.line === 27)!.fix).toMatch(/did you mean `Provider`/);
    expect(reg.findings.find((f) => f.line === 7)!.fix).toMatch(/semantic version/);
    // entries with an id stay usable so tasks naming them are not also "unknown"
    expect([...reg.capabilities.keys()]).toEqual(['a.one', 'a.two']);
  });

  it('accepts the YAML form with YAML locations', () => {
    const reg = loadCapabilities(repoWith('yaml', { 'registry.yaml': 'registry.yaml' }));
    expect(reg.file).toBe('capabilities/registry.yaml');
    expect(reg.findings.map(at)).toEqual(['capabilities/registry.yaml:15:14 CAP-REG-002 error']);
    expect(reg.findings[0]!.message).toMatch(/`Capabilities\[1\]\.Version` must be a string/);
    expect([...reg.capabilities.keys()]).toEqual(['shell.exec', 'py.test']);
  });

  it('a second registry of the same kind is reported as ignored', () => {
    const reg = loadCapabilities(repoWith('two-registries', { 'repo/capabilities/registry.psd1': 'registry.psd1', 'registry.yaml': 'registry.yaml' }));
    expect(reg.file).toBe('capabilities/registry.psd1');
    expect(reg.findings.map(at)).toEqual(['capabilities/registry.yaml:1:1 CAP-REG-001 warning']);
    expect(reg.findings[0]!.message).toMatch(/ignored: capabilities\/registry\.psd1 takes precedence/);
  });

  it('a registry that does not parse is one located finding', () => {
    const reg = loadCapabilities(repoWith('unparsable', { 'bad-variable.psd1': 'registry.psd1' }));
    expect(reg.findings.map(at)).toEqual(['capabilities/registry.psd1:3:12 CAP-REG-001 error']);
    expect(reg.capabilities.size).toBe(0);
  });

  it('tasks naming unknown or deprecated capabilities and unknown resources are located in the task', () => {
    const root = FX + 'repo';
    const set = loadTasks(root);
    expect(set.findings).toEqual([]);
    const caps = loadCapabilities(root);
    const res = loadResources(root);
    expect([...caps.findings, ...res.findings]).toEqual([]);
    expect(checkTaskCapabilities(set.tasks.values(), caps).map(at).sort()).toEqual(
      ['tasks/ws-r/r-deprecated-cap.json:14:7 CAP-REG-002 warning', 'tasks/ws-r/r-unknown-cap.json:15:7 CAP-REG-001 error'].sort(),
    );
    const unknownRes = checkTaskResources(set.tasks.values(), res);
    expect(unknownRes.map(at)).toEqual(['tasks/ws-r/r-unknown-cap.json:37:5 CONC-REG-001 error']);
    expect(unknownRes[0]!.message).toMatch(/resource "gpu" is not defined/);
  });
});

describe('registry syntax errors in every accepted format are located', () => {
  it('YAML, JSON and a missing registry', async () => {
    const yamlRoot = join(tmp, 'bad-yaml');
    mkdirSync(join(yamlRoot, 'capabilities'), { recursive: true });
    writeFileSync(join(yamlRoot, 'capabilities/registry.yaml'), 'schema_version: "1.0.0"\nCapabilities:\n  - CapabilityId: a\n    Version: "1.0.0"\n    Version: "2.0.0"\n');
    expect(loadCapabilities(yamlRoot).findings.map(at)).toEqual(['capabilities/registry.yaml:5:5 CAP-REG-001 error']);

    const jsonRoot = join(tmp, 'bad-json');
    mkdirSync(join(jsonRoot, 'capabilities'), { recursive: true });
    writeFileSync(join(jsonRoot, 'capabilities/resources.json'), '{\n  "Resources": [\n    { "ResourceId": "a", },\n  ]\n}\n');
    expect(loadResources(jsonRoot).findings.map(at)).toEqual(['capabilities/resources.json:3:24 CONC-REG-001 error']);

    // tasks that need capabilities/resources but no registry at all: capability names cannot be
    // checked (a warning saying how to add a registry); unknown resources still FAIL, located in the task
    const none = join(tmp, 'no-registry');
    cpSync(FX + 'repo/tasks', join(none, 'tasks'), { recursive: true });
    const s = await statuses(none);
    expect(s['CAP-REG-001']).toBe('WARN');
    expect(s['CONC-REG-001']).toBe('FAIL');
    expect(s['CAP-REG-002']).toBe('SKIP');
    const ctx = createContext(none);
    const out = (await CONC_REG_001.check(ctx)) as { findings: Finding[] };
    expect(out.findings.map(at)).toContain('tasks/ws-r/r-ok.json:37:5 CONC-REG-001 error');
    expect(out.findings[0]!.message).toMatch(/no resource registry/);
  });
});

describe('resource registry', () => {
  it('reports CONC-REG-001 problems of a bad psd1 registry at their location', () => {
    const reg = loadResources(repoWith('bad-res', { 'bad-resources.psd1': 'resources.psd1' }));
    expect(reg.findings.map(at).sort()).toEqual(
      [
        'capabilities/resources.psd1:5:90 CONC-REG-001 error', // exclusive with MaxHolders 2
        'capabilities/resources.psd1:6:9 CONC-REG-001 error', // rate_limited without RefillRate
        'capabilities/resources.psd1:7:39 CONC-REG-001 error', // Type 'locked'
        'capabilities/resources.psd1:7:83 CONC-REG-001 error', // MaxHolders -2
      ].sort(),
    );
    expect(reg.findings.find((f) => f.line === 6)!.message).toMatch(/missing the required property `RefillRate` \(required when Type is "rate_limited"\)/);
    expect([...reg.resources.keys()]).toEqual(['db', 'api']);
    expect([...(reg.invalidIds ?? [])]).toEqual(['gpu']);
  });

  it('accepts the JSON form', () => {
    const reg = loadResources(repoWith('json', { 'resources.json': 'resources.json' }));
    expect(reg.findings.map(at)).toEqual(['capabilities/resources.json:6:105 CONC-REG-001 error']);
    expect(reg.resources.get('ci')).toEqual({ ResourceId: 'ci', Type: 'shared', Description: 'CI pool', MaxHolders: -1 });
  });

  it('the example registries load clean with the contract shape', () => {
    const res = loadResources('.');
    expect(res.findings).toEqual([]);
    expect(res.resources.get('llm-api')).toMatchObject({ Type: 'rate_limited', RefillRate: 0.5 });
    expect(loadCapabilities('.').findings).toEqual([]);
  });
});

describe('rules and their breakers on a copy of the example repo', () => {
  const copyExample = (name: string): string => {
    const root = join(tmp, name);
    for (const dir of ['tasks', 'capabilities', 'docs', 'specifications', 'schemas']) cpSync(dir, join(root, dir), { recursive: true });
    return root;
  };

  it('all five rules pass on the example', async () => {
    expect(await statuses(copyExample('clean'))).toEqual({ 'TASK-DEF-001': 'PASS', 'TASK-DEF-002': 'PASS', 'CAP-REG-001': 'PASS', 'CAP-REG-002': 'PASS', 'CONC-REG-001': 'PASS' });
  });

  for (const id of RULES.map((r) => r.id)) {
    it(`breaker ${id} fails exactly ${id}`, async () => {
      const root = copyExample(`broken-${id}`);
      const { breakRepo } = (await import(`./fixtures/compliance/breakers/${id}.ts`)) as { breakRepo(dir: string): void };
      breakRepo(root);
      const s = await statuses(root);
      for (const other of RULES.map((r) => r.id)) expect(s[other], `${id} breaker → ${other}`).toBe(other === id ? 'FAIL' : 'PASS');
    });
  }

  it('rules skip when there is nothing to inspect', async () => {
    const root = join(tmp, 'nothing');
    mkdirSync(root);
    expect(await statuses(root)).toEqual({ 'TASK-DEF-001': 'SKIP', 'TASK-DEF-002': 'SKIP', 'CAP-REG-001': 'SKIP', 'CAP-REG-002': 'SKIP', 'CONC-REG-001': 'SKIP' });
  });
});
