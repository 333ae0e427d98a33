/**
 * Worker health from heartbeats, on the injected clock (SM-DEF-003: idle/busy →
 * unresponsive on missed heartbeats, back on recovery, shut down after the
 * maximum timeout).
 *
 * Public API (stable):
 *   - HealthMonitor(clock, { heartbeatTimeoutMs, maxTimeoutMs })
 *       register(id) · beat(id) · forget(id)
 *       check() → HealthChange[]: each worker whose state changes, with the
 *       worker-machine trigger to commit (health_check_timeout,
 *       health_check_recovered, max_timeout_exceeded)
 *   - probeProcess(pid) → 'alive' | 'stopped' | 'gone': the heartbeat source the
 *     pool uses for a busy worker (a process stopped with SIGSTOP gives no heartbeat; one
 *     that has exited, gone or a zombie, still beats: it is finishing and its outcome is on
 *     the way, which on a loaded machine, or on a test's auto-advancing clock, can take
 *     several heartbeat intervals); an idle worker beats at every scheduler tick
 * Integration points: ./loop.ts feeds beats and commits the changes in its tick batch.
 * Dependencies: node:fs, ./clock.js.
 */
import { readFileSync } from 'node:fs';
import type { Clock } from './clock.js';

export interface HealthChange {
  worker_id: string;
  trigger: 'health_check_timeout' | 'health_check_recovered' | 'max_timeout_exceeded';
  silent_ms: number;
}

interface Entry {
  last: number;
  unresponsive: boolean;
  dead: boolean;
}

export class HealthMonitor {
  private readonly workers = new Map<string, Entry>();
  constructor(
    private readonly clock: Clock,
    readonly options: { heartbeatTimeoutMs: number; maxTimeoutMs: number },
  ) {}

  register(id: string): void {
    this.workers.set(id, { last: this.clock.now(), unresponsive: false, dead: false });
  }

  forget(id: string): void {
    this.workers.delete(id);
  }

  beat(id: string): void {
    const e = this.workers.get(id);
    if (e && !e.dead) e.last = this.clock.now();
  }

  isUnresponsive(id: string): boolean {
    return this.workers.get(id)?.unresponsive ?? false;
  }

  check(): HealthChange[] {
    const now = this.clock.now();
    const out: HealthChange[] = [];
    for (const [id, e] of this.workers) {
      if (e.dead) continue;
      const silent = now - e.last;
      if (!e.unresponsive && silent > this.options.heartbeatTimeoutMs) {
        e.unresponsive = true;
        out.push({ worker_id: id, trigger: 'health_check_timeout', silent_ms: silent });
      } else if (e.unresponsive && silent <= this.options.heartbeatTimeoutMs) {
        e.unresponsive = false;
        out.push({ worker_id: id, trigger: 'health_check_recovered', silent_ms: silent });
      } else if (e.unresponsive && silent > this.options.maxTimeoutMs) {
        e.dead = true;
        out.push({ worker_id: id, trigger: 'max_timeout_exceeded', silent_ms: silent });
      }
    }
    return out;
  }
}

/** Linux /proc state of a process: running/sleeping count as alive; stopped (T/t) or zombie (Z) give no heartbeat. */
export function probeProcess(pid: number): 'alive' | 'stopped' | 'gone' {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'T' || state === 't') return 'stopped';
    if (state === 'Z' || state === 'X') return 'gone';
    return 'alive';
  } catch {
    try {
      process.kill(pid, 0);
      return 'alive';
    } catch {
      return 'gone';
    }
  }
}
