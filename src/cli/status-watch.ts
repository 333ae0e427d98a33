/**
 * `orc-state status --watch`: the status view redrawn on every commit (for SSH
 * sessions without a browser). On a terminal the screen is cleared and redrawn;
 * on a pipe or file (non-TTY) each redraw is appended after a `--- seq N ---`
 * line; --json prints one summary object per line. Colour follows Output
 * (NO_COLOR, FORCE_COLOR). SIGINT/SIGTERM stop it cleanly (exit 0).
 *
 * Public API (internal): watchStatus(output, root, options) → Promise<void> (resolves once stopped).
 * Integration points: src/cli/commands/status.ts; src/live/log-follower.ts (wake-ups on each append).
 * Dependencies: ../engine/{snapshot,summary}.js, ./render/engine.js, ../live/log-follower.js.
 */
import type { OrcEvent, Snapshot } from '../model.js';
import { describeEvent, printSummary } from './render/engine.js';
import { summarize } from '../engine/summary.js';
import { clockOf } from '../core/clock.js';
import { readSnapshot } from '../engine/snapshot.js';
import { followLog } from '../live/log-follower.js';
import type { Output } from './output.js';

export interface WatchStatusOptions {
  workstream?: string;
  json?: boolean;
  /** Clear the screen before each redraw (default: stdout is a terminal). */
  clear?: boolean;
  pollMs?: number;
}

const RECENT = 8;

export function watchStatus(output: Output, root: string, options: WatchStatusOptions = {}): Promise<void> {
  const clear = options.clear ?? Boolean(process.stdout.isTTY);
  const recent: OrcEvent[] = [];
  let lastDrawn = -1;
  const draw = (): void => {
    let snapshot: Snapshot | null;
    try {
      snapshot = readSnapshot(root);
    } catch (error) {
      output.err(output.paint('red', `cannot read the snapshot: ${error instanceof Error ? error.message : String(error)}`));
      return;
    }
    if (!snapshot || snapshot.last_seq === lastDrawn) return;
    lastDrawn = snapshot.last_seq;
    if (options.workstream) {
      snapshot.tasks = snapshot.tasks.filter((t) => t.workstream_id === options.workstream);
      snapshot.workstreams = snapshot.workstreams.filter((w) => w.workstream_id === options.workstream);
    }
    const summary = summarize(snapshot, clockOf());
    if (options.json) {
      output.out(JSON.stringify({ type: 'status', ...summary, recent_events: recent.map((e) => e.seq) }));
      return;
    }
    output.out(clear ? `\u001b[H\u001b[2J${output.paint('dim', `orc-state status --watch (${root}); Ctrl-C to stop`)}` : `--- seq ${snapshot.last_seq} (${snapshot.timestamp}) ---`);
    printSummary(output, summary);
    if (recent.length) {
      output.out('recent events:');
      for (const e of recent) output.out(`  ${output.paint('dim', e.timestamp)} ${describeEvent(e)}`);
    }
  };
  let scheduled = false;
  const follower = followLog(root, {
    pollMs: options.pollMs,
    onEvents(events) {
      for (const e of events) {
        if (options.workstream && e.workstream_id !== options.workstream && e.entity_type !== 'worker') continue;
        recent.push(e);
      }
      recent.splice(0, Math.max(0, recent.length - RECENT));
      if (scheduled) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        draw();
      });
    },
    onProblem(p) {
      output.err(output.paint('yellow', `problem: ${p.file}:${p.line}: ${p.message}`));
    },
  });
  draw();
  // The follower's watcher and poll do not keep the process alive (serve's HTTP server does); this does.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  return new Promise<void>((done) => {
    const stop = (): void => {
      clearInterval(keepAlive);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      follower.close();
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
