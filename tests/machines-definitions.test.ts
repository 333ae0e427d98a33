import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { XMACHINES } from '../src/machines/build.js';
import { driftFindings, specFindings, xstateFindings } from '../src/machines/conformance.js';
import { DEFINITIONS, MACHINES, MACHINE_KINDS, machineFile, parseMachineYaml } from '../src/machines/definitions.js';
import { GUARDS } from '../src/machines/guards.js';
import { packageRoot } from '../src/paths.js';

const yamlText = (kind: (typeof MACHINE_KINDS)[number]): string => readFileSync(join(packageRoot(), machineFile(kind)), 'utf8');

describe('lifecycle YAML is the single definition', () => {
  test('every machine satisfies the requirement catalog (SM-DEF-001..003)', () => {
    for (const kind of MACHINE_KINDS) {
      expect(specFindings(DEFINITIONS[kind], 'X', 'error'), kind).toEqual([]);
    }
  });

  test('the xstate machines are built from the YAML and agree with it', () => {
    for (const kind of MACHINE_KINDS) {
      expect(xstateFindings(kind, 'X', 'error'), kind).toEqual([]);
      const root = XMACHINES[kind].machine.root;
      expect(Object.keys(root.states)).toEqual(DEFINITIONS[kind].states);
    }
  });

  test('every YAML guard has an implementation and every implementation is used', () => {
    const used = new Set<string>();
    for (const kind of MACHINE_KINDS) {
      for (const name of DEFINITIONS[kind].guards.keys()) {
        expect(GUARDS[name], `${kind} guard ${name}`).toBeDefined();
      }
      for (const t of DEFINITIONS[kind].transitions) if (t.guard) used.add(t.guard);
    }
    expect([...used].sort()).toEqual(Object.keys(GUARDS).sort());
  });

  test('MACHINES lists states, terminal states, triggers (creation first) and transitions', () => {
    expect(MACHINES.task.states).toEqual(['pending', 'queued', 'running', 'validating', 'retrying', 'completed', 'failed', 'cancelled']);
    expect(MACHINES.task.finalStates).toEqual(['completed', 'failed', 'cancelled']);
    expect(MACHINES.task.triggers[0]).toBe('task_created');
    expect(MACHINES.workstream.triggers[0]).toBe('workstream_created');
    expect(MACHINES.worker.triggers[0]).toBe('worker_registered');
    expect(MACHINES.worker.finalStates).toEqual(['shutdown']);
    const timeout = MACHINES.task.transitions.filter((t) => t.trigger === 'task_timeout');
    expect(timeout.map((t) => [t.to, t.guard, t.severity])).toEqual([
      ['retrying', 'retries_remaining', 'warning'],
      ['failed', 'retries_exhausted', 'error'],
    ]);
    const unresponsive = MACHINES.worker.transitions.filter((t) => t.trigger === 'health_check_timeout');
    expect(unresponsive.every((t) => t.severity === 'critical' && t.event === 'worker_unresponsive')).toBe(true);
  });
});

describe('parseMachineYaml reports located problems', () => {
  const base = yamlText('task');
  const problemsOf = (text: string): string[] => parseMachineYaml(text, 'x.yaml', 'task').problems.map((p) => `${p.line}: ${p.message}`);

  test('the shipped files parse cleanly', () => {
    for (const kind of MACHINE_KINDS) expect(parseMachineYaml(yamlText(kind), machineFile(kind), kind).problems).toEqual([]);
  });

  test('unknown target state', () => {
    const text = base.replace('        - to: queued\n          guard: dependencies_completed\n          event: task_queued', '        - to: enqueued\n          guard: dependencies_completed\n          event: task_queued');
    const line = text.split('\n').findIndex((l) => l.includes('to: enqueued')) + 1;
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toBe(`${line}: pending --scheduler_assigned--> target "enqueued" is not a state of this machine`);
  });

  test('undeclared and unused guards', () => {
    const undeclared = problemsOf(base.replace('guard: exit_code_zero', 'guard: exit_code_is_zero'));
    expect(undeclared.some((p) => p.includes('guard "exit_code_is_zero" is not declared'))).toBe(true);
    expect(undeclared.some((p) => p.includes('guard "exit_code_zero" is declared but no transition uses it'))).toBe(true);
  });

  test('an unguarded transition before another makes it unreachable', () => {
    const text = base.replace('        - to: retrying\n          guard: retries_remaining\n          event: task_retry', '        - to: retrying\n          event: task_retry');
    expect(problemsOf(text).some((p) => p.includes('has no guard, so the transitions after it can never be taken'))).toBe(true);
  });

  test('a final state with transitions, a bad severity, a YAML syntax error', () => {
    const finalWithOn = base.replace('  completed:\n    final: true\n', '  completed:\n    final: true\n    on:\n      validation_passed:\n        - to: failed\n          event: task_failed\n          severity: error\n');
    expect(problemsOf(finalWithOn).some((p) => p.includes('final state completed must not have transitions'))).toBe(true);
    const badSeverity = base.replace('          event: task_retry\n          severity: warning', '          event: task_retry\n          severity: loud');
    expect(problemsOf(badSeverity).some((p) => p.includes('severity must be one of'))).toBe(true);
    const syntax = problemsOf(`${base}\n  broken: [\n`);
    expect(syntax[0]).toMatch(/YAML syntax/);
  });

  test('a file for another machine', () => {
    expect(problemsOf(yamlText('worker')).some((p) => p.includes('"machine" is worker but this file defines the task machine'))).toBe(true);
  });
});

describe('drift and catalog checks catch an edited copy', () => {
  test('a removed transition is missing from the spec and drifts from the engine', () => {
    const text = yamlText('workstream').replace(
      '      validation_failed:\n        - to: failed\n          event: workstream_failed\n          severity: error\n',
      '',
    );
    const def = parseMachineYaml(text, 'docs/state_machines/workstream_lifecycle.yaml', 'workstream').definition;
    expect(def).toBeDefined();
    const spec = specFindings(def!, 'SM-DEF-002', 'error');
    expect(spec.map((f) => f.message)).toContain('missing transition validating --validation_failed--> failed (SM-DEF-002)');
    const drift = driftFindings(def!, DEFINITIONS.workstream, 'SM-DEF-002', 'error');
    expect(drift.map((f) => f.message)).toContain('the engine has transition validating --validation_failed--> failed, missing here');
  });

  test('a changed severity and an extra task transition are reported at their lines', () => {
    const text = yamlText('task')
      .replace('          event: task_retry\n          severity: warning', '          event: task_retry\n          severity: info')
      .replace('      retry_delay_elapsed:\n', '      user_cancelled:\n        - to: cancelled\n          event: task_cancelled\n          severity: info\n      retry_delay_elapsed:\n');
    const def = parseMachineYaml(text, 'f.yaml', 'task').definition!;
    const spec = specFindings(def, 'SM-DEF-001', 'error');
    const lines = text.split('\n');
    const retryLine = lines.findIndex((l, i) => l.includes('- to: retrying') && lines[i + 2]?.includes('task_retry')) + 1;
    expect(spec).toContainEqual(expect.objectContaining({ line: retryLine, message: expect.stringContaining('must log severity warning') }));
    expect(spec.map((f) => f.message)).toContain('transition retrying --user_cancelled--> cancelled is not in SM-DEF-001');
  });
});

describe('fast selection agrees with xstate pure transition()', () => {
  test('step (getTransitionData) and stepPure (transition) decide alike for every state, trigger and guard outcome', async () => {
    const { step, stepPure } = await import('../src/machines/build.js');
    const envs = [
      { retry_count: 0, exit: 0, caps: ['py'], current: 'T', deps: 'completed', derived: 'ready' },
      { retry_count: 2, exit: 1, caps: [], current: null, deps: 'running', derived: 'failed' },
      { retry_count: 1, exit: 0, caps: ['py'], current: null, deps: 'completed', derived: 'validating' },
      { retry_count: 0, exit: 0, caps: ['py'], current: 'T', deps: 'completed', derived: 'executing' },
    ];
    let compared = 0;
    for (const kind of MACHINE_KINDS) {
      for (const from of DEFINITIONS[kind].states) {
        for (const trigger of DEFINITIONS[kind].triggers) {
          for (const e of envs) {
            const env = {
              state: {
                tasks: new Map([['D', { status: e.deps }]]),
                workstreams: new Map(),
                workers: new Map([['w1', { worker_id: 'w1', status: 'idle', capabilities: e.caps, current_task: null }]]),
                last_seq: 0,
                timestamp: '',
              },
              defs: new Map([['T', { dependencies: ['D'], worker_requirements: { capabilities: ['py'] } }]]),
              req: { entity_type: kind, entity_id: 'T', trigger, timestamp: '', worker_id: 'w1', metadata: { exit_code: e.exit } },
              task: { retry_count: e.retry_count, max_retries: 1 },
              worker: { current_task: e.current },
              derived: { status: e.derived, trigger: '' },
            } as never;
            const a = step(kind, from, trigger, env);
            const b = stepPure(kind, from, trigger, env);
            expect(a, `${kind} ${from} ${trigger}`).toEqual(b);
            compared++;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(500);
  });
});
