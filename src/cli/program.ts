/**
 * The commander program: global options and the list of commands.
 *
 * Public API (internal): buildProgram(output).
 * Integration points: each command module in ./commands exports
 * `register(program, output)`; add one import and one line below for a new command.
 * Dependencies: commander.
 */
import { Command } from 'commander';
import type { Output } from './output.js';
import { register as registerValidate } from './commands/validate.js';
import { register as registerMigrate } from './commands/migrate.js';

export type RegisterCommand = (program: Command, output: Output) => void;

const COMMANDS: RegisterCommand[] = [
  registerMigrate,
  // command registrations (one line each)
  registerValidate,
];

export function buildProgram(output: Output): Command {
  const program = new Command('orc-state')
    .description('Observable, file-based orchestration state for AI coding agents')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
    });
  for (const register of COMMANDS) register(program, output);
  return program;
}
