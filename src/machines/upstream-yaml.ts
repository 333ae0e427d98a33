/**
 * Lifecycle YAML in the upstream project's layout, checked against the
 * machines the engine runs (SM-DEF-001..003). The engine's own layout
 * (docs/state_machines/*.yaml, `states.<s>.on.<trigger>`) stays the single
 * definition the engine is built from; a file in the upstream layout is only
 * compared with it: same states, same terminal states, same edges
 * (from, trigger, to); guard names may differ through GUARD_ALIASES, which
 * docs/state_machines/UPSTREAM_LAYOUT.md lists (a test keeps the two equal).
 *
 * Upstream layout (every form below is accepted):
 *   states:            a list of names or of { name, terminal/final, description },
 *                      or a mapping name → { terminal: true, … },
 *                      or a mapping of groups { initial, terminal, intermediate, … } → names
 *   terminal:          (optional, also terminal_states / final_states) a list of names
 *   initial:           (optional, also initial_state) a name
 *   transitions:       a list of { from (name, list or "*"), to, trigger (or event, on),
 *                      guards (list or name; also guard, conditions) }
 * "*" / "any" as `from` means every non-terminal state.
 *
 * Public API (internal, for the SM-DEF rules and tests):
 *   isUpstreamLayout(text) → boolean, parseUpstreamMachineYaml(text, file),
 *   upstreamDriftFindings(parsed, engine, requirement, severity), GUARD_ALIASES.
 * Integration points: src/machines/conformance.ts (checkMachineRepo).
 * Dependencies: yaml (loaded when a file is parsed: ../core/yaml-lib.js), ./definitions.js (types), ../model.js.
 */
import type { Node as YamlNode } from 'yaml';
import { yamlLib } from '../core/yaml-lib.js';
import type { Finding } from '../model.js';
import type { MachineDefinition, MachineKind, MachineYamlProblem } from './definitions.js';

/**
 * Upstream guard name → the engine's guard, per machine. Names are compared
 * after lower-casing and turning spaces, dashes and dots into underscores.
 */
export const GUARD_ALIASES: Record<MachineKind, Record<string, string>> = {
  task: {
    all_dependencies_completed: 'dependencies_completed',
    dependencies_met: 'dependencies_completed',
    dependencies_satisfied: 'dependencies_completed',
    all_dependencies_met: 'dependencies_completed',
    worker_available: 'worker_has_capabilities',
    capable_worker_available: 'worker_has_capabilities',
    worker_has_capability: 'worker_has_capabilities',
    has_required_capabilities: 'worker_has_capabilities',
    exit_code_0: 'exit_code_zero',
    exit_code_success: 'exit_code_zero',
    execution_succeeded: 'exit_code_zero',
    retry_count_lt_max_retries: 'retries_remaining',
    'retry_count_<_max_retries': 'retries_remaining',
    retries_available: 'retries_remaining',
    can_retry: 'retries_remaining',
    under_retry_limit: 'retries_remaining',
    retry_count_gte_max_retries: 'retries_exhausted',
    'retry_count_>=_max_retries': 'retries_exhausted',
    max_retries_reached: 'retries_exhausted',
    max_retries_exceeded: 'retries_exhausted',
    retries_exceeded: 'retries_exhausted',
    cannot_retry: 'retries_exhausted',
  },
  workstream: {
    all_tasks_created: 'derived_ready',
    tasks_created: 'derived_ready',
    any_task_running: 'derived_executing',
    first_task_started: 'derived_executing',
    all_tasks_completed: 'derived_validating',
    critical_task_failed: 'derived_failed',
  },
  worker: {
    task_in_progress: 'has_current_task',
    has_task: 'has_current_task',
    has_assigned_task: 'has_current_task',
  },
};

export const normalizeGuardName = (name: string): string => name.trim().toLowerCase().replace(/[\s.-]+/g, '_');

export interface UpstreamTransition {
  from: string;
  to: string;
  trigger: string;
  guards: string[];
  line: number;
}

export interface UpstreamMachine {
  file: string;
  states: string[];
  terminal: string[];
  initial?: string;
  transitions: UpstreamTransition[];
  stateLines: Map<string, number>;
}

/** A root mapping with a `transitions:` list is the upstream layout (ours has `states.<s>.on`). */
export function isUpstreamLayout(text: string): boolean {
  const { isMap, isSeq, parseDocument } = yamlLib();
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return false;
  const root = doc.contents;
  return isMap(root) && isSeq(root.get('transitions', true));
}

export function parseUpstreamMachineYaml(text: string, file: string): { machine?: UpstreamMachine; problems: MachineYamlProblem[] } {
  const { LineCounter, isMap, isScalar, isSeq, parseDocument } = yamlLib();
  const problems: MachineYamlProblem[] = [];
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const pos = (node: unknown): { line: number; column: number } => {
    const range = (node as YamlNode | undefined)?.range;
    if (!range) return { line: 1, column: 1 };
    const p = lc.linePos(range[0]);
    return { line: p.line, column: p.col };
  };
  const problem = (node: unknown, message: string): void => void problems.push({ ...pos(node), message });
  for (const err of doc.errors) {
    const p = err.linePos?.[0];
    problems.push({ line: p?.line ?? 1, column: p?.col ?? 1, message: `YAML syntax: ${err.message.split('\n')[0]}` });
  }
  if (problems.length) return { problems };
  const root = doc.contents;
  if (!isMap(root)) return { problems: [{ line: 1, column: 1, message: 'the file must be a YAML mapping with states and transitions' }] };
  const get = (map: unknown, ...keys: string[]): unknown => {
    if (!isMap(map)) return undefined;
    for (const k of keys) {
      const v = map.get(k, true);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const str = (node: unknown): string | undefined => (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number') ? String(node.value) : undefined);
  const names = (node: unknown): Array<{ name: string; node: unknown }> => {
    if (isSeq(node)) return node.items.flatMap((it) => (str(it) !== undefined ? [{ name: str(it) as string, node: it }] : []));
    const one = str(node);
    return one !== undefined ? [{ name: one, node }] : [];
  };

  const states: string[] = [];
  const terminal = new Set<string>();
  const stateLines = new Map<string, number>();
  let initial: string | undefined;
  const addState = (name: string, node: unknown): void => {
    if (stateLines.has(name)) return;
    states.push(name);
    stateLines.set(name, pos(node).line);
  };
  const truthy = (node: unknown): boolean => isScalar(node) && node.value === true;
  const statesNode = get(root, 'states');
  if (isSeq(statesNode)) {
    for (const item of statesNode.items) {
      const plain = str(item);
      if (plain !== undefined) addState(plain, item);
      else if (isMap(item)) {
        const name = str(get(item, 'name', 'id', 'state'));
        if (!name) {
          problem(item, 'a state entry needs a name');
          continue;
        }
        addState(name, item);
        const type = str(get(item, 'type'));
        if (truthy(get(item, 'terminal', 'final')) || type === 'terminal' || type === 'final') terminal.add(name);
        if (truthy(get(item, 'initial')) || type === 'initial') initial = name;
      }
    }
  } else if (isMap(statesNode)) {
    const groups = statesNode.items.every((p) => isSeq(p.value) || (isScalar(p.value) && typeof p.value.value === 'string'));
    for (const pair of statesNode.items) {
      const key = str(pair.key) ?? '';
      if (groups) {
        for (const { name, node } of names(pair.value)) {
          addState(name, node);
          if (/^(terminal|final)(_states)?$/.test(key)) terminal.add(name);
          if (/^initial(_state)?$/.test(key)) initial = name;
        }
      } else {
        addState(key, pair.key);
        const type = str(get(pair.value, 'type'));
        if (truthy(get(pair.value, 'terminal', 'final')) || type === 'terminal' || type === 'final') terminal.add(key);
        if (truthy(get(pair.value, 'initial')) || type === 'initial') initial = key;
      }
    }
  } else {
    problem(statesNode ?? root, '"states" must list the states (a list, or a mapping)');
  }
  for (const { name, node } of names(get(root, 'terminal', 'terminal_states', 'final_states'))) {
    if (!stateLines.has(name)) problem(node, `terminal state "${name}" is not listed under states`);
    terminal.add(name);
  }
  const initialNode = get(root, 'initial', 'initial_state');
  if (str(initialNode)) initial = str(initialNode);

  const transitions: UpstreamTransition[] = [];
  const list = get(root, 'transitions');
  if (isSeq(list)) {
    for (const item of list.items) {
      if (!isMap(item)) {
        problem(item, 'each transition is a mapping with from, to and trigger');
        continue;
      }
      const to = str(get(item, 'to', 'target'));
      const trigger = str(get(item, 'trigger', 'event', 'on'));
      const fromNode = get(item, 'from', 'source');
      let froms = names(fromNode).map((n) => n.name);
      if (!to || !trigger || froms.length === 0) {
        problem(item, 'a transition needs from, to and trigger');
        continue;
      }
      if (froms.some((x) => x === '*' || x === 'any')) froms = states.filter((s) => !terminal.has(s));
      const guards = [...names(get(item, 'guards', 'guard', 'conditions', 'condition')).map((n) => n.name)];
      if (!stateLines.has(to)) problem(get(item, 'to', 'target'), `target "${to}" is not listed under states`);
      for (const from of froms) {
        if (!stateLines.has(from)) problem(fromNode, `source "${from}" is not listed under states`);
        transitions.push({ from, to, trigger, guards, line: pos(item).line });
      }
    }
  }
  if (problems.length) return { problems };
  return { machine: { file, states, terminal: [...terminal], ...(initial ? { initial } : {}), transitions, stateLines }, problems };
}

const key = (t: { from: string; trigger: string; to: string }): string => `${t.from} --${t.trigger}--> ${t.to}`;

/** The upstream-layout file against the machine the engine runs. */
export function upstreamDriftFindings(up: UpstreamMachine, engine: MachineDefinition, requirement: string, severity: Finding['severity']): Finding[] {
  const out: Finding[] = [];
  const fix = `the engine runs ${engine.file} as shipped with orc-state; make this file list the same states and edges (guard names may use the aliases in docs/state_machines/UPSTREAM_LAYOUT.md)`;
  const F = (line: number, message: string): void => void out.push({ requirement, severity, file: up.file, line, column: 1, message, fix });
  for (const s of engine.states) if (!up.states.includes(s)) F(1, `the engine's ${engine.kind} machine has state "${s}", missing here`);
  for (const s of up.states) if (!engine.states.includes(s)) F(up.stateLines.get(s) ?? 1, `state "${s}" is not in the machine the engine runs`);
  for (const s of engine.finalStates) if (up.states.includes(s) && !up.terminal.includes(s)) F(up.stateLines.get(s) ?? 1, `state "${s}" is terminal in the engine but not here`);
  for (const s of up.terminal) if (engine.states.includes(s) && !engine.finalStates.includes(s)) F(up.stateLines.get(s) ?? 1, `state "${s}" is terminal here but not in the engine`);
  if (up.initial && engine.creation.to && up.initial !== engine.creation.to) F(1, `initial state is "${up.initial}" here but "${engine.creation.to}" in the engine`);
  const eng = new Map(engine.transitions.map((t) => [key(t), t]));
  const seen = new Set<string>();
  const engineGuards = new Set(engine.transitions.flatMap((t) => (t.guard ? [t.guard] : [])));
  const aliases = GUARD_ALIASES[engine.kind];
  for (const t of up.transitions) {
    const k = key(t);
    seen.add(k);
    const e = eng.get(k);
    if (!e) {
      F(t.line, `transition ${k} is not in the machine the engine runs`);
      continue;
    }
    if (t.guards.length === 0) continue; // guards not written here: nothing to compare
    const mapped = t.guards.map((g) => {
      const n = normalizeGuardName(g);
      return engineGuards.has(n) ? n : aliases[n];
    });
    t.guards.forEach((g, i) => {
      if (mapped[i] === undefined) F(t.line, `transition ${k}: guard "${g}" is neither a guard of the engine's ${engine.kind} machine (${[...engineGuards].join(', ') || 'none'}) nor an alias of one`);
    });
    const known = mapped.filter((m): m is string => m !== undefined);
    if (known.length > 0 && (!e.guard || known.some((m) => m !== e.guard))) {
      F(t.line, `transition ${k}: guard ${t.guards.map((g) => `"${g}"`).join(', ')} means ${[...new Set(known)].join(', ')} but the engine guards it with ${e.guard ?? '(no guard)'}`);
    }
  }
  for (const [k] of eng) if (!seen.has(k)) F(up.stateLines.get(k.split(' ')[0] as string) ?? 1, `the engine has transition ${k}, missing here`);
  return out;
}
