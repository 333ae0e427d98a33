/**
 * The store's notifications: after each durable commit (snapshot renamed, events appended and
 * fdatasync'd, lock released) every subscriber hears which seq range was committed and which
 * entities it touched. Subscribers (the derived-files refresher, a live view, a scheduler) run
 * outside the commit lock; the store never waits for them unless the caller asks (derive: true).
 *
 * Public API (stable):
 *   - CommitNotification, StoreListener, Unsubscribe
 *   - touchedEntities(events): { tasks, workers, workstreams }
 *   - Subscribers: add(listener) → Unsubscribe; publish(notification) → what each listener returned
 *     (a listener that throws is reported through onError, never fails the commit)
 * Integration points: src/engine/commit.ts (Store.subscribe), src/derive/refresher.ts, the scheduler (src/scheduler/).
 * Stability: stable.
 * Dependencies: ../model.js, ../repo/load-tasks.js (types).
 */
import type { OrcEvent, Snapshot } from '../model.js';
import type { TaskSet } from '../repo/load-tasks.js';

export interface CommitNotification {
  root: string;
  /** seq of the first and last event of the commit (equal for one event; both last_seq when none was appended). */
  firstSeq: number;
  lastSeq: number;
  events: readonly OrcEvent[];
  /** The snapshot as written (current.json at lastSeq). */
  snapshot: Snapshot;
  /** The definitions the commit was planned with. */
  taskSet: TaskSet;
  touched: { tasks: string[]; workers: string[]; workstreams: string[] };
  /** Workstreams whose DAG/plan files the commit can change; undefined = all (definitions changed). */
  affectedWorkstreams: ReadonlySet<string> | undefined;
}

export type StoreListener = (notification: CommitNotification) => unknown;
export type Unsubscribe = () => void;

export function touchedEntities(events: readonly OrcEvent[]): CommitNotification['touched'] {
  const tasks = new Set<string>();
  const workers = new Set<string>();
  const workstreams = new Set<string>();
  for (const e of events) {
    if (e.entity_type === 'task') tasks.add(e.entity_id);
    else if (e.entity_type === 'worker') workers.add(e.entity_id);
    else if (e.entity_type === 'workstream') workstreams.add(e.entity_id);
    if (typeof e.metadata?.task_id === 'string') tasks.add(e.metadata.task_id);
    if (typeof e.metadata?.worker_id === 'string') workers.add(e.metadata.worker_id);
  }
  return { tasks: [...tasks], workers: [...workers], workstreams: [...workstreams] };
}

export class Subscribers {
  private readonly listeners = new Set<StoreListener>();

  constructor(private readonly onError: (error: unknown) => void = () => undefined) {}

  get size(): number {
    return this.listeners.size;
  }

  add(listener: StoreListener): Unsubscribe {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Call every listener in subscription order; returns what each returned (promises are not awaited here). */
  publish(notification: CommitNotification): unknown[] {
    const out: unknown[] = [];
    for (const listener of [...this.listeners]) {
      try {
        const r = listener(notification);
        if (r instanceof Promise) r.catch(this.onError);
        out.push(r);
      } catch (error) {
        this.onError(error);
      }
    }
    return out;
  }
}
