/**
 * `orc-state worker <worker_id> <trigger>`: register a worker or change its
 * state (registration_complete, health_check_timeout, shutdown_requested ...)
 * through the commit path.
 *
 * Public API (stable): register(program, output).
 * Usage: orc-state worker <worker_id> <trigger> [--capabilities a,b] [--error MSG]
 *        [--caused-by EVENT_ID] [--root DIR] [--json] [--lock-timeout MS]
 * Exit: 0 committed; 1 illegal transition (allowed triggers listed); 2 usage; 3 lock timeout.
 * Integration points: src/cli/program.ts; src/engine/commit.ts (applyTransitions).
 * Dependencies: commander, ../../engine/*.
 */
import type { Command } from 'commander';
import { engineOptions, commitAndReport, type EngineFlags } from '../support.js';
import type { Output } from '../output.js';

interface WorkerFlags extends EngineFlags {
  capabilities?: string;
  error?: string;
  causedBy?: string;
}

export function register(program: Command, output: Output): void {
  engineOptions(
    program
      .command('worker')
      .description('apply a trigger to a worker (worker_registered, registration_complete, health_check_timeout, ...)')
      .argument('<worker_id>', 'worker id')
      .argument('<trigger>', 'worker machine trigger')
      .option('--capabilities <list>', 'comma-separated capability ids (with worker_registered)')
      .option('--error <message>', 'error message recorded on the event')
      .option('--caused-by <event_id>', 'event_id of the event that caused this one'),
  ).action(async (workerId: string, trigger: string, flags: WorkerFlags) => {
    const capabilities = flags.capabilities === undefined ? undefined : flags.capabilities.split(',').map((c) => c.trim()).filter(Boolean);
    await commitAndReport(output, flags, {
      entity_type: 'worker',
      entity_id: workerId,
      trigger,
      timestamp: new Date().toISOString(),
      actor: process.env.ORC_STATE_ACTOR ?? workerId,
      ...(flags.error !== undefined ? { error: flags.error } : {}),
      ...(flags.causedBy !== undefined ? { caused_by: flags.causedBy } : {}),
      ...(capabilities !== undefined ? { metadata: { capabilities } } : {}),
    });
  });
}
