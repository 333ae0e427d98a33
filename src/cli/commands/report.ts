/**
 * `orc-state report <task_id>`: report one attempt with the worker output
 * contract (schemas/worker-output.v1.0.0.schema.json) under the claim's lease.
 *
 * Public API (stable): register(program, output).
 * Usage: orc-state report <task_id> --worker W --token T (--output FILE | --output-json TEXT) [--json]
 * The output's status picks the trigger (success → execution_completed then
 * validation_passed/failed; failed → execution_failed; timeout → task_timeout);
 * the output is recorded under .state/outputs/.
 * Exit: 0 committed; 1 refused (stale or foreign token, illegal transition); 2 usage or an invalid output; 3 lock timeout.
 * Integration points: src/cli/program.ts; src/engine/report.ts does the work (the MCP `report` tool calls this command).
 * Dependencies: commander, ../support.js, ../render/engine.js, ../../errors.js.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { OrcError } from '../../errors.js';
import { engineOptions, lockTimeoutOf, rootOf, type EngineFlags } from '../support.js';
import { printAcknowledged } from '../render/engine.js';
import type { Locate } from '../../io/located-json.js';
import type { Output } from '../output.js';

interface ReportFlags extends EngineFlags {
  worker: string;
  token: string;
  output?: string;
  outputJson?: string;
}

async function parseOutput(flags: ReportFlags): Promise<{ value: unknown; file: string; locate: Locate }> {
  if ((flags.output === undefined) === (flags.outputJson === undefined)) {
    throw new OrcError('USAGE', 'give the worker output with exactly one of --output FILE and --output-json TEXT', { fix: 'e.g. --output .state/outputs/my.worker-output.json' });
  }
  const file = flags.output ?? 'output';
  let text: string;
  try {
    text = flags.output !== undefined ? readFileSync(flags.output, 'utf8') : (flags.outputJson as string);
  } catch (error) {
    throw new OrcError('UNREADABLE_INPUT', `cannot read ${file}: ${(error as Error).message}`, { location: { file }, fix: 'check the path' });
  }
  const { parseJsonText } = await import('../../io/located-json.js');
  const read = parseJsonText(text, file, { requirement: 'AIDER-INT-003' });
  if (!read.ok) {
    const f = read.findings.find((x) => x.severity === 'error') ?? read.findings[0];
    throw new OrcError('INVALID_INPUT', `${file}:${f?.line ?? 1}:${f?.column ?? 1}: ${f?.message ?? 'not JSON'}`, {
      location: { file, line: f?.line ?? 1, column: f?.column ?? 1 },
      fix: f?.fix ?? 'pass the worker output as one JSON object',
    });
  }
  return { value: read.value, file, locate: read.locate };
}

export function register(program: Command, output: Output): void {
  engineOptions(
    program
      .command('report')
      .description("report an attempt's worker output under the claim's lease (the output's status picks the trigger)")
      .argument('<task_id>', 'task id')
      .requiredOption('--worker <id>', 'the worker holding the lease')
      .requiredOption('--token <token>', 'the lease token `orc-state claim` returned')
      .option('--output <file>', 'the worker output (JSON file)')
      .option('--output-json <text>', 'the worker output as JSON text'),
  ).action(async (taskId: string, flags: ReportFlags) => {
    const { value, file, locate } = await parseOutput(flags);
    const { reportOutput } = await import('../../engine/report.js');
    const r = await reportOutput(rootOf(flags), { task_id: taskId, worker_id: flags.worker, token: flags.token, output: value, source: { file, locate }, lockTimeoutMs: lockTimeoutOf(flags) });
    if (flags.json) {
      output.json(r);
      return;
    }
    printAcknowledged(output, r.events);
    output.out(`task ${r.task_id} is ${r.status} (attempt ${r.attempt}, output recorded in ${r.output_file})`);
  });
}
