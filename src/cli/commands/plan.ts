/**
 * `orc-state plan [workstream]`: stages, durations, critical path and
 * resources of each workstream's execution plan.
 *
 * Public API (stable): register(program, output).
 * Flags: --format text|json|mermaid|dot (default text; --json = --format json),
 * --max-parallel N (overrides orc-state.config.json), --write / --no-write,
 * --root DIR.
 * Writing: the DAG and plan files are derived views, so `plan` regenerates
 * them (under the .state lock) whenever `.state/` exists: that is how a
 * person refreshes them after editing dependencies. `--no-write` previews
 * only. A `--max-parallel` override is a what-if and is not written unless
 * `--write` is given too. `--write` also creates `.state/` when missing.
 * Exit: 0 ok; 1 a selected workstream's plan can never run (cycle, unknown
 * resource, claim above capacity: located findings are printed) ; 2 usage or
 * unreadable input; 3 lock timeout.
 * Integration points: src/cli/program.ts; src/graph (analysis, files, render).
 * Dependencies: commander, ../../graph/*, ../../io/lock.js.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { OrcError } from '../../errors.js';
import type { Finding } from '../../model.js';
import type { DagFile, ExecutionPlanFile } from '../../graph/files.js';
import type { Output } from '../output.js';
import { stateDirOf } from '../../core/state-paths.js';

interface PlanFlags {
  format?: string;
  json?: boolean;
  maxParallel?: number;
  write?: boolean;
  root: string;
}

const FORMATS = ['text', 'json', 'mermaid', 'dot'] as const;

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return Number(value.trim());
}

export function formatFinding(f: Finding, output: Output): string {
  const sev = f.severity === 'error' ? output.paint('red', 'error') : f.severity === 'warning' ? output.paint('yellow', 'warning') : output.paint('dim', 'notice');
  return `${f.file}:${f.line}:${f.column}: ${sev} ${f.message} [${f.requirement}]\n  fix: ${f.fix}`;
}

export function register(program: Command, output: Output): void {
  program
    .command('plan')
    .description('show the execution plan: stages, durations, critical path, resources (regenerates .state/dag_* and execution_plan_* files)')
    .argument('[workstream]', 'only this workstream')
    .option('--format <format>', `output format: ${FORMATS.join('|')}`, 'text')
    .option('--json', 'same as --format json')
    .option('--max-parallel <n>', 'tasks that may run at once (default: orc-state.config.json max_parallelism, else 4)', positiveInt)
    .option('--write', 'write the DAG and plan files (default when .state/ exists and no --max-parallel)')
    .option('--no-write', 'print only, never write')
    .option('--root <dir>', 'repository root', process.cwd())
    .action(async (workstream: string | undefined, flags: PlanFlags) => {
      const format = flags.json ? 'json' : (flags.format ?? 'text');
      const asked = flags.format ?? format;
      if (!(FORMATS as readonly string[]).includes(asked)) {
        throw new OrcError('USAGE', `unknown format "${asked}"`, { fix: `use one of ${FORMATS.join(', ')}` });
      }
      const root = resolve(flags.root);
      const [{ withLock }, { buildDagFile, buildExecutionPlan, writeAnalysisFiles }, { loadGraphInputs }, { renderDot, renderMermaid, renderPlanText }] = await Promise.all([
        import('../../io/lock.js'),
        import('../../graph/files.js'),
        import('../../graph/repo.js'),
        import('../../graph/render.js'),
      ]);
      const inputs = await loadGraphInputs(root, flags.maxParallel !== undefined ? { maxParallel: flags.maxParallel } : {});
      const { analysis } = inputs;
      const { graph } = analysis;
      let selected: number[] = graph.workstreams.map((_, k) => k);
      if (workstream !== undefined) {
        const k = graph.workstreams.indexOf(workstream);
        if (k < 0) {
          throw new OrcError('NOT_FOUND', `no workstream "${workstream}" (known: ${graph.workstreams.join(', ') || 'none'})`, {
            fix: 'name a directory under tasks/, or omit the argument to plan every workstream',
          });
        }
        selected = [k];
      }
      const now = new Date().toISOString();
      const plans: ExecutionPlanFile[] = [];
      const dags: DagFile[] = [];
      const selectedNames = new Set(selected.map((k) => graph.workstreams[k] as string));
      const findings: Finding[] = [...inputs.config.findings.filter((f) => f.severity !== 'notice')];
      // Graph findings that touch a selected workstream.
      for (const f of analysis.findings) findings.push(f);
      const impossible: string[] = [];
      for (const k of selected) {
        const dag = buildDagFile(analysis, k, now);
        if (dag) dags.push(dag);
        const planned = buildExecutionPlan(analysis, k, now);
        findings.push(...planned.findings);
        if (planned.plan) plans.push(planned.plan);
        else impossible.push(graph.workstreams[k] as string);
      }
      const taskErrors = inputs.taskSet.findings.filter((f) => f.severity === 'error');

      const stateDir = stateDirOf(root);
      const write = flags.write === true || (flags.write !== false && flags.maxParallel === undefined && existsSync(stateDir));
      let written: string[] = [];
      let removed: string[] = [];
      if (write) {
        mkdirSync(stateDir, { recursive: true });
        // The analysis printed above is the one written (same inputs, no second pass).
        const result = await withLock(stateDir, {}, () => writeAnalysisFiles(root, analysis, workstream !== undefined ? { workstreams: selectedNames } : {}));
        written = result.written;
        removed = result.removed;
      }

      if (format === 'json') {
        output.json({
          ok: impossible.length === 0,
          workstreams: [...selectedNames],
          plans,
          dags,
          impossible,
          findings,
          task_findings: taskErrors.length,
          snapshot: inputs.snapshot ? { last_seq: inputs.snapshot.last_seq } : null,
          snapshot_problem: inputs.snapshotProblem,
          written,
          removed,
        });
      } else if (format === 'mermaid') {
        output.out(renderMermaid(plans, dags).trimEnd());
      } else if (format === 'dot') {
        output.out(renderDot(plans, dags).trimEnd());
      } else {
        const names = new Map<string, string>();
        for (const dag of dags) for (const n of dag.nodes) names.set(n.task_id, n.name);
        if (plans.length > 0) output.out(renderPlanText(plans, output.paint, { names }));
        for (const ws of impossible) output.out(`${output.paint('red', `Workstream ${ws}: no plan`)} (it can never run; see below)`);
        for (const f of findings) output.out(formatFinding(f, output));
        if (taskErrors.length > 0) {
          output.out(output.paint('yellow', `${taskErrors.length} problem(s) in task files left those tasks out; run \`orc-state validate\` for details`));
        }
        if (inputs.snapshotProblem) output.out(output.paint('yellow', `statuses come from the task files: ${inputs.snapshotProblem}`));
        if (write) {
          output.out(output.paint('dim', written.length || removed.length ? `wrote ${[...written, ...removed.map((r) => `removed ${r}`)].join(', ')}` : 'DAG and plan files are up to date'));
        } else if (flags.maxParallel !== undefined && flags.write !== false) {
          output.out(output.paint('dim', 'what-if with --max-parallel: files not written (add --write to keep it)'));
        }
      }
      if (impossible.length > 0 || findings.some((f) => f.severity === 'error' && f.requirement !== 'DAG-VIEW-003')) process.exitCode = 1;
    });
}
