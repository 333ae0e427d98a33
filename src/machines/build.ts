/**
 * Builds the xstate v5 machines from the YAML definitions, once, at load time,
 * and runs them as pure functions.
 *
 * Public API (internal): XMACHINES, step(kind, from, trigger, env),
 * stepPure(kind, from, trigger, env).
 * `step` resolves the persisted state with `machine.resolveState` (cached per
 * state; throws on an unknown state) and asks the machine which transition the
 * event enables (`machine.getTransitionData`: xstate's own transition
 * selection, named guards from `setup({ guards })` evaluated in document
 * order). The transition is identified by the `taken` action it carries.
 * Rejections come back as { ok: false, allowed, refused } so the caller can
 * explain them. Measured here: xstate's pure `transition()` costs ~55 µs per
 * call (it builds an actor scope and runs the microstep), selection alone
 * ~1 µs; planTransition runs per request on 10,000-task states, so `step`
 * selects and the caller applies the target. `stepPure` runs the full pure
 * `transition()` and tests check both agree on every (state, trigger).
 * Integration points: src/machines/index.ts (planTransition).
 * Dependencies: xstate (setup, transition), ./definitions.js, ./guards.js.
 */
import { setup, transition, type AnyStateMachine } from 'xstate';
import { DEFINITIONS, MACHINE_KINDS, type MachineDefinition, type MachineKind, type TransitionDef } from './definitions.js';
import { GUARDS, type GuardEnv } from './guards.js';

interface Built {
  def: MachineDefinition;
  machine: AnyStateMachine;
  byKey: Map<string, TransitionDef>;
  snapshots: Map<string, unknown>;
  outgoing: Map<string, string[]>;
}

const key = (t: { from: string; trigger: string; to: string }): string => `${t.from}\u0000${t.trigger}\u0000${t.to}`;

function build(def: MachineDefinition): Built {
  const guards: Record<string, (args: { event: { env: GuardEnv } }) => boolean> = {};
  for (const name of def.guards.keys()) {
    const impl = GUARDS[name];
    if (!impl) throw new Error(`orc-state: ${def.file} declares guard "${name}" but src/machines/guards.ts has no implementation`);
    guards[name] = ({ event }) => impl.test(event.env);
  }
  const states: Record<string, unknown> = {};
  const byKey = new Map<string, TransitionDef>();
  const outgoing = new Map<string, string[]>();
  for (const s of def.states) {
    const on: Record<string, unknown[]> = {};
    for (const t of def.transitions.filter((x) => x.from === s)) {
      byKey.set(key(t), t);
      (on[t.trigger] ??= []).push({
        target: t.to,
        // self-transitions (unresponsive --task_completed--> unresponsive) must still be observable
        reenter: t.to === t.from,
        ...(t.guard ? { guard: t.guard } : {}),
        actions: { type: 'taken', params: { key: key(t) } },
      });
    }
    outgoing.set(s, Object.keys(on));
    states[s] = def.finalStates.includes(s) ? { type: 'final' } : { on };
  }
  const machine = setup({
    guards: guards as never,
    actions: { taken: () => undefined },
  }).createMachine({
    id: def.kind,
    initial: def.creation.to ?? def.states[0],
    context: {},
    states: states as never,
  }) as unknown as AnyStateMachine;
  return { def, machine, byKey, snapshots: new Map(), outgoing };
}

export const XMACHINES: Record<MachineKind, Built> = Object.fromEntries(
  MACHINE_KINDS.map((k) => [k, build(DEFINITIONS[k])]),
) as Record<MachineKind, Built>;

export type StepResult =
  | { ok: true; transition: TransitionDef }
  | { ok: false; allowed: string[]; refused: Array<{ to: string; guard: string; reason: string }>; unknownState?: boolean };

/** Run one trigger from one state through the xstate machine of `kind`. */
export function step(kind: MachineKind, from: string, trigger: string, env: GuardEnv): StepResult {
  const b = XMACHINES[kind];
  let snap = b.snapshots.get(from);
  if (!snap) {
    try {
      snap = b.machine.resolveState({ value: from, context: {} });
    } catch {
      return { ok: false, allowed: [], refused: [], unknownState: true };
    }
    b.snapshots.set(from, snap);
  }
  const enabled = b.machine.getTransitionData(snap as never, { type: trigger, env } as never) as unknown as Array<{
    actions?: Array<{ type?: string; params?: { key?: string } }>;
  }>;
  const t = takenOf(b, enabled[0]?.actions);
  if (t) return { ok: true, transition: t };
  return rejected(b, from, trigger, env);
}

function takenOf(b: Built, actions: Array<{ type?: string; params?: { key?: string } }> | undefined): TransitionDef | undefined {
  const taken = actions?.find((a) => a.type === 'taken');
  return taken?.params?.key ? b.byKey.get(taken.params.key) : undefined;
}

function rejected(b: Built, from: string, trigger: string, env: GuardEnv): StepResult {
  const refused = b.def.transitions
    .filter((x) => x.from === from && x.trigger === trigger && x.guard)
    .map((x) => ({ to: x.to, guard: x.guard as string, reason: GUARDS[x.guard as string]?.explain(env) ?? '' }));
  return { ok: false, allowed: b.outgoing.get(from) ?? [], refused };
}

/** The same decision through xstate's full pure `transition()` (slow path; tests compare it with `step`). */
export function stepPure(kind: MachineKind, from: string, trigger: string, env: GuardEnv): StepResult {
  const b = XMACHINES[kind];
  let snap: unknown;
  try {
    snap = b.machine.resolveState({ value: from, context: {} });
  } catch {
    return { ok: false, allowed: [], refused: [], unknownState: true };
  }
  const [, actions] = transition(b.machine, snap as never, { type: trigger, env } as never);
  const t = takenOf(b, actions as Array<{ type: string; params?: { key?: string } }>);
  if (t) return { ok: true, transition: t };
  return rejected(b, from, trigger, env);
}
