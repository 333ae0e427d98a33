/**
 * `orc-state why <task_id>`: why a task is in its state, from the log alone
 * (AUDIT-001): its events, the caused_by chain, errors, retries, workers,
 * attempts and durations. Read-only.
 *
 * Public API (stable): register(program, output).
 * Usage: orc-state why <task_id> [--root DIR] [--json]
 * Exit: 0; 2 unknown task.
 * Integration points: src/cli/program.ts; src/engine/why.ts.
 * Dependencies: commander, ../../engine/*.
 */
import type { Command } from 'commander';
import { engineOptions, rootOf, type EngineFlags } from '../support.js';
import { printWhy } from '../render/engine.js';
import type { Output } from '../output.js';

export function register(program: Command, output: Output): void {
  engineOptions(program.command('why').description("explain a task's state from the event log").argument('<task_id>', 'task id'), { lock: false }).action(
    async (taskId: string, flags: EngineFlags) => {
      const { explainTask } = await import('../../engine/why.js');
      const report = await explainTask(rootOf(flags), taskId);
      if (flags.json) output.json({ ok: true, ...report });
      else printWhy(output, report);
    },
  );
}
