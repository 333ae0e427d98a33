/**
 * The commander program: global options and the list of commands.
 *
 * Public API (internal): buildProgram(output).
 * Integration points: each command module in ./commands exports
 * `register(program, output)`; add one import and one line below for a new command.
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
import { register as registerValidate } from './commands/validate.js';
import { register as registerMigrate } from './commands/migrate.js';
import { register as registerPlan } from './commands/plan.js';
import { register as registerReady } from './commands/ready.js';
import { register as registerWatch } from './commands/watch.js';
import { register as registerInitCmd } from './commands/init.js';
import { register as registerSyncCmd } from './commands/sync.js';
import { register as registerTaskCmd } from './commands/task.js';
import { register as registerWorkerCmd } from './commands/worker.js';
import { register as registerStatusCmd } from './commands/status.js';
import { register as registerReplayCmd } from './commands/replay.js';
import { register as registerWhyCmd } from './commands/why.js';
import { register as registerDoctorCmd } from './commands/doctor.js';
import { register as registerLogCmd } from './commands/log.js';
import { register as registerServeCmd } from './commands/serve.js';
import { register as registerRunCmd } from './commands/run.js';
import { register as registerClaimCmd, registerHeartbeat as registerHeartbeatCmd } from './commands/claim.js';
import { register as registerReportCmd } from './commands/report.js';
import { register as registerMcpCmd } from './commands/mcp.js';
import { LOG_FILE, STATE_DIR, stateRel } from '../core/state-paths.js';

export type RegisterCommand = (program: Command, output: Output) => void;

const COMMANDS: RegisterCommand[] = [
  registerMigrate,
  registerPlan,
  registerReady,
  registerWatch,
  // command registrations (one line each)
  registerInitCmd,
  registerSyncCmd,
  registerTaskCmd,
  registerWorkerCmd,
  registerStatusCmd,
  registerReplayCmd,
  registerWhyCmd,
  registerDoctorCmd,
  registerLogCmd,
  registerServeCmd,
  registerRunCmd,
  registerClaimCmd,
  registerHeartbeatCmd,
  registerReportCmd,
  registerMcpCmd,
  registerValidate,
];

export function buildProgram(output: Output): Command {
  const program = new Command('orc-state')
    .description('Observable, file-based orchestration state for AI coding agents')
    .version(PACKAGE_VERSION)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
    });
  for (const register of COMMANDS) register(program, output);
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
