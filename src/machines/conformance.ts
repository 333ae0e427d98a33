/**
 * Checks behind rules SM-DEF-001..003: a repository's lifecycle YAML matches
 * the requirement catalog and the machines the engine runs, the xstate
 * machines agree with their YAML, STATE_MACHINE.md names every state and
 * trigger, and `.state/current.json` holds only known states and satisfies
 * the machine invariants (and, for workstreams, the Decision 7 derivation).
 *
 * Public API (internal, for the SM-DEF rules and tests):
 *   - SPEC: what the catalog requires of each machine.
 *   - specFindings(definition, requirement, severity): catalog conformance.
 *   - driftFindings(repoDef, engineDef, requirement, severity): repo YAML vs engine.
 *   - xstateFindings(kind, requirement, severity): built machine vs its YAML.
 *   - checkMachineRepo(root, kind, requirement, severity, inputs): all of the above
 *     plus docs and snapshot checks, as located Findings; with inputs.fix a
 *     missing YAML is written from the package (a notice), never overwritten.
 *     A YAML in the upstream layout (states + a transitions list) is accepted
 *     and compared with the engine's machine by ./upstream-yaml.ts.
 * Integration points: src/compliance/rules/SM-DEF-00{1,2,3}.ts.
 * Dependencies: node:fs, yaml (via ./definitions.js), ./build.js, ./index.js, ./upstream-yaml.js,
 * ../io/atomic-write.js, ../paths.js,
 * ../io/located-json.js (locateInText), ../model.js.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileDurableSync } from '../io/atomic-write.js';
import { locateInText } from '../io/located-json.js';
import { packageRoot } from '../paths.js';
import type { Finding, Severity, Snapshot, TaskDefinition } from '../model.js';
import { XMACHINES } from './build.js';
import { DEFINITIONS, machineFile, parseMachineYaml, type MachineDefinition, type MachineKind } from './definitions.js';
import { deriveWorkstreamStatus, fromSnapshot, invariantViolations, isFinalState, type InvariantViolation } from './index.js';
import type { LiveState } from './types.js';
import { isUpstreamLayout, parseUpstreamMachineYaml, upstreamDriftFindings } from './upstream-yaml.js';

type FSev = Finding['severity'];

interface SpecTransition {
  /** '*' = from at least one state. */
  from: string;
  trigger: string;
  /** '*' = any target. */
  to: string;
  guard?: string;
  severity?: Severity;
}

interface MachineSpec {
  states: string[];
  finalStates: string[];
  triggers: string[];
  transitions: SpecTransition[];
  /** The catalog lists every transition (task machine): no others allowed. */
  exhaustive: boolean;
  /** Every transition with this trigger must lead to this state. */
  triggerTargets?: Record<string, string>;
}

export const SPEC: Record<MachineKind, MachineSpec> = {
  task: {
    states: ['pending', 'queued', 'running', 'validating', 'retrying', 'completed', 'failed', 'cancelled'],
    finalStates: ['completed', 'failed', 'cancelled'],
    triggers: [
      'scheduler_assigned',
      'worker_started',
      'execution_completed',
      'execution_failed',
      'task_timeout',
      'retry_delay_elapsed',
      'validation_passed',
      'validation_failed',
      'user_cancelled',
    ],
    exhaustive: true,
    transitions: [
      { from: 'pending', trigger: 'scheduler_assigned', to: 'queued', guard: 'dependencies_completed' },
      { from: 'queued', trigger: 'worker_started', to: 'running', guard: 'worker_has_capabilities' },
      { from: 'running', trigger: 'execution_completed', to: 'validating' },
      { from: 'running', trigger: 'execution_failed', to: 'retrying', guard: 'retries_remaining', severity: 'warning' },
      { from: 'running', trigger: 'execution_failed', to: 'failed', guard: 'retries_exhausted', severity: 'error' },
      { from: 'running', trigger: 'task_timeout', to: 'retrying', guard: 'retries_remaining', severity: 'warning' },
      { from: 'running', trigger: 'task_timeout', to: 'failed', guard: 'retries_exhausted', severity: 'error' },
      { from: 'retrying', trigger: 'retry_delay_elapsed', to: 'queued' },
      { from: 'validating', trigger: 'validation_passed', to: 'completed', severity: 'info' },
      { from: 'validating', trigger: 'validation_failed', to: 'failed', severity: 'error' },
      { from: 'pending', trigger: 'user_cancelled', to: 'cancelled' },
      { from: 'queued', trigger: 'user_cancelled', to: 'cancelled' },
      { from: 'running', trigger: 'user_cancelled', to: 'cancelled' },
    ],
  },
  workstream: {
    states: ['planned', 'ready', 'executing', 'validating', 'completed', 'failed', 'cancelled'],
    finalStates: ['completed', 'failed', 'cancelled'],
    triggers: [
      'all_tasks_created',
      'first_task_started',
      'all_tasks_completed',
      'critical_task_failed',
      'workstream_timeout',
      'validation_passed',
      'validation_failed',
      'user_cancelled',
    ],
    exhaustive: false,
    transitions: [
      { from: '*', trigger: 'all_tasks_created', to: 'ready' },
      { from: '*', trigger: 'first_task_started', to: 'executing' },
      { from: '*', trigger: 'all_tasks_completed', to: 'validating' },
      { from: '*', trigger: 'critical_task_failed', to: 'failed' },
      { from: '*', trigger: 'workstream_timeout', to: 'failed' },
      { from: 'validating', trigger: 'validation_passed', to: 'completed' },
      { from: 'validating', trigger: 'validation_failed', to: 'failed' },
      { from: '*', trigger: 'user_cancelled', to: 'cancelled' },
    ],
    triggerTargets: {
      all_tasks_created: 'ready',
      first_task_started: 'executing',
      all_tasks_completed: 'validating',
      critical_task_failed: 'failed',
      workstream_timeout: 'failed',
      validation_passed: 'completed',
      validation_failed: 'failed',
      user_cancelled: 'cancelled',
    },
  },
  worker: {
    states: ['initializing', 'idle', 'busy', 'unresponsive', 'shutdown'],
    finalStates: ['shutdown'],
    triggers: [
      'registration_complete',
      'task_assigned',
      'task_completed',
      'health_check_timeout',
      'health_check_recovered',
      'max_timeout_exceeded',
      'shutdown_requested',
      'worker_crashed',
    ],
    exhaustive: false,
    transitions: [
      { from: 'initializing', trigger: 'registration_complete', to: 'idle' },
      { from: 'idle', trigger: 'task_assigned', to: 'busy' },
      { from: 'busy', trigger: 'task_completed', to: 'idle' },
      { from: 'idle', trigger: 'health_check_timeout', to: 'unresponsive', severity: 'critical' },
      { from: 'busy', trigger: 'health_check_timeout', to: 'unresponsive', severity: 'critical' },
      { from: 'unresponsive', trigger: 'health_check_recovered', to: '*' },
      { from: 'unresponsive', trigger: 'max_timeout_exceeded', to: 'shutdown' },
      { from: '*', trigger: 'shutdown_requested', to: 'shutdown' },
      { from: '*', trigger: 'worker_crashed', to: 'shutdown' },
    ],
    triggerTargets: { health_check_timeout: 'unresponsive', max_timeout_exceeded: 'shutdown', shutdown_requested: 'shutdown', worker_crashed: 'shutdown' },
  },
};

function f(requirement: string, severity: FSev, file: string, line: number, column: number, message: string, fix: string): Finding {
  return { requirement, severity, file, line, column, message, fix };
}

const describe = (t: SpecTransition): string =>
  `${t.from === '*' ? '(some state)' : t.from} --${t.trigger}--> ${t.to === '*' ? '(some state)' : t.to}`;

/** Does `def` satisfy what the catalog requires of its machine? */
export function specFindings(def: MachineDefinition, requirement: string, severity: FSev): Finding[] {
  const spec = SPEC[def.kind];
  const out: Finding[] = [];
  const at = (line: number | undefined): number => line ?? 1;
  const statesLine = Math.max(1, Math.min(...[...def.stateLines.values()]) - 1);
  for (const s of spec.states) {
    if (!def.states.includes(s)) {
      out.push(f(requirement, severity, def.file, statesLine, 1, `the ${def.kind} machine lacks state "${s}" (${requirement})`, `add state ${s} under "states:"`));
    }
  }
  for (const s of def.states) {
    if (!spec.states.includes(s)) {
      out.push(f(requirement, severity, def.file, at(def.stateLines.get(s)), 1, `state "${s}" is not a ${def.kind} state of ${requirement} (${spec.states.join(', ')})`, `remove state ${s} or rename it to one of the catalog's states`));
    }
  }
  for (const s of spec.finalStates) {
    if (def.states.includes(s) && !def.finalStates.includes(s)) {
      out.push(f(requirement, severity, def.file, at(def.stateLines.get(s)), 1, `state "${s}" must be terminal`, `add "final: true" to state ${s} and remove its transitions`));
    }
  }
  for (const s of def.finalStates) {
    if (spec.states.includes(s) && !spec.finalStates.includes(s)) {
      out.push(f(requirement, severity, def.file, at(def.stateLines.get(s)), 1, `state "${s}" must not be terminal`, `remove "final: true" from state ${s}`));
    }
  }
  for (const trig of spec.triggers) {
    if (!def.triggers.includes(trig)) {
      out.push(f(requirement, severity, def.file, statesLine, 1, `the ${def.kind} machine has no transition on trigger "${trig}"`, `add the ${trig} transition(s) required by ${requirement}`));
    }
  }
  for (const trig of def.triggers) {
    if (trig !== def.creation.trigger && !spec.triggers.includes(trig)) {
      out.push(f(requirement, severity, def.file, at(def.triggerLines.get(trig)), 1, `trigger "${trig}" is not a ${def.kind} trigger of ${requirement}`, `use the catalog's triggers: ${spec.triggers.join(', ')}`));
    }
  }
  for (const req of spec.transitions) {
    const match = def.transitions.filter(
      (t) => (req.from === '*' || t.from === req.from) && t.trigger === req.trigger && (req.to === '*' || t.to === req.to),
    );
    if (match.length === 0) {
      if (def.states.includes(req.from) || req.from === '*') {
        out.push(f(requirement, severity, def.file, at(def.stateLines.get(req.from)), 1, `missing transition ${describe(req)} (${requirement})`, `add it under states.${req.from === '*' ? '<state>' : req.from}.on.${req.trigger}`));
      }
      continue;
    }
    for (const t of match) {
      if (req.guard && t.guard !== req.guard) {
        out.push(f(requirement, severity, def.file, t.line, 1, `${t.from} --${t.trigger}--> ${t.to} must be guarded by ${req.guard}`, `set "guard: ${req.guard}"`));
      }
      if (req.severity && t.severity !== req.severity) {
        out.push(f(requirement, severity, def.file, t.line, 1, `${t.from} --${t.trigger}--> ${t.to} must log severity ${req.severity} (STATE-OBS-004), not ${t.severity}`, `set "severity: ${req.severity}"`));
      }
    }
  }
  if (spec.exhaustive) {
    for (const t of def.transitions) {
      const known = spec.transitions.some((r) => r.from === t.from && r.trigger === t.trigger && r.to === t.to);
      if (!known) {
        out.push(f(requirement, severity, def.file, t.line, 1, `transition ${t.from} --${t.trigger}--> ${t.to} is not in ${requirement}`, 'remove it: the catalog lists every task transition'));
      }
    }
  }
  for (const [trig, target] of Object.entries(spec.triggerTargets ?? {})) {
    for (const t of def.transitions.filter((x) => x.trigger === trig && x.to !== target)) {
      out.push(f(requirement, severity, def.file, t.line, 1, `trigger ${trig} must lead to ${target}, not ${t.to}`, `set "to: ${target}"`));
    }
  }
  return out;
}

const tkey = (t: { from: string; trigger: string; to: string }): string => `${t.from} --${t.trigger}--> ${t.to}`;

/** The repository's YAML against the machine the engine runs (they must be one definition). */
export function driftFindings(repo: MachineDefinition, engine: MachineDefinition, requirement: string, severity: FSev): Finding[] {
  const out: Finding[] = [];
  const file = repo.file;
  const fix = `the engine runs ${engine.file} as shipped with orc-state; keep the repository's copy identical (copy it from the orc-state package) or upgrade orc-state`;
  for (const s of engine.states) if (!repo.states.includes(s)) out.push(f(requirement, severity, file, 1, 1, `the engine's ${repo.kind} machine has state "${s}", missing here`, fix));
  for (const s of repo.states) if (!engine.states.includes(s)) out.push(f(requirement, severity, file, repo.stateLines.get(s) ?? 1, 1, `state "${s}" is not in the machine the engine runs`, fix));
  for (const s of repo.finalStates) {
    if (engine.states.includes(s) && !engine.finalStates.includes(s)) out.push(f(requirement, severity, file, repo.stateLines.get(s) ?? 1, 1, `state "${s}" is final here but not in the engine`, fix));
  }
  for (const s of engine.finalStates) {
    if (repo.states.includes(s) && !repo.finalStates.includes(s)) out.push(f(requirement, severity, file, repo.stateLines.get(s) ?? 1, 1, `state "${s}" is final in the engine but not here`, fix));
  }
  const eng = new Map(engine.transitions.map((t) => [tkey(t), t]));
  const rep = new Map(repo.transitions.map((t) => [tkey(t), t]));
  for (const [k, t] of rep) {
    const e = eng.get(k);
    if (!e) {
      out.push(f(requirement, severity, file, t.line, 1, `transition ${k} is not in the machine the engine runs`, fix));
      continue;
    }
    for (const field of ['guard', 'event', 'severity'] as const) {
      if ((e[field] ?? null) !== (t[field] ?? null)) {
        out.push(f(requirement, severity, file, t.line, 1, `transition ${k}: ${field} is ${String(t[field] ?? '(none)')} here but ${String(e[field] ?? '(none)')} in the engine`, fix));
      }
    }
  }
  for (const [k] of eng) if (!rep.has(k)) out.push(f(requirement, severity, file, repo.stateLines.get(k.split(' ')[0] as string) ?? 1, 1, `the engine has transition ${k}, missing here`, fix));
  if (repo.creation.trigger !== engine.creation.trigger || (repo.creation.to ?? null) !== (engine.creation.to ?? null)) {
    out.push(f(requirement, severity, file, repo.creation.line, 1, `creation (${repo.creation.trigger} -> ${repo.creation.to ?? 'definition status'}) differs from the engine's (${engine.creation.trigger} -> ${engine.creation.to ?? 'definition status'})`, fix));
  }
  return out;
}

/** The xstate machine built at load time against the YAML it was built from. */
export function xstateFindings(kind: MachineKind, requirement: string, severity: FSev): Finding[] {
  const def = DEFINITIONS[kind];
  const built = XMACHINES[kind].machine;
  const out: Finding[] = [];
  const nodes = built.root.states as Record<string, { type: string; transitions: Map<string, Array<{ target?: Array<{ key: string }>; guard?: unknown }>> }>;
  const names = Object.keys(nodes);
  if (names.join(',') !== def.states.join(',')) {
    out.push(f(requirement, severity, def.file, 1, 1, `the xstate ${kind} machine has states ${names.join(', ')} but the YAML ${def.states.join(', ')}`, 'report a bug in orc-state: src/machines/build.ts'));
  }
  const seen = new Set<string>();
  for (const [from, node] of Object.entries(nodes)) {
    if ((node.type === 'final') !== def.finalStates.includes(from)) {
      out.push(f(requirement, severity, def.file, def.stateLines.get(from) ?? 1, 1, `xstate state ${from} final=${node.type === 'final'} disagrees with the YAML`, 'report a bug in orc-state: src/machines/build.ts'));
    }
    for (const [trigger, list] of node.transitions) {
      for (const t of list) {
        const to = t.target?.[0]?.key ?? from;
        const guard = typeof t.guard === 'string' ? t.guard : undefined;
        const k = tkey({ from, trigger, to });
        seen.add(k);
        const y = def.transitions.find((x) => tkey(x) === k);
        if (!y || (y.guard ?? undefined) !== guard) {
          out.push(f(requirement, severity, def.file, def.stateLines.get(from) ?? 1, 1, `xstate transition ${k}${guard ? ` [${guard}]` : ''} is not in the YAML`, 'report a bug in orc-state: src/machines/build.ts'));
        }
      }
    }
  }
  for (const t of def.transitions) {
    if (!seen.has(tkey(t))) out.push(f(requirement, severity, def.file, t.line, 1, `YAML transition ${tkey(t)} is missing from the xstate machine`, 'report a bug in orc-state: src/machines/build.ts'));
  }
  return out;
}

const STATE_MACHINE_DOC = 'docs/execution_model/STATE_MACHINE.md';

function docMentionFindings(root: string, def: MachineDefinition, requirement: string): Finding[] {
  const abs = join(root, STATE_MACHINE_DOC);
  if (!existsSync(abs)) return []; // EXEC-DOC-001 reports the missing document
  const text = readFileSync(abs, 'utf8');
  const lines = text.split('\n');
  const headingLine = (name: string): number => {
    const i = lines.findIndex((l) => new RegExp(`^##\\s+${name}\\b`, 'i').test(l));
    return i >= 0 ? i + 1 : 1;
  };
  const out: Finding[] = [];
  const mentioned = (name: string): boolean => new RegExp(`(^|[^A-Za-z0-9_])${name}([^A-Za-z0-9_]|$)`).test(text);
  // Reported as warnings: EXEC-DOC-003 owns the failing check of the same document.
  for (const s of def.states) {
    if (!mentioned(s)) out.push(f(requirement, 'warning', STATE_MACHINE_DOC, headingLine('States'), 1, `the ${def.kind} state "${s}" (${def.file}) is not mentioned`, `describe \`${s}\` under "## States"`));
  }
  for (const t of def.triggers) {
    if (!mentioned(t)) out.push(f(requirement, 'warning', STATE_MACHINE_DOC, headingLine('Triggers'), 1, `the ${def.kind} trigger "${t}" (${def.file}) is not mentioned`, `describe \`${t}\` under "## Triggers"`));
  }
  return out;
}

/**
 * The live state of a snapshot and its invariant violations (every kind), made once per snapshot and set of
 * definitions: SM-DEF-001 and SM-DEF-003 each keep the violations of their kind. null when the snapshot
 * does not load into a live state.
 */
const liveCache = new WeakMap<Snapshot, WeakMap<ReadonlyMap<string, TaskDefinition>, { live: LiveState; violations: () => InvariantViolation[] } | null>>();
function liveOf(s: Snapshot, defs: ReadonlyMap<string, TaskDefinition>): { live: LiveState; violations: () => InvariantViolation[] } | null {
  let byDefs = liveCache.get(s);
  if (!byDefs) liveCache.set(s, (byDefs = new WeakMap()));
  if (byDefs.has(defs)) return byDefs.get(defs) ?? null;
  let entry: { live: LiveState; violations: () => InvariantViolation[] } | null;
  try {
    const live = fromSnapshot({ ...s, tasks: s.tasks ?? [], workstreams: s.workstreams ?? [], workers: s.workers ?? [] });
    let found: InvariantViolation[] | undefined;
    entry = { live, violations: () => (found ??= invariantViolations(live, defs)) };
  } catch {
    entry = null;
  }
  byDefs.set(defs, entry);
  return entry;
}

export interface SnapshotInput {
  file: string;
  snapshot: Snapshot | null;
  text: string | null;
}

function snapshotFindings(
  kind: MachineKind,
  snap: SnapshotInput,
  defs: ReadonlyMap<string, TaskDefinition>,
  requirement: string,
  severity: FSev,
): Finding[] {
  const s = snap.snapshot;
  if (!s || snap.text === null) return [];
  const text = snap.text;
  const out: Finding[] = [];
  const states = new Set(DEFINITIONS[kind].states);
  const list: Array<{ id: string; status: unknown }> =
    kind === 'task'
      ? (s.tasks ?? []).map((t) => ({ id: t.task_id, status: t.status }))
      : kind === 'workstream'
        ? (s.workstreams ?? []).map((w) => ({ id: w.workstream_id, status: w.status }))
        : (s.workers ?? []).map((w) => ({ id: w.worker_id, status: w.status }));
  const arrayKey = kind === 'task' ? 'tasks' : kind === 'workstream' ? 'workstreams' : 'workers';
  const indexOf = new Map<string, number>();
  list.forEach((e, i) => {
    indexOf.set(e.id, i);
    if (typeof e.status !== 'string' || !states.has(e.status)) {
      const at = locateInText(text, [arrayKey, i, 'status']);
      out.push(f(requirement, severity, snap.file, at.line, at.column, `${kind} ${e.id} has status "${String(e.status)}", not a state of the ${kind} machine (${[...states].join(', ')})`, 'current.json is written by the engine only: run `orc-state doctor --repair` to rebuild it from the log'));
    }
  });
  if (out.length) return out; // invariants are meaningless over unknown states
  const replayed = liveOf(s, defs);
  if (!replayed) return out;
  const live = replayed.live;
  if (kind !== 'workstream') {
    for (const v of replayed.violations()) {
      if (v.entity_type !== kind) continue;
      const i = indexOf.get(v.entity_id) ?? 0;
      const at = locateInText(text, [arrayKey, i]);
      out.push(f(requirement, severity, snap.file, at.line, at.column, `invariant ${v.invariant} violated: ${v.message}`, 'run `orc-state doctor` to compare the snapshot with a replay of the log; never edit current.json by hand'));
    }
  } else {
    const isCritical = (id: string): boolean => defs.get(id)?.critical === true;
    for (const w of s.workstreams ?? []) {
      if (isFinalState('workstream', w.status) || w.status === 'validating') continue;
      const d = deriveWorkstreamStatus(live, w.workstream_id, isCritical);
      if (d && d.status !== w.status) {
        const at = locateInText(text, ['workstreams', indexOf.get(w.workstream_id) ?? 0, 'status']);
        out.push(f(requirement, severity, snap.file, at.line, at.column, `workstream ${w.workstream_id} is ${w.status} but its tasks derive ${d.status} (Decision 7, trigger ${d.trigger})`, 'run `orc-state sync` (the engine re-derives workstream status after every task event) or `orc-state doctor`'));
      }
    }
  }
  return out;
}

export interface MachineCheckInputs {
  snapshot?: SnapshotInput | null;
  defs?: ReadonlyMap<string, TaskDefinition>;
  /** --fix: write the engine's lifecycle YAML where the repository has none (never overwrites). */
  fix?: boolean;
  /** false (runtime gate profile): leave out the repository's documents (the YAML and STATE_MACHINE.md). */
  documents?: boolean;
}

export function checkMachineRepo(root: string, kind: MachineKind, requirement: string, severity: FSev, inputs: MachineCheckInputs = {}): Finding[] {
  const file = machineFile(kind);
  const abs = join(root, file);
  const out: Finding[] = [];
  const documents = inputs.documents !== false;
  if (documents && !existsSync(abs) && inputs.fix) {
    mkdirSync(dirname(abs), { recursive: true });
    writeFileDurableSync(abs, readFileSync(join(packageRoot(), file)));
    out.push(f(requirement, 'notice', file, 1, 1, `wrote ${file}: the ${kind} lifecycle the engine runs`, 'none needed'));
  }
  if (!documents) {
    // runtime profile: the engine's own definition is checked below (xstate build, snapshot invariants)
  } else if (!existsSync(abs)) {
    out.push(f(requirement, severity, file, 1, 1, `${file} is missing: the ${kind} lifecycle must be documented as YAML`, `run \`orc-state validate --fix\` to copy it from the orc-state package (it is the definition the engine runs)`));
  } else {
    const text = readFileSync(abs, 'utf8');
    if (isUpstreamLayout(text)) {
      // The upstream project's layout (states + a transitions list): compared with the engine's machine, not run.
      const { machine, problems } = parseUpstreamMachineYaml(text, file);
      for (const p of problems) out.push(f(requirement, severity, file, p.line, p.column, p.message, `fix ${file}; the upstream layout is described in docs/state_machines/UPSTREAM_LAYOUT.md`));
      if (machine) {
        out.push(...upstreamDriftFindings(machine, DEFINITIONS[kind], requirement, severity));
        out.push(...docMentionFindings(root, DEFINITIONS[kind], requirement));
      }
      out.push(...xstateFindings(kind, requirement, severity));
      if (inputs.snapshot) out.push(...snapshotFindings(kind, inputs.snapshot, inputs.defs ?? new Map(), requirement, severity));
      return out;
    }
    const { definition, problems } = parseMachineYaml(text, file, kind);
    for (const p of problems) out.push(f(requirement, severity, file, p.line, p.column, p.message, `fix ${file}; see the layout comment at the top of the file`));
    if (definition) {
      out.push(...specFindings(definition, requirement, severity));
      out.push(...driftFindings(definition, DEFINITIONS[kind], requirement, severity));
      out.push(...docMentionFindings(root, definition, requirement));
    }
  }
  out.push(...xstateFindings(kind, requirement, severity));
  if (inputs.snapshot) out.push(...snapshotFindings(kind, inputs.snapshot, inputs.defs ?? new Map(), requirement, severity));
  return out;
}
