/**
 * `orc-state validate`: the compliance gate on the command line.
 *
 * Public API (stable): register(program, output).
 * Flags: --compliance (every rule), --section S (repeatable, comma list),
 * --requirement ID[,ID], --format F[=FILE] (repeatable; text|json|sarif|junit|github),
 * --strict, --max-warnings N, --fix, --root DIR, --json (= --format json), --verbose,
 * --profile runtime|full (default: orc-state.config.json's "profile", else runtime;
 * document requirements outside the profile are reported N/A).
 * Without --compliance/--section/--requirement it runs the `tasks` and
 * `registry` sections (issue 2 item 5). Read-only unless --fix.
 * Exit: 0 gate passed; 1 FAIL (WARN too under --strict, or more warnings than
 * --max-warnings); 2 usage error, unreadable root, or a rule could not be evaluated.
 * Integration points: src/cli/program.ts; scripts/validate/ drop-ins call this command.
 * Dependencies: commander, ../../compliance/runner.js, ../../compliance/formatters/*.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { OrcError } from '../../errors.js';
import type { FormatSpec } from '../../compliance/formatters/index.js';
import type { Output } from '../output.js';

interface ValidateFlags {
  compliance?: boolean;
  section: string[];
  requirement: string[];
  format: string[];
  strict?: boolean;
  maxWarnings?: number;
  fix?: boolean;
  root: string;
  json?: boolean;
  verbose?: boolean;
  profile?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return Number(value.trim());
}

export const DEFAULT_SECTIONS = ['tasks', 'registry'];

export function register(program: Command, output: Output): void {
  program
    .command('validate')
    .description('check the repo against the requirement catalog (default: tasks and registry sections)')
    .option('--compliance', 'run every requirement rule (all sections)')
    .option('--section <name>', 'only this section: state|tasks|dag|failure-modes|docs|registry|machines|audit|metrics (repeatable)', collect, [])
    .option('--requirement <ids>', 'only these requirement ids, comma-separated (repeatable)', collect, [])
    .option('--format <format[=file]>', 'text|json|sarif|junit|github, optionally =FILE (repeatable; default text)', collect, [])
    .option('--strict', 'SHOULD violations (WARN) fail the gate too')
    .option('--max-warnings <n>', 'fail when there are more than N warnings', nonNegativeInt)
    .option('--fix', 'repair what is safe (each repair is reported); validation is read-only otherwise')
    .option('--verbose', 'also show notices')
    .option('--profile <name>', 'runtime (state, tasks, DAG, registries, audit, metrics) or full (also the document requirements); default from orc-state.config.json')
    .option('--root <dir>', 'repository root', process.cwd())
    .option('--json', 'machine-readable report on stdout (same as --format json)')
    .action(async (flags: ValidateFlags) => {
      process.exitCode = await runValidate(flags, output);
    });
}

export async function runValidate(flags: ValidateFlags, output: Output): Promise<number> {
  const [{ gateExitCode, runCompliance }, { formatReport, parseFormatSpec }, { formatGithubSummary }] = await Promise.all([
    import('../../compliance/runner.js'),
    import('../../compliance/formatters/index.js'),
    import('../../compliance/formatters/github.js'),
  ]);
  const specs: FormatSpec[] = flags.format.map(parseFormatSpec);
  // --json promises one JSON document on stdout: another report there would break it.
  const clash = flags.json ? specs.find((s) => s.file === undefined && s.format !== 'json') : undefined;
  if (clash) {
    throw new OrcError('USAGE', `--json prints the JSON report on stdout; --format ${clash.format} would print there too`, {
      fix: `write that report to a file (--format ${clash.format}=FILE) or drop --json`,
    });
  }
  if (flags.json && !specs.some((s) => s.format === 'json' && s.file === undefined)) specs.push({ format: 'json' });
  if (specs.length === 0) specs.push({ format: 'text' });
  const sections = flags.compliance ? [] : flags.section;
  const filtered = flags.compliance || flags.section.length > 0 || flags.requirement.length > 0;
  const root = resolve(flags.root);
  const report = await runCompliance({
    root,
    sections: filtered ? sections : DEFAULT_SECTIONS,
    requirements: flags.requirement,
    fix: Boolean(flags.fix),
    ...(flags.profile === undefined ? {} : { profile: flags.profile }),
    strict: Boolean(flags.strict),
    ...(flags.maxWarnings === undefined ? {} : { maxWarnings: flags.maxWarnings }),
    onProgress: (i, total, id) => output.progress(`validate [${i + 1}/${total}] ${id}`),
  });
  output.progressDone();
  const exitCode = gateExitCode(report, { strict: flags.strict, maxWarnings: flags.maxWarnings });
  for (const spec of specs) {
    const toFile = spec.file !== undefined;
    const text = formatReport(spec.format, report, {
      exitCode,
      strict: Boolean(flags.strict),
      verbose: Boolean(flags.verbose),
      ...(toFile ? {} : { paint: output.paint }),
    });
    if (toFile) {
      const target = resolve(spec.file!);
      try {
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, text);
      } catch (error) {
        throw new OrcError('UNREADABLE_INPUT', `cannot write the ${spec.format} report to ${target}: ${(error as Error).message}`, {
          location: { file: target },
          fix: 'pick a writable path for --format FORMAT=FILE',
        });
      }
    } else {
      output.out(text.endsWith('\n') ? text.slice(0, -1) : text);
    }
    if (spec.format === 'github' && process.env.GITHUB_STEP_SUMMARY) {
      try {
        appendFileSync(process.env.GITHUB_STEP_SUMMARY, formatGithubSummary(report));
      } catch (error) {
        output.err(`warning: cannot append to $GITHUB_STEP_SUMMARY: ${(error as Error).message}`);
      }
    }
  }
  return exitCode;
}
