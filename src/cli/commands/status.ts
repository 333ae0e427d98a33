/**
 * `orc-state status`: the current state from `.state/current.json`
 * (read-only: never takes the lock, never writes).
 *
 * Public API (stable): register(program, output).
 * Usage: orc-state status [--workstream ID] [--watch] [--root DIR] [--json]
 * --watch: redraw on every commit until Ctrl-C (../status-watch.ts; --json: one summary per line).
 * JSON: { ok, last_seq, log_last_seq, timestamp, stale, tasks (counts), workstreams, workers, orphaned, task_states };
 * a worker's lease says `expired: true` once the commit clock passed it (the next writer expires it).
 * Exit: 0; 2 no state yet or unreadable snapshot.
 * Integration points: src/cli/program.ts; src/engine/snapshot.ts, log.ts.
 * Dependencies: commander, ../../engine/*.
 */
import type { Command } from 'commander';
import { OrcError } from '../../errors.js';
import { engineOptions, rootOf, type EngineFlags } from '../support.js';
import { printSummary } from '../render/engine.js';
import { summarize } from '../../engine/summary.js';
import { clockOf } from '../../core/clock.js';
import type { Output } from '../output.js';

interface StatusFlags extends EngineFlags {
  workstream?: string;
  watch?: boolean;
}

export function register(program: Command, output: Output): void {
  engineOptions(
    program.command('status').description('show the current state of workstreams, tasks and workers (read-only)').option('--workstream <id>', 'only this workstream').option('--watch', 'redraw on every commit until Ctrl-C'),
    { lock: false },
  ).action(async (flags: StatusFlags) => {
    const root = rootOf(flags);
    if (flags.watch) {
      const { watchStatus } = await import('../status-watch.js');
      await watchStatus(output, root, { workstream: flags.workstream, json: flags.json });
      return;
    }
    const [{ lastLoggedSeq }, { readSnapshot, placeholderSnapshot }] = await Promise.all([import('../../engine/log.js'), import('../../engine/snapshot.js')]);
    let snapshot = readSnapshot(root);
    // The guide's Quick Start current.json (no state yet): an empty store, shown as such.
    const placeholderText = snapshot ? null : placeholderSnapshot(root);
    const placeholder = placeholderText !== null;
    if (placeholderText !== null) {
      const { emptyState, toSnapshot } = await import('../../machines/index.js');
      snapshot = toSnapshot(emptyState(), []);
      // Show the placeholder's own timestamp (the guide writes one), not the empty state's epoch.
      const ts = placeholderText.trim() === '' ? undefined : (JSON.parse(placeholderText.replace(/^\uFEFF/, '')) as { timestamp?: unknown }).timestamp;
      if (typeof ts === 'string') snapshot.timestamp = ts;
    }
    if (!snapshot) {
      const logged = lastLoggedSeq(root).seq;
      throw new OrcError('NOT_FOUND', `no state in ${root}/.state (current.json is missing${logged ? `, the log ends at seq ${logged}` : ''})`, {
        fix: logged ? 'run `orc-state doctor --repair` to rebuild current.json from the log (or `orc-state replay` to see the state now)' : 'run `orc-state init` then `orc-state sync`',
      });
    }
    if (flags.workstream) {
      snapshot.tasks = snapshot.tasks.filter((t) => t.workstream_id === flags.workstream);
      snapshot.workstreams = snapshot.workstreams.filter((w) => w.workstream_id === flags.workstream);
    }
    const logged = lastLoggedSeq(root);
    const summary = summarize(snapshot, clockOf());
    const stale = logged.seq !== snapshot.last_seq;
    const note = placeholder ? "current.json is the guide's Quick Start placeholder: an empty store; `orc-state init` upgrades it in place and registers the task files under tasks/" : undefined;
    if (flags.json) {
      output.json({ ok: true, ...summary, log_last_seq: logged.seq, stale, task_states: snapshot.tasks, ...(note ? { placeholder: true, note } : {}) });
      return;
    }
    printSummary(output, summary);
    if (note) output.err(output.paint('yellow', `note: ${note}`));
    if (stale) output.err(output.paint('yellow', `note: the log ends at seq ${logged.seq} but current.json is at seq ${snapshot.last_seq}; run \`orc-state doctor\``));
  });
}
