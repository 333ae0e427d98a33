/**
 * Metrics stay fresh while a long-lived engine process lives (OBS-001: at least every 60 s):
 * a periodic refresh of `.state/metrics.json` and `.state/metrics.prom` from the current snapshot,
 * on an injected clock so tests drive it without waiting on the wall clock.
 *
 * Public API (stable):
 *   - startMetricsTimer(root, { intervalMs?, clock?, onRefresh?, onError? }): MetricsTimer
 *     intervalMs defaults to and is capped at METRICS_MAX_INTERVAL_MS (60 s)
 *   - MetricsTimer { tick(): Promise<boolean> (one refresh now; false when there is no state or a newer file
 *     was kept), stop(): Promise<void> (no tick after it; waits for a running one) }
 *   - TimerClock, systemClock, METRICS_MAX_INTERVAL_MS
 * Ticks never overlap: a tick that is due while one runs is skipped. Each tick is tracked by
 * src/store/pending.ts. Writes go through writeMetrics (the seq guard of src/derive/guard.ts).
 * Integration points: `orc-state watch` (src/graph/watch.ts), `run` and `serve` (start it, stop it before exit).
 * Stability: stable.
 * Dependencies: ../engine/snapshot.js, ../engine/derive.js (recentEvents), ./metrics.js, ../store/pending.js.
 */
import { existsSync } from 'node:fs';
import { readSnapshot } from '../engine/snapshot.js';
import { recentEvents } from '../engine/derive.js';
import { statePaths } from '../engine/paths.js';
import { trackPending } from '../store/pending.js';
import { computeMetrics, writeMetrics } from './metrics.js';

export const METRICS_MAX_INTERVAL_MS = 60_000;

export interface TimerClock {
  now(): Date;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const systemClock: TimerClock = {
  now: () => new Date(),
  setInterval: (fn, ms) => {
    const handle = setInterval(fn, ms);
    handle.unref?.();
    return handle;
  },
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export interface MetricsTimerOptions {
  intervalMs?: number;
  clock?: TimerClock;
  onRefresh?: (written: boolean) => void;
  onError?: (error: unknown) => void;
}

export interface MetricsTimer {
  tick(): Promise<boolean>;
  stop(): Promise<void>;
}

export function startMetricsTimer(root: string, options: MetricsTimerOptions = {}): MetricsTimer {
  const clock = options.clock ?? systemClock;
  const intervalMs = Math.max(1, Math.min(options.intervalMs ?? METRICS_MAX_INTERVAL_MS, METRICS_MAX_INTERVAL_MS));
  const { stateDir } = statePaths(root);
  let running: Promise<boolean> | null = null;
  let stopped = false;

  const refresh = async (): Promise<boolean> => {
    if (!existsSync(stateDir)) return false;
    const snapshot = readSnapshot(root);
    if (!snapshot) return false;
    const now = clock.now();
    return writeMetrics(stateDir, computeMetrics(snapshot, recentEvents(root, now), now));
  };

  const tick = (): Promise<boolean> => {
    if (running) return running;
    running = trackPending(
      refresh()
        .then((written) => {
          options.onRefresh?.(written);
          return written;
        })
        .catch((error: unknown) => {
          options.onError?.(error);
          return false;
        })
        .finally(() => {
          running = null;
        }),
    );
    return running;
  };

  const handle = clock.setInterval(() => {
    if (!stopped && !running) void tick();
  }, intervalMs);

  return {
    tick,
    async stop() {
      stopped = true;
      clock.clearInterval(handle);
      if (running) await running;
    },
  };
}
