/**
 * `orc-state sync`: register task and workstream definitions the state does
 * not know yet (task_created / workstream_created events, one batch) and mark
 * tasks whose definition file is gone as orphaned.
 *
 * Public API (stable): register(program, output).
 * Usage: orc-state sync [--root DIR] [--json] [--lock-timeout MS]
 * Exit: 0 done; 1 a definition was refused by the machines or a task file could not be
 * loaded (each such file is reported with file:line:column and a fix); 3 lock timeout.
 * Integration points: src/cli/program.ts; src/engine/commit.ts (syncDefinitions).
 * Dependencies: commander, ../../engine/*.
 */
import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { engineOptions, lockTimeoutOf, rootOf, type EngineFlags } from '../support.js';
import { printAcknowledged } from '../render/engine.js';
import type { Output } from '../output.js';

export function register(program: Command, output: Output): void {
  engineOptions(program.command('sync').description('register task/workstream definitions not yet in .state (one batch)')).action(
    async (flags: EngineFlags) => {
      const { syncDefinitions } = await import('../../engine/commit.js');
      const r = await syncDefinitions(rootOf(flags), { lockTimeoutMs: lockTimeoutOf(flags) });
      if (r.skipped.length) process.exitCode = EXIT.findings;
      if (flags.json) {
        output.json({ ok: r.skipped.length === 0, created_tasks: r.createdTasks, created_workstreams: r.createdWorkstreams, orphaned: r.orphaned, skipped: r.skipped, events: r.events, ...(r.expired ? { expired: r.expired } : {}), last_seq: r.snapshot.last_seq, notices: r.notices });
        return;
      }
      for (const f of r.skipped) {
        output.err(`${f.file}:${f.line}:${f.column}: ${output.paint('red', 'error')} ${f.message} (not registered)`);
        output.err(`  fix: ${f.fix}`);
      }
      for (const n of r.notices) output.err(`${output.paint('yellow', n.kind === 'lease_expired' ? 'expired' : 'repaired')} ${n.message}`);
      if (r.events.length > 20) {
        const first = r.events[0];
        const last = r.events[r.events.length - 1];
        output.out(`${output.paint('green', 'acknowledged')} seq ${first?.seq}..${last?.seq} (${r.events.length} events)`);
      } else printAcknowledged(output, r.events);
      output.out(`${r.createdWorkstreams.length} workstream(s) and ${r.createdTasks.length} task(s) registered; state at seq ${r.snapshot.last_seq}`);
      if (r.orphaned.length) output.out(output.paint('yellow', `orphaned (definition file gone): ${r.orphaned.join(', ')}`));
    },
  );
}
