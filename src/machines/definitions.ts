/**
 * The three lifecycle definitions (task, workstream, worker), read from the
 * YAML files in docs/state_machines/ — the single source the xstate machines
 * are built from (requirements SM-DEF-001..003).
 *
 * Public API:
 *   - MACHINES (stable): per machine its states, finalStates, triggers (the
 *     creation trigger included), transitions {from, trigger, to, guard?,
 *     event, severity} and creation {trigger, event, severity}.
 *   - MachineKind, MachineDefinition, TransitionDef, CreationDef (stable).
 *   - MACHINE_KINDS, machineFile(kind) (stable): kinds and repo-relative YAML paths.
 *   - parseMachineYaml(text, file) (internal, used by the SM-DEF rules to
 *     check a repository's copy): returns the definition plus located problems.
 *   - loadMachineDefinitions(dir) (internal; served from a per-user cache of the parsed YAML, keyed by
 *     each file's path, size, mtime and inode, so a one-shot command neither loads the yaml package nor parses).
 * Integration points: src/machines/build.ts turns these into xstate machines;
 * compliance rules SM-DEF-001..003 and EXEC-DOC checks list states/triggers
 * from MACHINES; docs/execution_model/STATE_MACHINE.md must name them all.
 * Dependencies: yaml, node:fs, ../paths.js, ../model.js.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Node as YamlNode } from 'yaml';
import { packageRoot } from '../paths.js';
import { userCacheDir, writeCacheFile } from '../core/user-cache.js';
import { yamlLib } from '../core/yaml-lib.js';
import type { Severity } from '../model.js';

// yaml is loaded only when a definition is parsed (a cached one needs no parser: start-up stays small).
const Y = yamlLib;

export const MACHINE_KINDS = ['task', 'workstream', 'worker'] as const;
export type MachineKind = (typeof MACHINE_KINDS)[number];

const SEVERITIES: readonly Severity[] = ['info', 'warning', 'error', 'critical'];

export interface TransitionDef {
  from: string;
  trigger: string;
  to: string;
  guard?: string;
  /** The `event` name written to the log. */
  event: string;
  severity: Severity;
  /** 1-based line of this transition in the YAML file. */
  line: number;
}

export interface CreationDef {
  trigger: string;
  event: string;
  severity: Severity;
  /** Fixed initial state; absent for tasks, which start in their definition's status (Decision 1). */
  to?: string;
  line: number;
}

export interface MachineDefinition {
  kind: MachineKind;
  requirement: string;
  file: string;
  states: string[];
  finalStates: string[];
  /** Every trigger, creation trigger first, in file order. */
  triggers: string[];
  transitions: TransitionDef[];
  creation: CreationDef;
  /** Guard name -> description, as declared in the YAML `guards:` map. */
  guards: Map<string, string>;
  /** 1-based line of each state's key and of each trigger's first use. */
  stateLines: Map<string, number>;
  triggerLines: Map<string, number>;
}

export interface MachineYamlProblem {
  line: number;
  column: number;
  message: string;
}

export function machineFile(kind: MachineKind): string {
  return `docs/state_machines/${kind}_lifecycle.yaml`;
}

const NAME = /^[a-z][a-z0-9_]*$/;

/**
 * Parse one lifecycle YAML. Never throws on bad input: problems come back
 * located; `definition` is present only when there are none.
 */
export function parseMachineYaml(
  text: string,
  file: string,
  expectedKind?: MachineKind,
): { definition?: MachineDefinition; problems: MachineYamlProblem[] } {
  const problems: MachineYamlProblem[] = [];
  const lc = new (Y().LineCounter)();
  const doc = Y().parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const pos = (node: unknown): { line: number; column: number } => {
    const range = (node as YamlNode | undefined)?.range;
    if (!range) return { line: 1, column: 1 };
    const p = lc.linePos(range[0]);
    return { line: p.line, column: p.col };
  };
  const problem = (node: unknown, message: string): void => {
    problems.push({ ...pos(node), message });
  };
  for (const err of doc.errors) {
    const p = err.linePos?.[0];
    problems.push({ line: p?.line ?? 1, column: p?.col ?? 1, message: `YAML syntax: ${err.message.split('\n')[0]}` });
  }
  if (problems.length) return { problems };
  const root = doc.contents;
  if (!Y().isMap(root)) {
    problem(root, 'the file must be a YAML mapping with machine, creation, guards and states');
    return { problems };
  }
  const get = (map: unknown, key: string): unknown => (Y().isMap(map) ? map.get(key, true) : undefined);
  const str = (node: unknown): string | undefined =>
    Y().isScalar(node) && typeof node.value === 'string' ? node.value : undefined;

  const kindNode = get(root, 'machine');
  const kind = str(kindNode);
  if (!kind || !(MACHINE_KINDS as readonly string[]).includes(kind)) {
    problem(kindNode ?? root, `"machine" must be one of ${MACHINE_KINDS.join(', ')}`);
    return { problems };
  }
  if (expectedKind && kind !== expectedKind) {
    problem(kindNode, `"machine" is ${kind} but this file defines the ${expectedKind} machine`);
  }
  const requirement = str(get(root, 'requirement')) ?? '';

  const severityOf = (node: unknown, where: unknown): Severity => {
    const s = str(node);
    if (!s || !(SEVERITIES as readonly string[]).includes(s)) {
      problem(node ?? where, `severity must be one of ${SEVERITIES.join(', ')}`);
      return 'info';
    }
    return s as Severity;
  };

  const creationNode = get(root, 'creation');
  const creationTrigger = str(get(creationNode, 'trigger'));
  const creationEvent = str(get(creationNode, 'event'));
  if (!creationTrigger || !creationEvent) problem(creationNode ?? root, '"creation" needs trigger and event');
  const creation: CreationDef = {
    trigger: creationTrigger ?? '',
    event: creationEvent ?? '',
    severity: severityOf(get(creationNode, 'severity'), creationNode),
    line: pos(creationNode).line,
  };
  const creationTo = str(get(creationNode, 'to'));
  if (creationTo) creation.to = creationTo;

  const guards = new Map<string, string>();
  const guardsNode = get(root, 'guards');
  if (guardsNode !== undefined && guardsNode !== null && !Y().isMap(guardsNode)) problem(guardsNode, '"guards" must be a mapping name: description');
  if (Y().isMap(guardsNode)) {
    for (const pair of guardsNode.items) {
      const name = str(pair.key);
      if (!name || !NAME.test(name)) problem(pair.key, 'guard names are snake_case');
      else guards.set(name, str(pair.value) ?? '');
    }
  }

  const statesNode = get(root, 'states');
  if (!Y().isMap(statesNode) || statesNode.items.length === 0) {
    problem(statesNode ?? root, '"states" must be a non-empty mapping');
    return { problems };
  }
  const states: string[] = [];
  const finalStates: string[] = [];
  const stateLines = new Map<string, number>();
  const triggerLines = new Map<string, number>();
  const triggers: string[] = [];
  const transitions: TransitionDef[] = [];
  if (creation.trigger) {
    triggers.push(creation.trigger);
    triggerLines.set(creation.trigger, pos(get(creationNode, 'trigger')).line);
  }
  for (const pair of statesNode.items) {
    const name = str(pair.key);
    if (!name || !NAME.test(name)) {
      problem(pair.key, 'state names are snake_case');
      continue;
    }
    states.push(name);
    stateLines.set(name, pos(pair.key).line);
  }
  const used = new Set<string>();
  for (const pair of statesNode.items) {
    const from = str(pair.key);
    if (!from || !NAME.test(from)) continue;
    const body = pair.value;
    const isFinal = Y().isMap(body) && (body.get('final') as unknown) === true;
    if (isFinal) finalStates.push(from);
    const on = get(body, 'on');
    if (on === undefined || on === null) {
      if (!isFinal) problem(pair.key, `state ${from} has no transitions; mark it "final: true" or add "on:"`);
      continue;
    }
    if (isFinal) problem(on, `final state ${from} must not have transitions`);
    if (!Y().isMap(on)) {
      problem(on, `"on" of state ${from} must map triggers to lists of transitions`);
      continue;
    }
    for (const tp of on.items) {
      const trigger = str(tp.key);
      if (!trigger || !NAME.test(trigger)) {
        problem(tp.key, 'trigger names are snake_case');
        continue;
      }
      if (trigger === creation.trigger) problem(tp.key, `${trigger} is the creation trigger; it cannot leave a state`);
      if (!triggerLines.has(trigger)) {
        triggers.push(trigger);
        triggerLines.set(trigger, pos(tp.key).line);
      }
      const list = tp.value;
      if (!Y().isSeq(list) || list.items.length === 0) {
        problem(tp.value ?? tp.key, `${from} --${trigger}--> needs a list of transitions (to, event, severity, optional guard)`);
        continue;
      }
      const targets = new Set<string>();
      list.items.forEach((item, index) => {
        const to = str(get(item, 'to'));
        const event = str(get(item, 'event'));
        const guardNode = get(item, 'guard');
        const guard = guardNode === undefined ? undefined : str(guardNode);
        if (!to || !stateLines.has(to)) {
          problem(get(item, 'to') ?? item, `${from} --${trigger}--> target "${to ?? ''}" is not a state of this machine`);
          return;
        }
        if (!event || !NAME.test(event)) problem(get(item, 'event') ?? item, `${from} --${trigger}--> ${to} needs a snake_case "event" name`);
        if (guardNode !== undefined && (!guard || !guards.has(guard))) {
          problem(guardNode, `guard "${guard ?? ''}" is not declared under "guards:"`);
        }
        if (guard) used.add(guard);
        if (!guard && index < list.items.length - 1) {
          problem(item, `${from} --${trigger}--> ${to} has no guard, so the transitions after it can never be taken`);
        }
        if (targets.has(to)) problem(item, `${from} --${trigger}--> ${to} appears twice; each (state, trigger, target) must be unique`);
        targets.add(to);
        transitions.push({
          from,
          trigger,
          to,
          ...(guard ? { guard } : {}),
          event: event ?? '',
          severity: severityOf(get(item, 'severity'), item),
          line: pos(item).line,
        });
      });
    }
  }
  if (creation.to && !stateLines.has(creation.to)) {
    problem(get(creationNode, 'to'), `creation target "${creation.to}" is not a state of this machine`);
  }
  for (const [name] of guards) {
    if (!used.has(name)) problem(guardsNode, `guard "${name}" is declared but no transition uses it`);
  }
  if (finalStates.length === 0) problem(statesNode, 'a lifecycle needs at least one final state');
  if (problems.length) return { problems };
  return {
    definition: {
      kind: kind as MachineKind,
      requirement,
      file,
      states,
      finalStates,
      triggers,
      transitions,
      creation,
      guards,
      stateLines,
      triggerLines,
    },
    problems,
  };
}

/** Load the three definitions from `dir` (default: the package's docs/state_machines). Throws on a broken file: it is a packaging error. */
export function loadMachineDefinitions(dir = join(packageRoot(), 'docs', 'state_machines')): Record<MachineKind, MachineDefinition> {
  const cached = readDefinitionsCache(dir);
  if (cached) return cached;
  const out = parseDefinitions(dir);
  writeDefinitionsCache(dir, out);
  return out;
}

const CACHE_VERSION = 1;
type Stored = Omit<MachineDefinition, 'guards' | 'stateLines' | 'triggerLines'> & { guards: Array<[string, string]>; stateLines: Array<[string, number]>; triggerLines: Array<[string, number]> };

/** Per-user cache of the parsed YAML (outside the repo), keyed by each file's path, size, mtime and inode. */
function definitionsCacheFile(dir: string): string | null {
  const key = createHash('sha1').update(String(CACHE_VERSION));
  try {
    for (const kind of MACHINE_KINDS) {
      const abs = join(dir, `${kind}_lifecycle.yaml`);
      const st = statSync(abs);
      key.update(`${abs}:${st.size}:${st.mtimeMs}:${st.ino}\n`);
    }
  } catch {
    return null;
  }
  return join(userCacheDir(), `machines-${key.digest('hex').slice(0, 20)}.json`);
}

function readDefinitionsCache(dir: string): Record<MachineKind, MachineDefinition> | null {
  const file = definitionsCacheFile(dir);
  if (!file) return null;
  try {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<MachineKind, Stored>;
    const out = {} as Record<MachineKind, MachineDefinition>;
    for (const kind of MACHINE_KINDS) {
      const d = stored[kind];
      if (!d || d.kind !== kind) return null;
      out[kind] = { ...d, guards: new Map(d.guards), stateLines: new Map(d.stateLines), triggerLines: new Map(d.triggerLines) };
    }
    return out;
  } catch {
    return null;
  }
}

function writeDefinitionsCache(dir: string, defs: Record<MachineKind, MachineDefinition>): void {
  const file = definitionsCacheFile(dir);
  if (!file) return;
  try {
    const stored = Object.fromEntries(
      MACHINE_KINDS.map((kind) => {
        const d = defs[kind];
        return [kind, { ...d, guards: [...d.guards], stateLines: [...d.stateLines], triggerLines: [...d.triggerLines] }];
      }),
    );
    writeCacheFile(file, stored);
  } catch {
    /* a cache is optional */
  }
}

function parseDefinitions(dir: string): Record<MachineKind, MachineDefinition> {
  const out = {} as Record<MachineKind, MachineDefinition>;
  for (const kind of MACHINE_KINDS) {
    const file = machineFile(kind);
    const abs = join(dir, `${kind}_lifecycle.yaml`);
    const { definition, problems } = parseMachineYaml(readFileSync(abs, 'utf8'), file, kind);
    if (!definition) {
      const first = problems[0];
      throw new Error(`orc-state: ${abs}:${first?.line}:${first?.column}: ${first?.message}`);
    }
    out[kind] = definition;
  }
  return out;
}

export type MachineSummary = Pick<MachineDefinition, 'states' | 'finalStates' | 'triggers' | 'creation'> & {
  transitions: Array<Omit<TransitionDef, 'line'>>;
};

/** The machine definitions the engine runs (loaded once, at import). */
export const DEFINITIONS: Record<MachineKind, MachineDefinition> = loadMachineDefinitions();

export const MACHINES: Record<MachineKind, MachineSummary> = Object.fromEntries(
  MACHINE_KINDS.map((kind) => {
    const d = DEFINITIONS[kind];
    return [
      kind,
      {
        states: [...d.states],
        finalStates: [...d.finalStates],
        triggers: [...d.triggers],
        creation: d.creation,
        transitions: d.transitions.map(({ line: _line, ...t }) => t),
      },
    ];
  }),
) as Record<MachineKind, MachineSummary>;
