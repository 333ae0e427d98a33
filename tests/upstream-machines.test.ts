// Lifecycle YAML in the upstream layout (issue 9 item 1): accepted by SM-DEF, checked against the engine's machines.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFINITIONS, MACHINE_KINDS } from '../src/machines/definitions.js';
import { checkMachineRepo } from '../src/machines/conformance.js';
import { GUARD_ALIASES, isUpstreamLayout, parseUpstreamMachineYaml, upstreamDriftFindings } from '../src/machines/upstream-yaml.js';

const FX = join(import.meta.dirname, 'fixtures/upstream/state_machines');
const tmp = mkdtempSync(join(tmpdir(), 'orc-upstream-sm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const REQ = { task: 'SM-DEF-001', workstream: 'SM-DEF-002', worker: 'SM-DEF-003' } as const;

function repoWith(name: string, edit?: (kind: string, text: string) => string): string {
  const root = join(tmp, name);
  mkdirSync(join(root, 'docs/state_machines'), { recursive: true });
  for (const kind of MACHINE_KINDS) {
    const text = readFileSync(join(FX, `${kind}_lifecycle.yaml`), 'utf8');
    writeFileSync(join(root, `docs/state_machines/${kind}_lifecycle.yaml`), edit ? edit(kind, text) : text);
  }
  return root;
}

describe('upstream lifecycle YAML', () => {
  it('each fixture is recognised as the upstream layout; the engine files are not', () => {
    for (const kind of MACHINE_KINDS) {
      expect(isUpstreamLayout(readFileSync(join(FX, `${kind}_lifecycle.yaml`), 'utf8'))).toBe(true);
      expect(isUpstreamLayout(readFileSync(join(import.meta.dirname, '..', `docs/state_machines/${kind}_lifecycle.yaml`), 'utf8'))).toBe(false);
    }
  });

  it('the three fixtures (list, mapping and grouped states; "*" and list sources; aliased guards) match the engine', () => {
    const root = repoWith('ok');
    for (const kind of MACHINE_KINDS) {
      const findings = checkMachineRepo(root, kind, REQ[kind], 'error').filter((f) => f.severity === 'error');
      expect(findings, kind).toEqual([]);
    }
  });

  it('a missing edge, an extra edge, a wrong terminal set and a wrong guard are located findings', () => {
    const root = repoWith('drift', (kind, text) =>
      kind === 'task'
        ? text
            .replace('terminal: [completed, failed, cancelled]', 'terminal: [completed, failed]')
            .replace('  - from: retrying\n    to: queued\n    trigger: retry_delay_elapsed\n', '  - from: retrying\n    to: running\n    trigger: retry_delay_elapsed\n')
            .replace('guards: [worker_available]', 'guards: [retries_remaining]')
            .replace('guards: [exit_code_0]', 'guards: [lint_clean]')
        : text,
    );
    const msgs = checkMachineRepo(root, 'task', 'SM-DEF-001', 'error').map((f) => `${f.line} ${f.message}`);
    expect(msgs).toContain('13 state "cancelled" is terminal in the engine but not here');
    expect(msgs.some((m) => /^4\d transition retrying --retry_delay_elapsed--> running is not in the machine the engine runs$/.test(m))).toBe(true);
    expect(msgs.some((m) => /the engine has transition retrying --retry_delay_elapsed--> queued, missing here$/.test(m))).toBe(true);
    expect(msgs.some((m) => /^20 transition queued --worker_started--> running: guard "retries_remaining" means retries_remaining but the engine guards it with worker_has_capabilities$/.test(m))).toBe(true);
    expect(msgs.some((m) => /guard "lint_clean" is neither a guard of the engine's task machine/.test(m))).toBe(true);
  });

  it('a state the engine does not have and a wrong initial state are reported', () => {
    const up = parseUpstreamMachineYaml('states: [initializing, idle, busy, unresponsive, shutdown, paused]\nterminal: [shutdown]\ninitial: idle\ntransitions: []\n', 'w.yaml');
    const msgs = upstreamDriftFindings(up.machine!, DEFINITIONS.worker, 'SM-DEF-003', 'warning').map((f) => f.message);
    expect(msgs).toContain('state "paused" is not in the machine the engine runs');
    expect(msgs).toContain('initial state is "idle" here but "initializing" in the engine');
    expect(msgs.filter((m) => /missing here$/.test(m)).length).toBe(DEFINITIONS.worker.transitions.length);
  });

  it('bad shapes are located problems, never exceptions', () => {
    expect(parseUpstreamMachineYaml('states: [a]\ntransitions:\n  - from: a\n    trigger: go\n', 'x.yaml').problems).toEqual([{ line: 3, column: 5, message: 'a transition needs from, to and trigger' }]);
    expect(parseUpstreamMachineYaml('states: [a]\ntransitions:\n  - { from: a, to: b, trigger: go }\n', 'x.yaml').problems[0]!.message).toBe('target "b" is not listed under states');
    expect(parseUpstreamMachineYaml('states: [a\n', 'x.yaml').problems[0]!.message).toMatch(/^YAML syntax/);
  });

  it('docs/state_machines/UPSTREAM_LAYOUT.md lists exactly the alias table the code uses', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', 'docs/state_machines/UPSTREAM_LAYOUT.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([^`]+)` \| `([^`]+)` \|$/gm)].map((m) => `${m[1]} -> ${m[2]}`);
    const code = Object.values(GUARD_ALIASES).flatMap((t) => Object.entries(t).map(([a, b]) => `${a} -> ${b}`));
    expect(rows).toEqual(code);
    for (const [kind, table] of Object.entries(GUARD_ALIASES)) {
      const guards = new Set(DEFINITIONS[kind as keyof typeof DEFINITIONS].transitions.flatMap((t) => (t.guard ? [t.guard] : [])));
      for (const target of Object.values(table)) expect(guards.has(target), `${kind}: ${target}`).toBe(true);
    }
  });
});

describe('our own layout stays the engine definition', () => {
  it('the repository copies still pass', () => {
    const root = join(tmp, 'own');
    cpSync(join(import.meta.dirname, '..', 'docs/state_machines'), join(root, 'docs/state_machines'), { recursive: true });
    for (const kind of MACHINE_KINDS) expect(checkMachineRepo(root, kind, REQ[kind], 'error').filter((f) => f.severity === 'error')).toEqual([]);
  });
});
