/**
 * `orc-state run [WORKSTREAM...]`: execute the plan with a local worker pool.
 *
 * Public API (stable): register(program, output).
 * Flags: -j/--jobs N, --capabilities a,b, --dry-run, --fail-fast, --budget-usd X,
 * --adapter shell|aider|claude, --kill-grace-ms N, --shutdown-grace-ms N, --json, --root DIR.
 * Output: a live view on a TTY (log-update), plain timestamped lines otherwise, a JSON-lines
 * event stream with --json (the last line is the run_finished event with the summary).
 * Exit: 0 every selected task completed; 1 any failed, blocked, unassignable or unfinished;
 * 2 usage or unreadable input; 3 the .state lock timed out or another run holds .state/run.lock;
 * 130 after SIGINT, 143 after SIGTERM (running attempts are signalled, given the grace period,
 * and their outcomes recorded first). A second signal exits at once.
 * Integration points: src/cli/program.ts; src/scheduler does the work; src/cli/render/run-view.ts draws.
 * Dependencies: commander, ../../scheduler (lazy), ../render/run-view.js (lazy).
 */
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { Output } from '../output.js';

interface RunFlags {
  jobs?: number;
  capabilities?: string;
  dryRun?: boolean;
  failFast?: boolean;
  budgetUsd?: number;
  adapter?: 'shell' | 'aider' | 'claude';
  killGraceMs?: number;
  shutdownGraceMs?: number;
  json?: boolean;
  root: string;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
}

function nonNegative(value: string): number {
  const n = Number(value.replace(/^\$/, ''));
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number ≥ 0 (e.g. 2.50)');
  return n;
}

export function register(program: Command, output: Output): void {
  program
    .command('run')
    .description('execute the plan: ready tasks (least slack first) on a local worker pool, every step committed to .state/')
    .argument('[workstreams...]', 'workstreams to run (default: all)')
    .option('-j, --jobs <n>', 'parallel workers (default: max_parallelism of orc-state.config.json, else the core count)', positiveInt)
    .option('--capabilities <list>', 'capabilities the workers offer, comma-separated (default: every registered capability, plus shell)')
    .option('--dry-run', 'print stages, order, parallelism, resources and the critical path; execute and commit nothing')
    .option('--fail-fast', 'stop assigning at the first failure of a critical task, then drain')
    .option('--budget-usd <x>', 'do not start a task whose cost estimate exceeds what is left of this budget', nonNegative)
    .option('--adapter <type>', 'run every task with this adapter: shell, aider or claude (default: by task)')
    .option('--kill-grace-ms <n>', 'SIGTERM → SIGKILL grace of a timed-out attempt (default 5000)', positiveInt)
    .option('--shutdown-grace-ms <n>', 'after SIGINT/SIGTERM, how long running attempts get before SIGKILL (default 10000)', positiveInt)
    .option('--json', 'JSON-lines event stream (dry run: one JSON document)')
    .option('--root <dir>', 'repository root', process.cwd())
    .action(async (workstreams: string[], flags: RunFlags) => {
      const root = resolve(flags.root);
      const { OrcError } = await import('../../errors.js');
      if (flags.adapter !== undefined && !['shell', 'aider', 'claude'].includes(flags.adapter)) {
        throw new OrcError('USAGE', `--adapter ${flags.adapter} is not an adapter`, { fix: 'use --adapter shell, aider or claude (or leave it out: chosen per task)' });
      }
      const capabilities = flags.capabilities !== undefined ? flags.capabilities.split(',').map((c) => c.trim()).filter(Boolean) : undefined;
      const scheduler = await import('../../scheduler/index.js');
      if (flags.dryRun) {
        const report = await scheduler.planRun({ root, workstreams, ...(flags.jobs ? { jobs: flags.jobs } : {}), ...(capabilities ? { capabilities } : {}) });
        if (flags.json) {
          output.out(JSON.stringify(report));
          return;
        }
        printDryRun(report, output);
        return;
      }
      const { createRunView, formatSummary } = await import('../render/run-view.js');
      const mode = flags.json ? 'json' : output.interactive && process.stderr.isTTY ? 'tty' : 'plain';
      const view = await createRunView(output, mode);
      const controller = new AbortController();
      let signalled: NodeJS.Signals | null = null;
      const onSignal = (sig: NodeJS.Signals) => {
        if (signalled) process.exit(sig === 'SIGTERM' ? 143 : 130);
        signalled = sig;
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const result = await scheduler.runPlan({
          root,
          workstreams,
          ...(flags.jobs ? { jobs: flags.jobs } : {}),
          ...(capabilities ? { capabilities } : {}),
          failFast: flags.failFast === true,
          ...(flags.budgetUsd !== undefined ? { budgetUsd: flags.budgetUsd } : {}),
          ...(flags.adapter ? { adapter: flags.adapter } : {}),
          ...(flags.killGraceMs ? { killGraceMs: flags.killGraceMs } : {}),
          ...(flags.shutdownGraceMs ? { shutdownGraceMs: flags.shutdownGraceMs } : {}),
          signal: controller.signal,
          onEvent: (e) => view.onEvent(e),
        });
        view.stop();
        if (!flags.json) {
          output.out(formatSummary(result.summary, output));
          output.out(output.paint('dim', `summary: ${result.summaryFile}`));
        }
        process.exitCode = signalled === 'SIGTERM' ? 143 : signalled ? 130 : result.exitCode;
      } finally {
        view.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

function printDryRun(report: Awaited<ReturnType<typeof import('../../scheduler/index.js').planRun>>, output: Output): void {
  output.out(output.paint('bold', `Dry run: ${report.order.length} task(s) would run on ${report.jobs} worker(s)${report.already_completed ? ` (${report.already_completed} already completed, never run again)` : ''}; nothing executed, nothing committed.`));
  for (const ws of report.workstreams) {
    output.out(`\n${output.paint('bold', ws.workstream_id)}  max parallelism ${ws.max_parallelism}, critical path ${ws.critical_path_duration}s, total ${ws.total_estimated_duration}s`);
    for (const st of ws.stages) {
      const res = Object.entries(st.resource_requirements).map(([id, r]) => `${id} ${r.units}/${r.capacity < 0 ? '∞' : r.capacity}`).join(', ');
      output.out(`  stage ${st.stage}${st.critical_path ? output.paint('yellow', ' *') : '  '} ${st.parallel_tasks.join(', ')}  ${output.paint('dim', `(${st.parallel_tasks.length}/${st.max_parallelism} parallel, ~${st.estimated_duration_seconds}s${res ? `; ${res}` : ''})`)}`);
    }
    output.out(`  critical path: ${ws.critical_path_tasks.join(' → ') || '(none)'}`);
  }
  const shown = report.order.slice(0, 40);
  output.out(`\n${output.paint('bold', 'Start order')} (least slack, then priority):`);
  shown.forEach((t, i) => output.out(`  ${String(i + 1).padStart(3)}. ${t.task_id}  ${output.paint('dim', `${t.workstream_id}, slack ${t.slack_seconds}s, priority ${t.priority}`)}`));
  if (report.order.length > shown.length) output.out(output.paint('dim', `  … ${report.order.length - shown.length} more (--json lists all)`));
  if (report.resources.length) output.out(`\n${output.paint('bold', 'Resources')}: ${report.resources.map((r) => `${r.id} (${r.type}, ${r.max_holders < 0 ? 'unlimited' : r.max_holders}${r.refill_rate ? `, +${r.refill_rate}/s` : ''})`).join('; ')}`);
  if (report.unassignable.length) {
    output.out(`\n${output.paint('yellow', 'Cannot run')}:`);
    for (const u of report.unassignable) output.out(`  ${u.task_id}: ${u.reason}`);
  }
  for (const p of report.problems) output.out(output.paint('red', p));
}
