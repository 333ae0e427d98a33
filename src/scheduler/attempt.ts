/**
 * One attempt of one task as `orc-state run` makes it: the adapter for the
 * task, the main command then each fallback command, the attempt's log file,
 * and post-execution validation (outputs, exit_code_zero, git_clean,
 * tests_passing, no_lint_errors).
 *
 * Public API (stable):
 *   - adapterFor(task, workerId, capabilities, force?) → Worker: claude when the task's
 *     capabilities include "claude" or its command starts with `claude`; aider for
 *     type aider; else shell
 *   - runAttempt(spec) → Promise<AttemptOutcome>
 *   - checkOutputs(root, task) → missing output paths (and paths that leave the repo)
 *   - logPath(paths, taskId, attempt) → absolute path of `.state/logs/<task_id>/attempt-<n>.log`
 * Behaviour:
 *   - every command runs in its own process group (runner/shell.ts runProcess), in the
 *     task's working_directory (refused when it leaves the repo), with execution.env
 *     added to the environment; stdout and stderr stream to the log file (each command is
 *     preceded by a `# command <i>: ...` line, then `# pid N (process group N)`, and followed
 *     by `# <status>`); the worker output keeps a tail. For the shell adapter (it does not parse
 *     the output) the log file itself is the command's stdout and stderr: nothing passes through
 *     Node, and the tail is read back from the file; adapters that parse their output (claude's
 *     stream-json, aider), and any spec.onOutput, get it through a pipe and the runner writes it
 *   - fallback_commands are tried in order after a failed command (not after a timeout or
 *     a cancel: those end the attempt); the first success wins
 *   - when a command succeeded: a missing `outputs` entry, `exit_code_zero` on a nonzero
 *     status, or `git_clean` after the run with a dirty tree fail validation
 *   - cost: the adapter's (Claude's total_cost_usd, summed over the commands run), else
 *     execution.cost_estimate_usd, else null
 * Integration points: ./loop.ts; the output is written to .state/outputs/ like executeTask.
 * Dependencies: node:fs, node:util, node:path, ../runner/*, ../engine/paths.js, ../model.js.
 */
import { createWriteStream, existsSync, realpathSync, type WriteStream } from 'node:fs';
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { TaskDefinition } from '../model.js';
import type { StatePaths } from '../engine/paths.js';
import { AiderWorker } from '../runner/aider.js';
import { ClaudeWorker } from '../runner/claude.js';
import { ShellWorker } from '../runner/shell.js';
import { validateWorkerOutput, workerOutputPath } from '../runner/output.js';
import type { Worker, WorkerOutput } from '../runner/types.js';

// An attempt's creates (log directory, log, worker output) run on the threadpool: a create can wait
// for the journal behind the commit path's fsyncs, and costs up to a millisecond of CPU on a file
// system that skips recently deleted inodes (ext4 without a journal). What follows a create (small
// writes to the open file, its close) is synchronous: every threadpool round trip costs CPU and a
// wake-up (a small fs/promises writeFile here: ~80 µs; the promisified callback form ~45; sync ~10).
const mkdir = promisify(fs.mkdir);
const open = promisify(fs.open);

/** Create (or truncate, or append to) a file off the event loop, then write `text` into it synchronously; the fd stays open. */
async function openAndWrite(path: string, flags: 'a' | 'w', text: string): Promise<number> {
  const fd = await open(path, flags);
  try {
    if (text) fs.writeFileSync(fd, text);
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  return fd;
}

export type AdapterType = 'shell' | 'aider' | 'claude';

export function adapterTypeFor(task: TaskDefinition): AdapterType {
  if (task.worker_requirements.capabilities.includes('claude') || /^\s*claude(\s|$)/.test(task.execution.command ?? '')) return 'claude';
  if (task.type === 'aider') return 'aider';
  return 'shell';
}

export function adapterFor(task: TaskDefinition, workerId: string, capabilities: readonly string[], force?: AdapterType): Worker {
  const type = force ?? adapterTypeFor(task);
  if (type === 'claude') return new ClaudeWorker(workerId, capabilities);
  if (type === 'aider') return new AiderWorker(workerId, capabilities);
  return new ShellWorker(workerId, capabilities);
}

export function logPath(paths: StatePaths, taskId: string, attempt: number): string {
  return join(paths.logsDir, taskId.replace(/[^A-Za-z0-9._-]/g, '_'), `attempt-${attempt}.log`);
}

export function checkOutputs(root: string, task: TaskDefinition): string[] {
  const missing: string[] = [];
  let realRoot: string | undefined; // resolved once, and only for a task that declares outputs
  for (const out of task.outputs ?? []) {
    if (typeof out !== 'string' || out === '' || isAbsolute(out)) {
      missing.push(`${String(out)} (must be a repo-relative path)`);
      continue;
    }
    const abs = resolve(root, out);
    if (!existsSync(abs)) {
      missing.push(out);
      continue;
    }
    realRoot ??= realpathSync(root);
    const rel = relative(realRoot, realpathSync(abs));
    if (rel.startsWith('..') || isAbsolute(rel)) missing.push(`${out} (outside the repository)`);
  }
  return missing;
}

function gitDirty(root: string): boolean | null {
  try {
    const out = execFileSync('git', ['-C', root, 'status', '--porcelain'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.trim().length > 0;
  } catch {
    return null;
  }
}

function isGitTree(root: string): boolean {
  return existsSync(join(root, '.git'));
}

export interface AttemptSpec {
  root: string;
  paths: StatePaths;
  task: TaskDefinition;
  workerId: string;
  capabilities: readonly string[];
  attempt: number;
  signal: AbortSignal;
  killGraceMs: number;
  adapter?: AdapterType;
  budgetUsd?: number;
  onSpawn?: (pid: number) => void;
  onOutput?: (chunk: string) => void;
}

export type AttemptKind = 'completed' | 'validation_failed' | 'failed' | 'timeout' | 'cancelled';

export interface AttemptOutcome {
  kind: AttemptKind;
  output: WorkerOutput;
  /** Repo-relative path of the attempt's log. */
  log: string;
  /** Repo-relative path of the worker output file. */
  output_file: string;
  /** 0 = the main command; i = fallback_commands[i-1]. */
  command_index: number;
  commands_tried: number;
  cost_usd: number | null;
  cost_source: 'adapter' | 'estimate' | null;
  validation_errors: string[];
  started_at: number;
  finished_at: number;
}

export async function runAttempt(spec: AttemptSpec): Promise<AttemptOutcome> {
  const { root, task } = spec;
  const started = Date.now();
  const logAbs = logPath(spec.paths, task.task_id, spec.attempt);
  const env = { ...process.env, ...(task.execution.env ?? {}), ORC_TASK_ID: task.task_id, ORC_ATTEMPT: String(spec.attempt) };
  const commands = [task.execution.command, ...(task.execution.fallback_commands ?? [])];
  const adapter = adapterFor(task, spec.workerId, spec.capabilities, spec.adapter);
  // Appended to: an attempt interrupted by a drain does not count, and its re-run reuses the number.
  // A log that cannot be written (disk full, directory removed) never stops the attempt; the output says so.
  let logError: string | null = null;
  // An adapter that does not parse the output (shell) gets the log itself as the command's stdout and
  // stderr (the runner creates it and writes the `# command` and `# <status>` lines, the spawner the
  // `# pid` line): nothing passes through Node. The others stream through onOutput into a write stream,
  // as does anyone watching the output.
  const direct = adapter.logsDirectly === true && !spec.onOutput;
  let log: WriteStream | null = null;
  // The runner's own descriptor of a direct log: its `# command` and `# <status>` lines (the spawner opens another).
  let logFd: number | null = null;
  // Off the event loop (see openAndWrite), and not in the spawner, where it would delay every spawn behind it.
  await mkdir(dirname(logAbs), { recursive: true });
  if (!direct) {
    log = createWriteStream(logAbs, { flags: 'a' });
    log.on('error', (error) => {
      logError = error.message;
    });
  }
  const note = (line: string) => {
    if (log) log.write(line);
    else if (logFd !== null) {
      try {
        fs.writeFileSync(logFd, line);
      } catch (error) {
        logError ??= (error as Error).message;
      }
    }
  };
  const trackChanges = isGitTree(root);
  let output: WorkerOutput | undefined;
  let index = 0;
  let adapterCost = 0;
  let anyAdapterCost = false;
  for (; index < commands.length; index++) {
    const command = commands[index] as string;
    const header = `# command ${index === 0 ? 'main' : `fallback ${index}`}: ${command}\n`;
    // The group id too: a person (or RECOVERY.md's steps) can `kill -- -<pgid>` an orphan of a dead run.
    const pidLine = '# pid {pid} (process group {pid})\n';
    if (log || logFd !== null) note(header);
    else if (!logError) {
      try {
        logFd = await openAndWrite(logAbs, 'a', header); // creates the log (the spawner opens it, it does not create it)
      } catch (error) {
        logError = (error as Error).message;
      }
    }
    const variant: TaskDefinition = index === 0 ? task : { ...task, execution: { ...task.execution, command } };
    output = await adapter.run(variant, {
      root,
      attempt: spec.attempt,
      signal: spec.signal,
      env,
      killGraceMs: spec.killGraceMs,
      trackChanges,
      ...(spec.budgetUsd !== undefined ? { budgetUsd: spec.budgetUsd } : {}),
      ...(log
        ? {
            onOutput: (chunk: string) => {
              log?.write(chunk);
              spec.onOutput?.(chunk);
            },
          }
        : logFd === null
          ? {}
          : { logFile: { path: logAbs, header: '', pidLine } }),
      onSpawn: (pid) => {
        log?.write(pidLine.split('{pid}').join(String(pid)));
        spec.onSpawn?.(pid);
      },
    });
    const cost = output.metadata.cost_usd;
    if (typeof cost === 'number' && Number.isFinite(cost)) {
      adapterCost += cost;
      anyAdapterCost = true;
    }
    note(`# ${output.status}${output.error ? `: ${output.error.message}` : ''}\n`);
    if (output.status === 'success' || output.status === 'timeout' || output.error?.error_type === 'cancelled' || spec.signal.aborted) break;
  }
  const final = output as WorkerOutput;
  const commandIndex = Math.min(index, commands.length - 1);
  let kind: AttemptKind = final.status === 'success' ? 'completed' : final.status === 'timeout' ? 'timeout' : final.error?.error_type === 'cancelled' ? 'cancelled' : 'failed';
  const validationErrors: string[] = [];
  if (kind === 'completed') {
    const missing = checkOutputs(root, task);
    if (missing.length) validationErrors.push(`missing output${missing.length === 1 ? '' : 's'}: ${missing.join(', ')}`);
    const post = task.validation_rules?.post_execution ?? [];
    const v = final.metadata.validation ?? { passed: [], failed: [], skipped: [] };
    if (post.includes('exit_code_zero')) {
      v.skipped = v.skipped.filter((r) => r !== 'exit_code_zero');
      (final.metadata.exit_code === 0 ? v.passed : v.failed).push('exit_code_zero');
    }
    if (post.includes('git_clean')) {
      const dirty = gitDirty(root);
      if (dirty !== null) {
        v.skipped = v.skipped.filter((r) => r !== 'git_clean');
        (dirty ? v.failed : v.passed).push('git_clean');
      }
    }
    if ((task.outputs ?? []).length) (missing.length ? v.failed : v.passed).push('outputs');
    for (const r of v.failed) if (r !== 'outputs') validationErrors.push(`post-execution rule ${r} failed`);
    final.metadata.validation = v;
    final.validation_status = v.failed.length ? 'failed' : v.passed.length ? 'passed' : 'skipped';
    if (validationErrors.length) {
      kind = 'validation_failed';
      final.status = 'failed';
      final.error = { error_type: 'validation_failed', message: validationErrors.join('; '), exit_code: final.metadata.exit_code ?? null, retryable: false };
    }
  }
  const estimate = typeof task.execution.cost_estimate_usd === 'number' ? task.execution.cost_estimate_usd : null;
  const cost = anyAdapterCost ? adapterCost : estimate;
  if (cost !== null) final.metadata.cost_usd = Math.round(cost * 1e6) / 1e6;
  final.metadata.commands_tried = Math.min(index + 1, commands.length);
  if (commandIndex > 0) final.metadata.fallback_index = commandIndex;
  if (log) {
    const stream = log;
    await new Promise<void>((r) => (logError ? r() : stream.end(r)));
  }
  if (logFd !== null) {
    try {
      fs.closeSync(logFd);
    } catch (error) {
      logError ??= (error as Error).message;
    }
  }
  if (logError) final.metadata.log_error ??= logError;
  const outputFile = workerOutputPath(task.task_id, spec.attempt);
  const check = validateWorkerOutput(final);
  if (check.valid) {
    const text = `${JSON.stringify(final, null, 2)}\n`;
    let fd: number;
    try {
      fd = await openAndWrite(join(root, outputFile), 'w', text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(join(root, dirname(outputFile)), { recursive: true });
      fd = await openAndWrite(join(root, outputFile), 'w', text);
    }
    fs.closeSync(fd);
  }
  return {
    kind,
    output: final,
    log: relative(root, logAbs).split('\\').join('/'),
    output_file: check.valid ? outputFile : '',
    command_index: commandIndex,
    commands_tried: Math.min(index + 1, commands.length),
    cost_usd: cost,
    cost_source: anyAdapterCost ? 'adapter' : estimate !== null ? 'estimate' : null,
    validation_errors: validationErrors,
    started_at: started,
    finished_at: Date.now(),
  };
}
