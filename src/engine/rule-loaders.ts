/**
 * Memoised loads shared by the compliance rules that read runtime state, with
 * the agreed RuleContext keys: 'snapshot' → loadSnapshotFile(root),
 * 'events' → readLocatedEvents(root) (a promise: await it; the whole log in memory, for
 * library callers: the compliance rules read events through the one shared pass of
 * ./event-pass.js instead), 'tasks' → loadTasks(root).
 *
 * Public API (stable): snapshotOf(ctx), eventsOf(ctx), tasksOf(ctx), locator(text);
 * parsedDerivedFiles(ctx) (internal): 'derived-files:parsed', the DAG/plan files parsed so far.
 * Integration points: rules STATE-OBS-001..003, the graph rules (and any other
 * rule that wants the same loads without reading the files twice); the graph
 * rules (src/graph/checks.ts) fill parsedDerivedFiles, SCHEMA-VER-001 reads it.
 * Dependencies: ./snapshot.js, ./log.js, ../repo/load-tasks.js, ../io/located-json.js.
 */
import type { RuleContext } from '../compliance/types.js';
import { locateInText } from '../io/located-json.js';
import { loadTasks, type TaskSet } from '../repo/load-tasks.js';
import { readLocatedEvents, type LocatedEvents } from './log.js';
import { loadSnapshotFile, type SnapshotRead } from './snapshot.js';

export function snapshotOf(ctx: RuleContext): SnapshotRead {
  return ctx.once('snapshot', () => loadSnapshotFile(ctx.root));
}

export function eventsOf(ctx: RuleContext): Promise<LocatedEvents> {
  return ctx.once('events', () => readLocatedEvents(ctx.root));
}

export function tasksOf(ctx: RuleContext): TaskSet {
  return ctx.once('tasks', () => loadTasks(ctx.root, { texts: 'on-demand' }));
}

/**
 * The derived files (DAG, plan) parsed so far in this run, by repo-relative name: each value is what
 * JSON.parse gives for the file's text (a text with a BOM is never kept), so SCHEMA-VER-001 reads its
 * schema pair from here instead of parsing the file again.
 */
export function parsedDerivedFiles(ctx: RuleContext): Map<string, unknown> {
  return ctx.once('derived-files:parsed', () => new Map<string, unknown>());
}

/**
 * Locations inside a (possibly large) JSON text: building the location tree
 * costs, so only the first `budget` lookups are exact; later ones point at line 1.
 */
export function locator(text: string | null, budget = 25): (path: ReadonlyArray<string | number>) => { line: number; column: number } {
  let used = 0;
  return (path) => {
    if (text === null || used++ >= budget) return { line: 1, column: 1 };
    return locateInText(text, path);
  };
}
