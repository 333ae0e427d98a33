/**
 * `orc-state ready`: tasks that can be scheduled now, most critical first.
 *
 * Public API (stable): register(program, output).
 * Flags: --workstream W, --explain (why each other pending/queued task waits),
 * --json, --root DIR. Read-only.
 * Exit: 0 (also when nothing is ready); 2 usage or unreadable input.
 * Integration points: src/cli/program.ts; src/graph/ready.ts does the work.
 * Dependencies: commander, ../../graph/repo.js, ../../graph/ready.js, ../../graph/render.js.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { OrcError } from '../../errors.js';
import type { Output } from '../output.js';

interface ReadyFlags {
  workstream?: string;
  explain?: boolean;
  json?: boolean;
  root: string;
}

export function register(program: Command, output: Output): void {
  program
    .command('ready')
    .description('list tasks whose dependencies are completed and whose resources are free, least slack first')
    .option('--workstream <id>', 'only this workstream')
    .option('--explain', 'also say why each other pending or queued task is blocked')
    .option('--json', 'machine-readable output')
    .option('--root <dir>', 'repository root', process.cwd())
    .action(async (flags: ReadyFlags) => {
      const root = resolve(flags.root);
      const [{ computeReady }, { loadGraphInputs }, { formatDuration }] = await Promise.all([
        import('../../graph/ready.js'),
        import('../../graph/repo.js'),
        import('../../graph/render.js'),
      ]);
      // Definitions from the per-user cache: ready prints no task-file locations, and the cache re-validates any changed file.
      // Statuses from the by_status index when it was derived from the current snapshot (ready reads nothing else of it).
      const inputs = await loadGraphInputs(root, { cachedDefinitions: true, statusesOnly: true });
      const { graph } = inputs.analysis;
      if (flags.workstream !== undefined && !graph.workstreams.includes(flags.workstream)) {
        throw new OrcError('NOT_FOUND', `no workstream "${flags.workstream}" (known: ${graph.workstreams.join(', ') || 'none'})`, {
          fix: 'name a directory under tasks/, or omit --workstream',
        });
      }
      // Without --explain only the number of blocked tasks is shown: their reasons are not worded.
      const report = computeReady(inputs.analysis, { ...(flags.workstream !== undefined ? { workstream: flags.workstream } : {}), reasons: flags.explain === true });
      if (flags.json) {
        output.json({
          ok: true,
          ready: report.ready,
          ...(flags.explain ? { blocked: report.blocked } : { blocked_count: report.blocked.length }),
          holders: report.holders,
          snapshot: inputs.snapshot ? { last_seq: inputs.snapshot.last_seq } : null,
          snapshot_problem: inputs.snapshotProblem,
        });
        return;
      }
      if (report.ready.length === 0) output.out('Nothing is ready to run now.');
      else {
        output.out(output.paint('bold', `Ready now (${report.ready.length}), most critical first:`));
        const w = Math.min(40, Math.max(...report.ready.map((r) => r.task_id.length)));
        for (const r of report.ready) {
          const mark = r.critical ? output.paint('yellow', '*') : ' ';
          const slack = r.critical ? output.paint('yellow', 'critical') : `slack ${formatDuration(r.slack_seconds)}`;
          const res = Object.keys(r.resources).length ? output.paint('dim', `  [${Object.entries(r.resources).map(([k, v]) => `${k}: ${v}`).join(', ')}]`) : '';
          output.out(`  ${mark} ${r.task_id.padEnd(w)}  ${formatDuration(r.estimated_duration_seconds).padStart(7)}  ${slack}  ${output.paint('dim', r.workstream_id)}  ${r.name}${res}`);
        }
      }
      if (flags.explain) {
        if (report.blocked.length > 0) output.out(output.paint('bold', `\nBlocked (${report.blocked.length}):`));
        for (const b of report.blocked) {
          output.out(`  ${b.task_id} ${output.paint('dim', `(${b.status}, ${b.workstream_id})`)}`);
          for (const reason of b.reasons) output.out(`    - ${reason}`);
        }
      } else if (report.blocked.length > 0) {
        output.out(output.paint('dim', `${report.blocked.length} other pending/queued task(s) are blocked; --explain says why`));
      }
      if (inputs.snapshotProblem) output.out(output.paint('yellow', `statuses come from the task files: ${inputs.snapshotProblem}`));
    });
}
