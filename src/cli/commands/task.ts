/**
 * `orc-state task <task_id> <trigger>`: request one task transition through
 * the commit path (machine guards, lock, atomic snapshot, durable append).
 *
 * Public API (stable): register(program, output).
 * Usage: orc-state task <task_id> <trigger> [--worker ID] [--error MSG]
 *        [--caused-by EVENT_ID] [--exit-code N] [--token T] [--root DIR] [--json] [--lock-timeout MS]
 * --token: the claim's lease token; the transition is refused (LEASE_REFUSED, exit 1)
 * when it is stale or belongs to another worker or task (src/engine/leases.ts).
 * Prints "acknowledged seq N ..." for each event only after the commit is durable.
 * Exit: 0 committed; 1 illegal transition (the message lists the triggers
 * allowed from the current state) or invariant violation; 2 usage/unknown task; 3 lock timeout.
 * Integration points: src/cli/program.ts; src/engine/commit.ts (applyTransitions).
 * Dependencies: commander, ../../engine/*.
 */
import type { Command } from 'commander';
import { engineOptions, intFlag, commitAndReport, type EngineFlags } from '../support.js';
import type { Output } from '../output.js';

interface TaskFlags extends EngineFlags {
  worker?: string;
  error?: string;
  causedBy?: string;
  exitCode?: string;
  token?: string;
}

export function register(program: Command, output: Output): void {
  engineOptions(
    program
      .command('task')
      .description('apply a trigger to a task (e.g. scheduler_assigned, worker_started, execution_completed)')
      .argument('<task_id>', 'task id')
      .argument('<trigger>', 'task machine trigger')
      .option('--worker <id>', 'the worker (for worker_started)')
      .option('--error <message>', 'error message recorded on the event (execution_failed, task_timeout, validation_failed)')
      .option('--caused-by <event_id>', 'event_id of the event that caused this one')
      .option('--exit-code <n>', 'exit code of the execution (execution_completed requires 0)')
      .option('--token <token>', 'the lease token from `orc-state claim`: refused unless it is the live lease of --worker on this task'),
  ).action(async (taskId: string, trigger: string, flags: TaskFlags) => {
    const exitCode = intFlag('--exit-code', flags.exitCode);
    await commitAndReport(output, flags, {
      entity_type: 'task',
      entity_id: taskId,
      trigger,
      timestamp: new Date().toISOString(),
      ...(flags.worker !== undefined ? { worker_id: flags.worker } : {}),
      ...(flags.error !== undefined ? { error: flags.error } : {}),
      ...(flags.causedBy !== undefined ? { caused_by: flags.causedBy } : {}),
      ...(exitCode !== undefined || flags.token !== undefined
        ? { metadata: { ...(exitCode !== undefined ? { exit_code: exitCode } : {}), ...(flags.token !== undefined ? { lease_token: flags.token } : {}) } }
        : {}),
    });
  });
}
