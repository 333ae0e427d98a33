/**
 * CLI entry: builds the commander program, runs it, maps errors to exit codes.
 *
 * Public API (stable): main(argv) → exit code.
 * Integration points: bin/orc-state.js; commands live in src/cli/commands/.
 * Dependencies: commander.
 */
import { CommanderError } from 'commander';
import { OrcError, EXIT, exitCodeFor } from '../errors.js';
import { buildProgram } from './program.js';
import { createOutput } from './output.js';

export async function main(argv: string[]): Promise<number> {
  const output = createOutput();
  const program = buildProgram(output);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    return reportError(error, output, argv.includes('--json'));
  }
}

function reportError(error: unknown, output: ReturnType<typeof createOutput>, asJson: boolean): number {
  if (error instanceof CommanderError) {
    // commander already printed its message (help, version, unknown option).
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof OrcError) {
    const loc = error.details.location;
    const where = loc ? `${loc.file}${loc.line ? `:${loc.line}:${loc.column ?? 1}` : ''}: ` : '';
    if (asJson) {
      output.json({ ok: false, error: { code: error.code, message: error.message, location: loc ?? null, fix: error.details.fix ?? null, ...error.details.data } });
    } else {
      output.err(`${output.paint('red', 'error')} ${where}${error.message}`);
      if (error.details.fix) output.err(`  fix: ${error.details.fix}`);
    }
    return exitCodeFor(error.code);
  }
  const err = error as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && typeof err.code === 'string' && typeof err.path === 'string') {
    output.err(`${output.paint('red', 'error')} ${err.path}: ${err.message}`);
    return EXIT.usage;
  }
  // Unexpected: say so plainly; the stack only when asked for.
  output.err(`${output.paint('red', 'internal error')} ${err instanceof Error ? err.message : String(err)}`);
  if (process.env.ORC_STATE_DEBUG) output.err(String(err instanceof Error ? err.stack : err));
  else output.err('  set ORC_STATE_DEBUG=1 for the stack trace, and please report it.');
  return EXIT.usage;
}
