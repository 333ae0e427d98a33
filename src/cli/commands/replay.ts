/**
 * `orc-state replay`: rebuild the state from the event log (archives
 * included) as of a timestamp or seq, streaming. Read-only.
 *
 * Public API (stable): register(program, output).
 * Usage: orc-state replay [--at ISO] [--seq N] [--root DIR] [--json]
 * JSON: the snapshot shape (schemas/snapshot.v2.0.0) of the replayed state.
 * Exit: 0; 1 corrupt log (file:line reported); 2 usage.
 * Integration points: src/cli/program.ts; src/engine/replay.ts.
 * Dependencies: commander, ../../engine/*, ../../machines/index.js.
 */
import type { Command } from 'commander';
import { OrcError } from '../../errors.js';
import { engineOptions, intFlag, rootOf, type EngineFlags } from '../support.js';
import { printSummary } from '../render/engine.js';
import { summarize } from '../../engine/summary.js';
import type { Output } from '../output.js';

interface ReplayFlags extends EngineFlags {
  at?: string;
  seq?: string;
}

export function register(program: Command, output: Output): void {
  engineOptions(
    program
      .command('replay')
      .description('rebuild the state from the log at a timestamp or seq (read-only)')
      .option('--at <iso>', 'state as of this ISO-8601 timestamp')
      .option('--seq <n>', 'state after this seq'),
    { lock: false },
  ).action(async (flags: ReplayFlags) => {
    if (flags.at !== undefined && flags.seq !== undefined) throw new OrcError('USAGE', 'give --at or --seq, not both', { fix: 'drop one of them' });
    const seq = intFlag('--seq', flags.seq);
    const [{ toSnapshot }, { replay }] = await Promise.all([import('../../machines/index.js'), import('../../engine/replay.js')]);
    const state = await replay(rootOf(flags), { ...(flags.at !== undefined ? { at: flags.at } : {}), ...(seq !== undefined ? { seq } : {}) });
    const snapshot = toSnapshot(state, []);
    if (flags.json) {
      output.json(snapshot);
      return;
    }
    printSummary(output, summarize(snapshot));
  });
}
