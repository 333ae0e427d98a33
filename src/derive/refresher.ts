/**
 * The derived-files subscriber: refreshes indices, metrics (.json + .prom) and the DAG/plan files
 * of the touched workstreams after each commit, outside the commit lock, coalescing: commits that
 * arrive while a refresh runs are merged (latest snapshot, union of the affected workstreams) and
 * derived once. Writes go through src/derive/guard.ts, so no file ever goes back to an older seq,
 * whichever process writes it.
 *
 * Public API (stable):
 *   - new DerivedRefresher(root, { now?, onError? })
 *   - refresher.listener: StoreListener (store.subscribe(refresher.listener))
 *   - refresher.enqueue(notification): Promise<RefreshOutcome>  resolves once a refresh covering it is done
 *   - refresher.flush(): Promise<void>                           until nothing is pending or running
 *   - RefreshOutcome { seq, report, error }
 * Every run is tracked by src/store/pending.ts (the CLI drains it before exit).
 * Integration points: src/engine/commit.ts (the store's default subscriber), run/serve/watch.
 * Stability: stable.
 * Dependencies: ../engine/derive.js, ../store/notify.js, ../store/pending.js.
 */
import type { OrcEvent, Snapshot } from '../model.js';
import type { TaskSet } from '../repo/load-tasks.js';
import { deriveAll, recentEvents, type DeriveReport } from '../engine/derive.js';
import type { CommitNotification, StoreListener } from '../store/notify.js';
import { trackPending } from '../store/pending.js';

export interface RefreshOutcome {
  /** The snapshot seq the refresh derived from (≥ the notification's lastSeq). */
  seq: number;
  report: DeriveReport | null;
  error: Error | null;
}

export interface RefresherOptions {
  /** The clock for metrics (default: the system clock). */
  now?: () => Date;
  /** A refresh failed (the commit is durable; stale files are detected by readers and fixed by the next refresh or doctor). */
  onError?: (error: Error) => void;
}

interface Job {
  snapshot: Snapshot;
  taskSet: TaskSet;
  affected: Set<string> | undefined;
  firstSeq: number;
  events: OrcEvent[];
  waiters: Array<(outcome: RefreshOutcome) => void>;
}

const RECENT_WINDOW_MS = 24 * 3600_000;
const RECENT_MAX = 50_000;

export class DerivedRefresher {
  private pending: Job | null = null;
  private running: Promise<void> | null = null;
  /** The last day's events, continued from notifications while they are contiguous. */
  private recent: { seq: number; events: OrcEvent[] } | undefined;
  readonly listener: StoreListener = (n) => this.enqueue(n);

  constructor(
    readonly root: string,
    private readonly options: RefresherOptions = {},
  ) {}

  enqueue(n: CommitNotification): Promise<RefreshOutcome> {
    return new Promise((resolve) => {
      const job = this.pending;
      if (!job) {
        this.pending = {
          snapshot: n.snapshot,
          taskSet: n.taskSet,
          affected: n.affectedWorkstreams ? new Set(n.affectedWorkstreams) : undefined,
          firstSeq: n.firstSeq,
          events: [...n.events],
          waiters: [resolve],
        };
      } else {
        if (n.snapshot.last_seq >= job.snapshot.last_seq) {
          job.snapshot = n.snapshot;
          job.taskSet = n.taskSet;
        }
        if (job.affected === undefined || n.affectedWorkstreams === undefined) job.affected = undefined;
        else for (const ws of n.affectedWorkstreams) job.affected.add(ws);
        job.firstSeq = Math.min(job.firstSeq, n.firstSeq);
        job.events.push(...n.events);
        job.waiters.push(resolve);
      }
      this.kick();
    });
  }

  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private kick(): void {
    if (this.running) return;
    const run = this.loop().finally(() => {
      this.running = null;
      if (this.pending) this.kick();
    });
    this.running = run;
    trackPending(run);
  }

  private async loop(): Promise<void> {
    // Let commits published in the same turn join this refresh.
    await Promise.resolve();
    while (this.pending) {
      const job = this.pending;
      this.pending = null;
      const now = (this.options.now ?? (() => new Date()))();
      let outcome: RefreshOutcome;
      try {
        const recent = this.recentFor(job, now);
        const report = await deriveAll(this.root, job.taskSet, job.snapshot, job.affected, recent, now);
        outcome = { seq: job.snapshot.last_seq, report, error: null };
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        this.options.onError?.(e);
        outcome = { seq: job.snapshot.last_seq, report: null, error: e };
      }
      for (const w of job.waiters) w(outcome);
    }
  }

  private recentFor(job: Job, now: Date): OrcEvent[] {
    const since = now.getTime() - RECENT_WINDOW_MS;
    const sorted = job.events.sort((a, b) => a.seq - b.seq);
    const contiguous = this.recent !== undefined && job.firstSeq === this.recent.seq + 1 && sorted.every((e, i) => e.seq === job.firstSeq + i);
    let events: OrcEvent[];
    if (contiguous) {
      events = this.recent!.events.concat(sorted).filter((e) => Date.parse(e.timestamp) >= since);
      if (events.length > RECENT_MAX) events = events.slice(-RECENT_MAX);
    } else {
      // Another process wrote in between (or first refresh): the log's tail is the truth.
      events = recentEvents(this.root, now, RECENT_WINDOW_MS);
    }
    this.recent = { seq: job.snapshot.last_seq, events };
    return events;
  }
}
