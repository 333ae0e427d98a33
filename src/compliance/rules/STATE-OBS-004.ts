/**
 * STATE-OBS-004 (MUST): events follow the event schema. Checks, per event of
 * the archives and the live log (file:line): validates against
 * schemas/event (the version it declares); the transition exists in the
 * machine of its entity (docs/state_machines/*.yaml) and its `event` name and
 * `severity` are the ones the machine assigns (e.g. retry = warning, failed
 * after retries = error, worker_unresponsive = critical); from_state equals
 * the to_state of the previous event of the same entity (null for a
 * creation, which must come first).
 *
 * Public API (stable): rule.
 * Integration points: compliance runner; its visitor of the shared pass over the log (src/engine/event-pass.ts).
 * Dependencies: ../../machines/index.js (MACHINES definitions), ../../engine/event-schema.js, ../../engine/event-pass.js.
 */
import type { Finding, OrcEvent } from '../../model.js';
import { DEFINITIONS, type MachineKind } from '../../machines/index.js';
import { checkEventSchema } from '../../engine/event-schema.js';
import { locateInText } from '../../io/located-json.js';
import { visitorRule, type EventVisitor } from '../../engine/event-pass.js';
import type { Rule } from '../types.js';

const ID = 'STATE-OBS-004';
const MAX_FINDINGS = 200;

type Edge = { event: string; severity: string };
/**
 * Per machine: from → trigger → to → the first transition with those (the order `find` over the list gave),
 * looked up without building a key string per event. A machine naming a state or trigger with a NUL in it
 * keeps the "from\0trigger\0to" keys (`flat`), where nested lookups could match differently.
 */
const byEdge = new Map<MachineKind, { nested: Map<string, Map<string, Map<string, Edge>>> } | { flat: Map<string, Edge> }>();

function edgeIndex(kind: MachineKind) {
  let index = byEdge.get(kind);
  if (index) return index;
  const def = DEFINITIONS[kind];
  if (def.transitions.some((x) => `${x.from}${x.trigger}${x.to}`.includes('\u0000'))) {
    const flat = new Map<string, Edge>();
    for (const x of def.transitions) {
      const k = `${x.from}\u0000${x.trigger}\u0000${x.to}`;
      if (!flat.has(k)) flat.set(k, { event: x.event, severity: x.severity });
    }
    index = { flat };
  } else {
    const nested = new Map<string, Map<string, Map<string, Edge>>>();
    for (const x of def.transitions) {
      let byTrigger = nested.get(`${x.from}`);
      if (!byTrigger) nested.set(`${x.from}`, (byTrigger = new Map()));
      let byTo = byTrigger.get(`${x.trigger}`);
      if (!byTo) byTrigger.set(`${x.trigger}`, (byTo = new Map()));
      if (!byTo.has(`${x.to}`)) byTo.set(`${x.to}`, { event: x.event, severity: x.severity });
    }
    index = { nested };
  }
  byEdge.set(kind, index);
  return index;
}

function expected(kind: MachineKind, e: OrcEvent): Edge | 'unknown' {
  const def = DEFINITIONS[kind];
  if (e.from_state === null) {
    return e.trigger === def.creation.trigger ? { event: def.creation.event, severity: def.creation.severity } : 'unknown';
  }
  const index = edgeIndex(kind);
  if ('flat' in index) return index.flat.get(`${e.from_state}\u0000${e.trigger}\u0000${e.to_state}`) ?? 'unknown';
  return index.nested.get(`${e.from_state}`)?.get(`${e.trigger}`)?.get(`${e.to_state}`) ?? 'unknown';
}

type Outcome = { findings: Finding[] } | { skip: string };

/**
 * The checks, event by event in one pass over the log (src/engine/event-pass.ts). "Never created" is only a
 * finding when the log read without problems and starts at seq 1; problems are known at the end of the pass,
 * so the findings are kept both ways (each list capped as the one list was) and one is chosen at the end.
 */
function visitor(): EventVisitor<Outcome> {
  /** Findings if "never created" counts (a clean log from seq 1), and if it does not. */
  const withCreation: Finding[] = [];
  const without: Finding[] = [];
  /** Per machine kind: entity id → the to_state of its last event. */
  const lastState = new Map<MachineKind, Map<string, string | null>>();
  let located = 0;
  let firstSeq: number | undefined;
  const add = (file: string, line: number, column: number, message: string, fix: string, onlyWhenCreationCounts = false) => {
    if (withCreation.length < MAX_FINDINGS) withCreation.push({ requirement: ID, severity: 'error', file, line, column, message, fix });
    if (!onlyWhenCreationCounts && without.length < MAX_FINDINGS) without.push({ requirement: ID, severity: 'error', file, line, column, message, fix });
  };
  return {
    event(e: OrcEvent, file: string, line: number) {
      if (firstSeq === undefined) firstSeq = e.seq;
      const check = checkEventSchema(e);
      if (!check.ok && check.version === null) {
        add(file, line, 1, `seq ${e.seq}: schema_version ${JSON.stringify(e.schema_version)} is not a known event schema (${check.known.join(', ')})`, 'events are written by the engine; a changed log format needs a migration (AUDIT-002)');
      } else if (!check.ok) {
        for (const err of check.errors.slice(0, 3)) {
          let column = 1;
          if (located++ < 25) {
            const path = err.instancePath.split('/').slice(1).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
            column = locateInText(JSON.stringify(e), path).column;
          }
          add(file, line, column, `seq ${e.seq}: ${err.instancePath || '(event)'} ${err.message ?? 'is invalid'}`, 'events are written by the engine only; restore the line from a backup');
        }
      }
      if (e.entity_type === 'system') return;
      const kind = e.entity_type as MachineKind;
      if (!DEFINITIONS[kind]) return; // schema error reported above
      let chain = lastState.get(kind);
      if (!chain) lastState.set(kind, (chain = new Map()));
      const key = `${e.entity_id}`;
      const want = expected(kind, e);
      if (want === 'unknown') {
        add(file, line, 1, `seq ${e.seq}: ${kind} ${e.entity_id} ${e.from_state ?? '(new)'} → ${e.to_state} on ${e.trigger} is not a transition of the ${kind} machine`, `see docs/state_machines/${kind}_lifecycle.yaml; only the engine should write the log`);
      } else {
        if (e.severity !== want.severity) add(file, line, 1, `seq ${e.seq}: severity ${e.severity} for ${e.event} (${e.from_state ?? '(new)'} → ${e.to_state} on ${e.trigger}); the machine assigns ${want.severity}`, `severity must be "${want.severity}" (STATE-OBS-004: info normal, warning recoverable, error needs intervention, critical system-level)`);
        if (e.event !== want.event) add(file, line, 1, `seq ${e.seq}: event name ${e.event} for ${e.from_state ?? '(new)'} → ${e.to_state} on ${e.trigger}; the machine names it ${want.event}`, `use "event": "${want.event}"`);
      }
      if (chain.has(key)) {
        const prev = chain.get(key) ?? null;
        if (e.from_state !== prev) add(file, line, 1, `seq ${e.seq}: ${kind} ${e.entity_id} moves from ${e.from_state ?? 'null'} but its previous event left it ${prev ?? 'null'}`, 'the per-entity chain is broken: events are missing or were edited; restore the log from a backup');
      } else if (e.from_state !== null) {
        add(file, line, 1, `seq ${e.seq}: first event of ${kind} ${e.entity_id} moves from ${e.from_state}, but it was never created`, 'the creation event is missing from the log', true);
      }
      chain.set(key, e.to_state);
    },
    end(log) {
      if (log.count === 0) return { skip: 'no events in .state/transitions.jsonl or its archives' };
      return { findings: log.problems.length === 0 && !isPrunedStart(firstSeq) ? withCreation : without };
    },
  };
}

export const rule: Rule = {
  id: ID,
  level: 'MUST',
  section: 'state',
  title: 'Events follow the event schema, severities and per-entity state chains',
  ...visitorRule(ID, visitor),
};

/** After `log prune`, entities may have been created in pruned archives. */
function isPrunedStart(firstSeq: number | undefined): boolean {
  return firstSeq !== undefined && firstSeq > 1;
}
