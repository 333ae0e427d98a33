/**
 * The scheduler's clock, injected so that time-driven decisions (retry delays,
 * heartbeats, unresponsive workers, derive throttling) are testable without
 * waiting on the wall clock.
 *
 * Public API (stable):
 *   - Clock: now() → epoch ms; sleep(ms, signal?) → resolves after ms of this clock's time
 *   - systemClock: Date.now + setTimeout
 *   - FakeClock: time moves only with advance(ms) / advanceTo(t); with
 *     { autoAdvance: true } a sleep jumps the clock to its own deadline (after one
 *     real macrotask), so a run whose only waits are the scheduler's timers finishes at once
 * Integration points: ./loop.ts (runPlan), ./health.ts, tests.
 * Dependencies: none.
 */

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const t = setTimeout(done, Math.max(0, ms));
      function done(): void {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

interface Sleeper {
  at: number;
  resolve: () => void;
}

export class FakeClock implements Clock {
  private t: number;
  private sleepers: Sleeper[] = [];
  constructor(
    start = Date.parse('2026-01-01T00:00:00.000Z'),
    private readonly options: { autoAdvance?: boolean } = {},
  ) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  /** Timers not yet due (for assertions). */
  pending(): number[] {
    return this.sleepers.map((s) => s.at).sort((a, b) => a - b);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper: Sleeper = { at: this.t + Math.max(0, ms), resolve };
      const cancel = (): void => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        resolve();
      };
      signal?.addEventListener('abort', cancel, { once: true });
      sleeper.resolve = () => {
        signal?.removeEventListener('abort', cancel);
        resolve();
      };
      this.sleepers.push(sleeper);
      if (this.options.autoAdvance) {
        // One real millisecond: lets real processes and I/O make progress between jumps.
        setTimeout(() => {
          if (this.sleepers.includes(sleeper) && sleeper.at > this.t) this.advanceTo(sleeper.at);
        }, 1);
      }
      this.fire();
    });
  }

  advance(ms: number): void {
    this.advanceTo(this.t + ms);
  }

  advanceTo(t: number): void {
    if (t > this.t) this.t = t;
    this.fire();
  }

  private fire(): void {
    const due = this.sleepers.filter((s) => s.at <= this.t);
    if (!due.length) return;
    this.sleepers = this.sleepers.filter((s) => s.at > this.t);
    for (const s of due) s.resolve();
  }
}
