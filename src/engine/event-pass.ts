/**
 * One streaming pass over the event log (archives, then the live log) shared
 * by every compliance rule that reads events, instead of each rule looping
 * over the whole log held in memory. A rule hands over a visitor: it sees
 * each event with its file:line, in log order (as readLocatedEvents lists
 * them: corrupt, duplicate and pre-checkpoint lines left out), then `end`
 * gets what is only known once the log is read (problems, sources, count,
 * first and last event) and returns the rule's result. Events die young
 * (one batch at a time), so memory stays flat in log size and the garbage
 * collector has no 100,000 live events to copy.
 *
 * Public API (stable):
 *   - wantEvents(ctx, key, start): void                 register a visitor before any rule runs (Rule.prepare)
 *   - eventPass(ctx, key, start): Promise<R>            the visitor's result; the first call reads the log once
 *                                                       for every visitor registered so far; a key asked for
 *                                                       after that pass gets a pass of its own (same answer)
 *   - wantLogSummary(ctx), logSummary(ctx): Promise<LogSummary>  the summary alone (no per-event work)
 *   - visitorRule(key, start): { prepare, check }       a rule whose outcome is its visitor's result
 *   - EventVisitor<R>, LogSummary, LocatedEventRef      (stable types)
 * Failures: reading the log fails every visitor of that pass with the same
 * error (as the memoised 'events' load did); a visitor that throws fails only
 * its own key.
 * Integration points: the compliance runner calls Rule.prepare before the
 * first rule; rules STATE-OBS-001..004, AUDIT-001/002, SCHEMA-VER-001 and the
 * graph rules' run history (src/graph/checks.ts) read events through it.
 * Dependencies: ./log.js, ../compliance/types.js, ../model.js.
 */
import type { RuleContext } from '../compliance/types.js';
import type { OrcEvent } from '../model.js';
import { eventBatches, listLogSources, type LogProblem, type LogSource } from './log.js';

export interface LocatedEventRef {
  event: OrcEvent;
  file: string;
  line: number;
}

/** What is known once the whole log has been read. */
export interface LogSummary {
  problems: LogProblem[];
  sources: LogSource[];
  /** Events visited (what readLocatedEvents().events.length is). */
  count: number;
  first: LocatedEventRef | undefined;
  last: LocatedEventRef | undefined;
}

export interface EventVisitor<R> {
  event(event: OrcEvent, file: string, line: number): void;
  end(log: LogSummary): R;
}

type Start = () => EventVisitor<unknown>;
type Outcome = { value: unknown } | { error: unknown };

interface PassState {
  wanted: Map<string, Start>;
  results: Map<string, Promise<unknown>>;
}

const stateOf = (ctx: RuleContext): PassState => ctx.once('event-pass', () => ({ wanted: new Map(), results: new Map() }));

/** Register a visitor for the next pass (idempotent per key: the first registration wins). */
export function wantEvents<R>(ctx: RuleContext, key: string, start: () => EventVisitor<R>): void {
  const state = stateOf(ctx);
  if (!state.wanted.has(key)) state.wanted.set(key, start);
}

/** The result of the visitor registered under `key` (registered now if it was not). */
export function eventPass<R>(ctx: RuleContext, key: string, start: () => EventVisitor<R>): Promise<R> {
  const state = stateOf(ctx);
  wantEvents(ctx, key, start);
  const done = state.results.get(key);
  if (done) return done as Promise<R>;
  const pending = [...state.wanted].filter(([k]) => !state.results.has(k));
  const pass = runPass(ctx.root, pending);
  for (const [k] of pending) {
    const result = pass.then((outcomes) => {
      const o = outcomes.get(k) as Outcome;
      if ('error' in o) throw o.error;
      return o.value;
    });
    // A rule that never awaits its result (nothing to compare) must not leave an unhandled rejection behind.
    result.catch(() => undefined);
    state.results.set(k, result);
  }
  return state.results.get(key) as Promise<R>;
}

async function runPass(root: string, pending: Array<[string, Start]>): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>();
  const live: Array<{ key: string; visitor: EventVisitor<unknown> }> = [];
  for (const [key, start] of pending) {
    try {
      live.push({ key, visitor: start() });
    } catch (error) {
      outcomes.set(key, { error });
    }
  }
  const problems: LogProblem[] = [];
  let count = 0;
  let first: LocatedEventRef | undefined;
  let lastEvent: OrcEvent | undefined;
  let lastFile = '';
  let lastLine = 0;
  try {
    for await (const batch of eventBatches(root, { mode: 'collect', withLines: true, syncReads: true, onProblem: (p) => problems.push(p) })) {
      const { events, file } = batch;
      const lines = batch.lines as number[];
      const n = events.length;
      if (n === 0) continue;
      if (!first) first = { event: events[0] as OrcEvent, file, line: lines[0] as number };
      // Visitor by visitor over the batch: each loop stays on one visitor's code.
      for (let s = 0; s < live.length; s++) {
        const slot = live[s] as { key: string; visitor: EventVisitor<unknown> };
        if (outcomes.has(slot.key)) continue;
        const visitor = slot.visitor;
        try {
          for (let i = 0; i < n; i++) visitor.event(events[i] as OrcEvent, file, lines[i] as number);
        } catch (error) {
          outcomes.set(slot.key, { error });
        }
      }
      count += n;
      lastEvent = events[n - 1];
      lastFile = file;
      lastLine = lines[n - 1] as number;
    }
  } catch (error) {
    for (const { key } of live) if (!outcomes.has(key)) outcomes.set(key, { error });
    return outcomes;
  }
  const summary: LogSummary = {
    problems,
    sources: listLogSources(root),
    count,
    first,
    last: lastEvent ? { event: lastEvent, file: lastFile, line: lastLine } : undefined,
  };
  for (const { key, visitor } of live) {
    if (outcomes.has(key)) continue;
    try {
      outcomes.set(key, { value: visitor.end(summary) });
    } catch (error) {
      outcomes.set(key, { error });
    }
  }
  return outcomes;
}

const SUMMARY = 'log-summary';
const summaryOnly = (): EventVisitor<LogSummary> => ({ event: () => undefined, end: (log) => log });

/** Register the plain summary (count, first/last event, problems, sources) for the next pass. */
export function wantLogSummary(ctx: RuleContext): void {
  wantEvents(ctx, SUMMARY, summaryOnly);
}

/** Count, first/last event, problems and sources of the log, from the shared pass. */
export function logSummary(ctx: RuleContext): Promise<LogSummary> {
  return eventPass(ctx, SUMMARY, summaryOnly);
}

/** `prepare` and `check` of a rule whose whole outcome is its visitor's result (spread into the rule). */
export function visitorRule<R>(key: string, start: () => EventVisitor<R>): { prepare(ctx: RuleContext): void; check(ctx: RuleContext): Promise<R> } {
  return {
    prepare: (ctx) => wantEvents(ctx, key, start),
    check: (ctx) => eventPass(ctx, key, start),
  };
}
