/**
 * The commander program: global options and the list of commands.
 *
 * Public API (internal): buildProgram(output, argv?) → Promise<Command>, COMMANDS (the lazy command table).
 * Integration points: each command module in ./commands exports
 * `register(program, output)`; add one line to COMMANDS below for a new command
 * (with the top-level names it registers: only the named command's module is imported).
 * Start-up rule: a command module imports only cheap things at top level (commander
 * types, errors, ./support.js, ./render/) and loads its implementation with `await import()`
 * inside the action, so --help, --version and a simple status stay fast
 * (tests/cli-hostile-inputs.test.ts checks that building the program loads no package but commander).
 * A preAction hook checks --root (and the .state layout) once for every command.
 * Dependencies: commander.
 */
import { Command } from 'commander';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { OrcError } from '../errors.js';
import { PACKAGE_VERSION } from '../core/versions.js';
import type { Output } from './output.js';
import { LOG_FILE, STATE_DIR, stateRel } from '../core/state-paths.js';

export type RegisterCommand = (program: Command, output: Output) => void;

type CommandModule = { register: RegisterCommand; registerHeartbeat?: RegisterCommand };

/**
 * Every command module, in help order, with the top-level command names it registers. Modules are
 * imported on demand: a command line naming one command loads only that module (~30 ms less start-up
 * than loading all of them); --help, `help`, an unknown or no command load every module.
 */
export const COMMANDS: Array<{ names: readonly string[]; load: () => Promise<CommandModule>; registers?: (m: CommandModule) => RegisterCommand[] }> = [
  { names: ['migrate'], load: () => import('./commands/migrate.js') },
  { names: ['plan'], load: () => import('./commands/plan.js') },
  { names: ['ready'], load: () => import('./commands/ready.js') },
  { names: ['watch'], load: () => import('./commands/watch.js') },
  // command registrations (one line each)
  { names: ['init'], load: () => import('./commands/init.js') },
  { names: ['sync'], load: () => import('./commands/sync.js') },
  { names: ['task'], load: () => import('./commands/task.js') },
  { names: ['worker'], load: () => import('./commands/worker.js') },
  { names: ['status'], load: () => import('./commands/status.js') },
  { names: ['replay'], load: () => import('./commands/replay.js') },
  { names: ['why'], load: () => import('./commands/why.js') },
  { names: ['doctor'], load: () => import('./commands/doctor.js') },
  { names: ['log'], load: () => import('./commands/log.js') },
  { names: ['serve'], load: () => import('./commands/serve.js') },
  { names: ['run'], load: () => import('./commands/run.js') },
  { names: ['claim', 'heartbeat'], load: () => import('./commands/claim.js'), registers: (m) => [m.register, m.registerHeartbeat!] },
  { names: ['report'], load: () => import('./commands/report.js') },
  { names: ['mcp'], load: () => import('./commands/mcp.js') },
  { names: ['validate'], load: () => import('./commands/validate.js') },
];

/**
 * The program with every command, or (given the command line, as process.argv) only the
 * command it names when it names one.
 */
export async function buildProgram(output: Output, argv?: readonly string[]): Promise<Command> {
  const named = argv?.[2];
  const wanted = named === undefined ? undefined : COMMANDS.find((c) => c.names.includes(named));
  const entries = wanted ? [wanted] : COMMANDS;
  const modules = await Promise.all(entries.map((c) => c.load()));
  const program = new Command('orc-state')
    .description('Observable, file-based orchestration state for AI coding agents')
    .version(PACKAGE_VERSION)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
    });
  entries.forEach((c, i) => {
    const m = modules[i]!;
    for (const register of c.registers ? c.registers(m) : [m.register]) register(program, output);
  });
  // One check for every command's --root, before any action reads or writes under it.
  program.hook('preAction', (_program, action) => checkRoot(action.opts().root, action.name() === 'init'));
  return program;
}

/** --root must be an existing directory (init may create a missing one, as `git init` does). */
export function checkRoot(root: unknown, mayCreate: boolean): void {
  if (typeof root !== 'string') return;
  const abs = resolve(root);
  let isDir: boolean;
  try {
    isDir = statSync(abs).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && mayCreate) return;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new OrcError('USAGE', `--root ${root} does not exist`, {
        location: { file: abs },
        fix: mayCreate ? 'check the path' : 'pass the repository root (the directory holding tasks/ and .state/), or create it with `orc-state init --root <dir>`',
      });
    }
    throw new OrcError('UNREADABLE_INPUT', `--root ${root} cannot be read (${code ?? String(error)})`, { location: { file: abs }, fix: 'check the permissions of the directory' });
  }
  if (!isDir) {
    throw new OrcError('USAGE', `--root ${root} is a file, not a directory`, {
      location: { file: abs },
      fix: 'pass the repository root (the directory holding tasks/ and .state/)',
    });
  }
  checkStateLayout(abs);
}

/**
 * `.state` must be a directory and its event log a regular file when they exist: every reader and
 * writer assumes so, and a person has to move the impostor away (nothing can be repaired in place).
 * (A directory at .state/current.json is left to the readers: doctor --repair moves it aside.)
 */
function checkStateLayout(root: string): void {
  const expect = [
    { rel: STATE_DIR, dir: true },
    { rel: stateRel(LOG_FILE), dir: false },
  ];
  for (const { rel, dir } of expect) {
    let st;
    try {
      st = statSync(resolve(root, rel));
    } catch {
      return; // missing: each command says what to do (init, sync ...)
    }
    if (st.isDirectory() !== dir) {
      throw new OrcError('UNREADABLE_INPUT', `${rel} is a ${dir ? 'file' : 'directory'}, not a ${dir ? 'directory' : 'file'}`, {
        location: { file: rel },
        fix: `move ${rel} away (keep it: it may hold data), then run \`orc-state ${rel === STATE_DIR ? 'init' : 'doctor'}\``,
      });
    }
  }
}
