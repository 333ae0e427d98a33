/**
 * `orc-state init`: scaffold `.state/` (empty snapshot, empty log, archive/)
 * and the example layout (tasks/, capabilities/) in --root. Never overwrites
 * an existing file.
 *
 * Public API (stable): register(program, output).
 * Usage: orc-state init [--root DIR] [--json] [--lock-timeout MS]
 * Exit: 0 done; 2 unwritable root; 3 lock timeout.
 * Integration points: src/cli/program.ts; src/engine (initStore).
 * Dependencies: commander, ../../engine/init.js, ../support.js / ../render/engine.js.js.
 */
import type { Command } from 'commander';
import { engineOptions, lockTimeoutOf, rootOf, type EngineFlags } from '../support.js';
import type { Output } from '../output.js';

export function register(program: Command, output: Output): void {
  engineOptions(program.command('init').description('scaffold .state/ and the example layout (never overwrites files)')).action(
    async (flags: EngineFlags) => {
      const { initStore } = await import('../../engine/init.js');
      const result = await initStore(rootOf(flags), { lockTimeoutMs: lockTimeoutOf(flags) });
      if (flags.json) {
        output.json({ ok: true, ...result });
        return;
      }
      for (const c of result.created) output.out(`${output.paint('green', 'created')} ${c}`);
      for (const k of result.kept) output.out(`${output.paint('dim', 'kept')} ${k} (exists)`);
      output.out(result.definitions > 0 ? `next: orc-state sync   (registers the ${result.definitions} task definition(s) found)` : 'next: add tasks/<workstream_id>/<task_id>.json, then run orc-state sync');
    },
  );
}
