/**
 * CLI entry: builds the commander program, runs it, maps errors to exit codes.
 *
 * Public API (stable): main(argv) → exit code; runCommand(argv, output) → exit code (internal: the MCP server); wantsJson(argv) (internal).
 * Every failure ends here: OrcError, commander usage errors, errno errors and
 * unexpected exceptions all become one message on stderr (never a stack trace
 * unless ORC_STATE_DEBUG is set) and, with --json (or --format json), one JSON
 * document `{ ok: false, error: { code, message, location, fix } }` on stdout.
 * Integration points: bin/orc-state.js; commands live in src/cli/commands/.
 * Before returning, waits for background work tracked in src/store/pending.ts (derived files).
 * Dependencies: commander, ../store/pending.js.
 */
import { CommanderError } from 'commander';
import { OrcError, EXIT, exitCodeFor } from '../errors.js';
import { buildProgram } from './program.js';
import { createOutput, type Output } from './output.js';
import { drainPending } from '../store/pending.js';

let pipeGuarded = false;

/** `orc-state log ... | head`: a reader that went away is not an error (no EPIPE stack trace); stop quietly. */
function guardBrokenPipes(): void {
  if (pipeGuarded) return;
  pipeGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      // Nowhere left to report to: end with the status earned so far (EPIPE) or 2 (any other write error).
      process.exit(error.code === 'EPIPE' ? (typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok) : EXIT.usage);
    });
  }
}

export async function main(argv: string[]): Promise<number> {
  guardBrokenPipes();
  return runCommand(argv, createOutput());
}

/**
 * Run one command line (argv as process.argv: node, script, args...) printing through `output`;
 * errors are reported as the CLI reports them. The MCP server runs its tools through it, so a
 * tool returns exactly what the command prints with --json.
 */
export async function runCommand(argv: string[], output: Output): Promise<number> {
  const program = await buildProgram(output, argv);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    return reportError(error, output, wantsJson(argv));
  } finally {
    // Background derived-file refreshes finish before the process ends: fresh files are left behind.
    await drainPending();
  }
}

/** True when the command line asks for machine-readable output (errors then go to stdout as JSON too). */
export function wantsJson(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a === '--json' || a === '--format=json' || (a === '--format' && argv[i + 1] === 'json')) return true;
  }
  return false;
}

/** One line, so the document is also a valid JSON-lines record (watch --json prints one object per line). */
function jsonError(output: Output, code: string, message: string, location: unknown, fix: string | null, extra: Record<string, unknown> = {}): void {
  output.out(JSON.stringify({ ok: false, error: { code, message, location: location ?? null, fix, ...extra } }));
}

function reportError(error: unknown, output: Output, asJson: boolean): number {
  if (error instanceof CommanderError) {
    // commander already printed its message (help, version, unknown option).
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
    if (error.exitCode === 0) return EXIT.ok;
    if (asJson) {
      // commander's own code (e.g. commander.unknownOption) is kept as `reason`.
      jsonError(output, 'USAGE', error.message.replace(/^error: /, ''), null, 'run the command with --help for its usage', { reason: error.code });
    }
    return EXIT.usage;
  }
  if (error instanceof OrcError) {
    const loc = error.details.location;
    // Human form: `file:line:column: message`, without repeating a location the message already starts with.
    let message = error.message;
    if (loc && message.startsWith(`${loc.file}:`)) message = message.slice(loc.file.length).replace(/^(:\d+)*:\s*/, '');
    const named = loc !== undefined && !loc.line && message.startsWith(loc.file);
    const where = loc && !named ? `${loc.file}${loc.line ? `:${loc.line}:${loc.column ?? 1}` : ''}: ` : '';
    if (asJson) {
      jsonError(output, error.code, error.message, loc, error.details.fix ?? null, error.details.data);
    } else {
      output.err(`${output.paint('red', 'error')} ${where}${message}`);
      if (error.details.fix) output.err(`  fix: ${error.details.fix}`);
    }
    return exitCodeFor(error.code);
  }
  const err = error as NodeJS.ErrnoException;
  // File-system errors (ENOENT, EISDIR, EACCES, ENOSPC ...) are about the user's files or machine, not bugs.
  if (err && typeof err === 'object' && typeof err.code === 'string' && /^E[A-Z0-9]+$/.test(err.code) && typeof err.syscall === 'string') {
    const fix = errnoFix(err.code);
    const where = typeof err.path === 'string' ? err.path : null;
    if (asJson) jsonError(output, 'UNREADABLE_INPUT', err.message, where ? { file: where } : null, fix, { errno: err.code });
    else {
      output.err(`${output.paint('red', 'error')} ${where ? `${where}: ` : ''}${err.message}`);
      output.err(`  fix: ${fix}`);
    }
    return EXIT.usage;
  }
  // Unexpected: say so plainly; the stack only when asked for.
  const message = err instanceof Error ? err.message : String(err);
  if (asJson) jsonError(output, 'INTERNAL', message, null, 'set ORC_STATE_DEBUG=1 for the stack trace, and please report it');
  output.err(`${output.paint('red', 'internal error')} ${message}`);
  if (process.env.ORC_STATE_DEBUG) output.err(String(err instanceof Error ? err.stack : err));
  else output.err('  set ORC_STATE_DEBUG=1 for the stack trace, and please report it.');
  return EXIT.usage;
}

function errnoFix(code: string): string {
  switch (code) {
    case 'ENOENT':
      return 'check the path (and --root); create the missing file or directory';
    case 'ENOTDIR':
      return 'a component of the path is a file, not a directory: check --root and the repository layout';
    case 'EISDIR':
      return 'a directory stands where a file is expected (e.g. .state/current.json or .state/transitions.jsonl): move it away';
    case 'EACCES':
    case 'EPERM':
      return 'check the file permissions';
    case 'ENOSPC':
      return 'free disk space and retry';
    default:
      return 'check the path and its permissions, then retry';
  }
}
