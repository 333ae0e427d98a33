/**
 * The shell-command worker: runs a task's `execution.command` in its
 * `working_directory` (inside the repo) with `timeout_seconds`, kills the
 * whole process group on timeout or cancel, and returns the worker output
 * contract (AIDER-INT-001, -003).
 *
 * Public API:
 *   - ShellWorker (class, implements Worker)                                 (stable)
 *   - hasCapabilities(capabilities, task): boolean — a worker's canRun      (internal)
 *   - runProcess(spec): Promise<ProcessResult>                               (stable)
 *       spawns `{ file, args }` (no shell) or `{ shell: command }` as the leader
 *       of a new process group; on timeout/abort sends SIGTERM to the group,
 *       then SIGKILL after `killGraceMs`; with `logFile` the output goes straight
 *       to that file (no pipe through Node) and its tail is read back at the exit.
 *   - captureChanges(root) / changesSince(root, before): files_modified and a
 *     diff summary from git when the repo is a git work tree, else from a scan
 *     of sizes and mtimes                                                     (internal)
 *   - resolveWorkingDirectory(root, task) → absolute dir or an error message  (internal)
 *   - evaluatePreValidation / evaluatePostValidation: the validation_rules the
 *     runner can check (git_clean before; tests_passing / no_lint_errors from
 *     the exit status after); others are reported as skipped               (internal)
 *   - finishOutput(...) assembles a WorkerOutput                             (internal)
 *   - beginAttempt(worker, task, ctx), BaseWorker: what every adapter shares (working
 *     directory resolved or an invalid_task output; constructor and canRun)   (internal)
 *   - runTaskProcess(root, task, ctx, command, cwd, logFile?) → { p, changes }: the process
 *     with the task's timeout and the context's env/kill grace/signal/output hook (or its
 *     output straight into logFile: the shell worker), and the repository changes it made (internal)
 *   - settleOutput(root, base, run, extra): settleError + finishOutput, the end of every process adapter (internal)
 *   - settleError(task, p, validation, error): post-execution validation, and
 *     validation_failed when the run itself did not fail                       (internal)
 * Integration points: ./aider.ts builds on runTaskProcess/settleError/finishOutput; the engine
 * maps output.status to the task machine's triggers (./output.ts triggerFor).
 * Dependencies: node:child_process, node:fs, node:path, ./spawner.js, ./types.js, ./output.js, ../model.js.
 */
import { execFileSync, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { TaskDefinition } from '../model.js';
import { closeLog, helperAvailable, openLog, spawnViaHelper, writePidLine, type LogTarget } from './spawner.js';
import { RETRYABLE_ERRORS, WORKER_OUTPUT_SCHEMA_URL, WORKER_OUTPUT_SCHEMA_VERSION, type RunContext, type ValidationStatus, type Worker, type WorkerErrorType, type WorkerOutput } from './types.js';

const TAIL_BYTES = 8 * 1024;

export interface ProcessSpec {
  file?: string;
  args?: string[];
  shell?: string;
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  killGraceMs?: number;
  signal?: AbortSignal;
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  onSpawn?: (pid: number) => void;
  /**
   * stdout and stderr go straight into this file (./spawner.ts LogTarget), not through Node:
   * onOutput is not called, `stdout` is the tail read back from the file (both streams, as
   * written) and `stderr` is empty. A log that cannot be opened: pipes as without it, and `logError`.
   */
  logFile?: LogTarget;
}

export interface ProcessResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  spawnError: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Why spec.logFile could not be opened (the output was piped instead). */
  logError?: string;
}

/** Keep the last `max` characters of a growing text. */
function appendTail(current: string, chunk: string, max: number): string {
  const next = current + chunk;
  return next.length > max * 2 ? next.slice(-max) : next;
}

/** One spawned process as runProcess sees it, whichever way it was spawned (./spawner.ts or here). */
interface Spawned {
  on(event: 'spawn', fn: (pid: number, logError: string | null) => void): void;
  on(event: 'data', fn: (stream: 'stdout' | 'stderr', chunk: string) => void): void;
  on(event: 'error', fn: (message: string, logError?: string | null, tail?: string) => void): void;
  on(event: 'close', fn: (code: number | null, signal: string | null, tail?: string) => void): void;
}

function spawnDirect(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, logFile: LogTarget | undefined): Spawned {
  const events = new EventEmitter();
  const opened = logFile ? openLog(fs, logFile) : null;
  const logError = opened && 'error' in opened ? opened.error : null;
  let log = opened && !('error' in opened) ? opened : null;
  const end = (pid: number | undefined) => {
    const tail = log ? closeLog(fs, log, pid) : undefined;
    log = null;
    return tail;
  };
  let child;
  try {
    child = spawn(file, args, { cwd, env, detached: true, stdio: log ? ['ignore', log.fd, log.fd] : ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    end(undefined);
    throw error;
  }
  const pid = child.pid;
  if (pid !== undefined) {
    if (log) writePidLine(fs, log, pid);
    // 'spawn' after the caller attached its listeners
    queueMicrotask(() => events.emit('spawn', pid, logError));
  }
  if (child.stdout && child.stderr) {
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => events.emit('data', 'stdout', chunk));
    child.stderr.on('data', (chunk: string) => events.emit('data', 'stderr', chunk));
  }
  child.on('error', (error) => events.emit('error', error.message, logError, pid === undefined ? end(undefined) : undefined));
  child.on('close', (code, sig) => events.emit('close', code, sig, end(pid)));
  return events as Spawned;
}

export function runProcess(spec: ProcessSpec): Promise<ProcessResult> {
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  return new Promise((resolvePromise) => {
    const file = spec.shell !== undefined ? '/bin/sh' : (spec.file as string);
    const args = spec.shell !== undefined ? ['-c', spec.shell] : (spec.args ?? []);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let cancelled = false;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let pid: number | undefined;
    // A stop asked for before the pid is known (the helper answers asynchronously) is sent once it is.
    let pendingSignal: NodeJS.Signals | null = null;
    const env = spec.env ?? process.env;
    let logError: string | null = null;
    const child = helperAvailable() ? spawnViaHelper(file, args, { cwd: spec.cwd, env, ...(spec.logFile ? { log: spec.logFile } : {}) }) : spawnDirect(file, args, spec.cwd, env, spec.logFile);
    const killGroup = (sig: NodeJS.Signals) => {
      if (pid === undefined) {
        pendingSignal = sig;
        return;
      }
      try {
        process.kill(-pid, sig);
      } catch {
        /* group already gone */
      }
    };
    child.on('spawn', (p, error) => {
      pid = p;
      logError = error;
      spec.onSpawn?.(p);
      if (pendingSignal) killGroup(pendingSignal);
    });
    const stop = () => {
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), spec.killGraceMs ?? 2000);
      killTimer.unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, spec.timeoutMs);
    const onAbort = () => {
      cancelled = true;
      stop();
    };
    if (spec.signal) {
      if (spec.signal.aborted) onAbort();
      else spec.signal.addEventListener('abort', onAbort, { once: true });
    }
    child.on('data', (stream, chunk) => {
      if (stream === 'stdout') stdout = appendTail(stdout, chunk, 256 * 1024);
      else stderr = appendTail(stderr, chunk, 256 * 1024);
      spec.onOutput?.(chunk, stream);
    });
    let spawnError: string | null = null;
    const finish = (result: Partial<ProcessResult>, tail?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onAbort);
      // Whatever the leader left running in its group goes too once a stop was requested.
      if (timedOut || cancelled) {
        killGroup('SIGKILL');
        if (killTimer) clearTimeout(killTimer);
      }
      resolvePromise({
        exitCode: result.exitCode ?? null,
        signal: result.signal ?? null,
        timedOut,
        cancelled,
        spawnError: result.spawnError ?? null,
        // the output went straight to the log: its tail, both streams as they were written
        stdout: tail ?? stdout,
        stderr: tail !== undefined ? '' : stderr,
        durationMs: elapsed(),
        ...(logError !== null ? { logError } : {}),
      });
    };
    child.on('error', (message, error, tail) => {
      spawnError = message;
      logError ??= error ?? null;
      // a process that never started gets no 'close' from node; one that did, does
      if (pid === undefined) finish({ spawnError: message }, tail);
    });
    child.on('close', (code, sig, tail) => finish(spawnError !== null && code === null ? { spawnError } : { exitCode: code, signal: sig }, tail));
  });
}

/** The task's working directory, resolved inside the repo (symlinks included), or an error message. */
export function resolveWorkingDirectory(root: string, task: TaskDefinition): { dir: string } | { error: string } {
  const wd = task.execution.working_directory ?? '.';
  if (isAbsolute(wd)) return { error: `working_directory ${wd} must be relative to the repository root` };
  const abs = resolve(root, wd);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) return { error: `working_directory ${wd} does not exist` };
  if (abs === resolve(root)) return { dir: abs }; // the repository itself (the usual case): nothing to resolve
  const rel = relative(realpathSync(root), realpathSync(abs));
  if (rel.startsWith('..') || isAbsolute(rel)) return { error: `working_directory ${wd} is outside the repository` };
  return { dir: abs };
}

// ---------------------------------------------------------------- changes

export interface ChangeBaseline {
  mode: 'git' | 'scan';
  head?: string | null;
  /** git: porcelain status line per path; scan: "size:mtime" per path. */
  entries: Map<string, string>;
}

function git(root: string, args: string[]): string | null {
  try {
    return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
  } catch {
    return null;
  }
}

function isGitWorkTree(root: string): boolean {
  return git(root, ['rev-parse', '--is-inside-work-tree'])?.trim() === 'true';
}

function gitStatus(root: string): Map<string, string> {
  const out = git(root, ['status', '--porcelain=v1', '-z', '--untracked-files=all']) ?? '';
  const map = new Map<string, string>();
  const parts = out.split('\0');
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i] as string;
    if (entry.length < 4) continue;
    const code = entry.slice(0, 2);
    const path = entry.slice(3);
    // Content fingerprint so a second edit of an already-dirty file is seen too.
    let stamp = code;
    try {
      const st = statSync(join(root, path));
      stamp += `:${st.size}:${st.mtimeMs}`;
    } catch {
      stamp += ':gone';
    }
    map.set(path, stamp);
    if (code.startsWith('R') || code.startsWith('C')) i++; // the rename source follows
  }
  return map;
}

const SCAN_SKIP = new Set(['.git', 'node_modules', '.state', '.backups', '__pycache__']);
const SCAN_LIMIT = 50_000;

function scanTree(root: string): Map<string, string> {
  const map = new Map<string, string>();
  const walk = (dir: string) => {
    if (map.size >= SCAN_LIMIT) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (SCAN_SKIP.has(e.name)) continue;
      const abs = join(dir, e.name);
      if (e.isDirectory()) walk(abs);
      else if (e.isFile()) {
        const st = statSync(abs);
        map.set(relative(root, abs).split(sep).join('/'), `${st.size}:${st.mtimeMs}`);
      }
    }
  };
  walk(root);
  return map;
}

export function captureChanges(root: string): ChangeBaseline {
  if (isGitWorkTree(root)) return { mode: 'git', head: git(root, ['rev-parse', '--verify', '-q', 'HEAD'])?.trim() || null, entries: gitStatus(root) };
  return { mode: 'scan', entries: scanTree(root) };
}

export function changesSince(root: string, before: ChangeBaseline): { files: string[]; insertions: number | null; deletions: number | null; commits: string[] } {
  const changed = new Set<string>();
  const commits: string[] = [];
  if (before.mode === 'git') {
    const now = gitStatus(root);
    for (const [path, stamp] of now) if (before.entries.get(path) !== stamp) changed.add(path);
    for (const path of before.entries.keys()) if (!now.has(path)) changed.add(path);
    const head = git(root, ['rev-parse', '--verify', '-q', 'HEAD'])?.trim() || null;
    if (head && head !== before.head) {
      const range = before.head ? `${before.head}..${head}` : head;
      const names = git(root, before.head ? ['diff', '--name-only', '-z', before.head, head] : ['show', '--name-only', '-z', '--format=', head]) ?? '';
      for (const n of names.split('\0')) if (n) changed.add(n);
      for (const line of (git(root, ['log', '--format=%s', range]) ?? '').split('\n')) if (line) commits.push(line);
    }
    let insertions = 0;
    let deletions = 0;
    const files = [...changed].sort();
    if (files.length > 0) {
      const base = before.head ?? '4b825dc642cb6eb9a060e54bf8d69288fbee4904'; // git's empty tree
      const numstat = git(root, ['diff', '--numstat', base, '--', ...files]) ?? '';
      const counted = new Set<string>();
      for (const line of numstat.split('\n')) {
        const m = /^(\d+|-)\t(\d+|-)\t(.*)$/.exec(line);
        if (!m) continue;
        counted.add(m[3] as string);
        if (m[1] !== '-') insertions += Number(m[1]);
        if (m[2] !== '-') deletions += Number(m[2]);
      }
      // Untracked new files are not in `git diff`: count their lines as insertions.
      for (const f of files) {
        if (counted.has(f)) continue;
        try {
          const st = statSync(join(root, f));
          if (st.isFile() && st.size < 8 * 1024 * 1024) {
            const text = readFileSync(join(root, f), 'utf8');
            insertions += text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
          }
        } catch {
          /* deleted */
        }
      }
    }
    return { files, insertions, deletions, commits };
  }
  const now = scanTree(root);
  for (const [path, stamp] of now) if (before.entries.get(path) !== stamp) changed.add(path);
  for (const path of before.entries.keys()) if (!now.has(path)) changed.add(path);
  return { files: [...changed].sort(), insertions: null, deletions: null, commits };
}

// ---------------------------------------------------------------- validation

export interface ValidationReport {
  passed: string[];
  failed: string[];
  skipped: string[];
}

/** Rules checkable before the run: `git_clean` (no uncommitted changes). */
export function evaluatePreValidation(root: string, task: TaskDefinition): ValidationReport {
  const report: ValidationReport = { passed: [], failed: [], skipped: [] };
  for (const rule of task.validation_rules?.pre_execution ?? []) {
    if (rule === 'git_clean') {
      if (!isGitWorkTree(root)) report.skipped.push(rule);
      else if (gitStatus(root).size === 0) report.passed.push(rule);
      else report.failed.push(rule);
    } else report.skipped.push(rule);
  }
  return report;
}

/** Rules checkable from the run itself: `tests_passing` and `no_lint_errors` are the command's exit status for pytest/lint tasks. */
export function evaluatePostValidation(task: TaskDefinition, exitCode: number | null, report: ValidationReport): ValidationReport {
  for (const rule of task.validation_rules?.post_execution ?? []) {
    const fromExit = (rule === 'tests_passing' && task.type === 'pytest') || (rule === 'no_lint_errors' && task.type === 'lint');
    if (fromExit) (exitCode === 0 ? report.passed : report.failed).push(rule);
    else report.skipped.push(rule);
  }
  return report;
}

export function validationStatus(report: ValidationReport): ValidationStatus {
  if (report.failed.length > 0) return 'failed';
  if (report.passed.length > 0) return 'passed';
  return 'skipped';
}

// ---------------------------------------------------------------- output

export interface FinishInput {
  task: TaskDefinition;
  worker: { id: string; type: string };
  ctx: RunContext;
  startedAt: Date;
  durationMs: number;
  error: null | { error_type: WorkerErrorType; message: string; exit_code?: number | null; signal?: string | null };
  process?: ProcessResult;
  changes?: { files: string[]; insertions: number | null; deletions: number | null; commits: string[] };
  validation: ValidationReport;
  tokensUsed?: number | null;
  commitMessage?: string | null;
  command?: string[];
  workingDirectory?: string;
  context?: WorkerOutput['metadata']['context'];
}

function tail(text: string): string {
  if (text.length <= TAIL_BYTES) return text;
  const cut = text.slice(-TAIL_BYTES);
  return cut.slice(cut.indexOf('\n') + 1);
}

export function finishOutput(input: FinishInput): WorkerOutput {
  const files = input.changes?.files ?? [];
  const ins = input.changes?.insertions ?? null;
  const del = input.changes?.deletions ?? null;
  const text =
    `${files.length} file${files.length === 1 ? '' : 's'} changed` +
    (ins !== null ? `, ${ins} insertion${ins === 1 ? '' : 's'}(+)` : '') +
    (del !== null ? `, ${del} deletion${del === 1 ? '' : 's'}(-)` : '');
  const error = input.error ? { ...input.error, retryable: RETRYABLE_ERRORS.has(input.error.error_type) } : null;
  const status = !error ? 'success' : error.error_type === 'timeout' ? 'timeout' : 'failed';
  const p = input.process;
  return {
    schema_version: WORKER_OUTPUT_SCHEMA_VERSION,
    schema_url: WORKER_OUTPUT_SCHEMA_URL,
    task_id: input.task.task_id,
    worker_id: input.worker.id,
    worker_type: input.worker.type,
    status,
    files_modified: files,
    diff_summary: { files_changed: files.length, insertions: ins, deletions: del, text },
    validation_status: validationStatus(input.validation),
    commit_message: input.commitMessage ?? input.changes?.commits[0] ?? null,
    error,
    metadata: {
      tokens_used: input.tokensUsed ?? null,
      duration_seconds: Math.round(input.durationMs) / 1000,
      exit_code: p?.exitCode ?? null,
      signal: p?.signal ?? null,
      started_at: input.startedAt.toISOString(),
      finished_at: new Date(input.startedAt.getTime() + input.durationMs).toISOString(),
      attempt: input.ctx.attempt ?? 1,
      max_retries: input.task.execution.max_retries,
      ...(input.command ? { command: input.command } : {}),
      ...(input.workingDirectory !== undefined ? { working_directory: input.workingDirectory } : {}),
      ...(input.context ? { context: input.context } : {}),
      validation: input.validation,
      ...(p ? { output_tail: tail(p.stdout + (p.stderr ? `\n${p.stderr}` : '')) } : {}),
      ...(p?.logError ? { log_error: p.logError } : {}),
    },
  };
}

/** Run a task's process (`{ file, args }` or `{ shell }`) in `cwd` under the run context, and collect what it changed in the repo. */
export async function runTaskProcess(
  root: string,
  task: TaskDefinition,
  ctx: RunContext,
  command: { file: string; args: string[] } | { shell: string },
  cwd: string,
  logFile?: LogTarget,
): Promise<{ p: ProcessResult; changes: ReturnType<typeof changesSince> }> {
  const baseline = ctx.trackChanges === false ? null : captureChanges(root);
  const p = await runProcess({
    ...command,
    cwd,
    timeoutMs: task.execution.timeout_seconds * 1000,
    ...(ctx.env ? { env: ctx.env } : {}),
    ...(ctx.killGraceMs !== undefined ? { killGraceMs: ctx.killGraceMs } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}),
    ...(ctx.onSpawn ? { onSpawn: ctx.onSpawn } : {}),
    ...(logFile ? { logFile } : {}),
  });
  return { p, changes: baseline ? changesSince(root, baseline) : { files: [], insertions: null, deletions: null, commits: [] } };
}

/** Evaluate post-execution validation (not for a timed-out or cancelled run); a run that did not fail otherwise fails as validation_failed when a rule failed. */
/**
 * The end of every process-running adapter: post-execution validation settles the error, then the
 * worker output with the process, its changes and where it ran (shell, aider and claude share it).
 */
export function settleOutput(
  root: string,
  base: Pick<FinishInput, 'task' | 'worker' | 'ctx' | 'startedAt'>,
  run: { p: ProcessResult; changes: FinishInput['changes']; validation: ValidationReport; error: FinishInput['error']; command: string[]; dir: string },
  extra: Pick<FinishInput, 'tokensUsed' | 'commitMessage' | 'context'> = {},
): WorkerOutput {
  return finishOutput({
    ...base,
    ...extra,
    durationMs: run.p.durationMs,
    error: settleError(base.task, run.p, run.validation, run.error),
    process: run.p,
    changes: run.changes,
    validation: run.validation,
    command: run.command,
    workingDirectory: relative(root, run.dir).split(sep).join('/') || '.',
  });
}

export function settleError(task: TaskDefinition, p: ProcessResult, validation: ValidationReport, error: FinishInput['error']): FinishInput['error'] {
  evaluatePostValidation(task, p.timedOut || p.cancelled ? null : p.exitCode, validation);
  if (!error && validation.failed.length > 0) return { error_type: 'validation_failed', message: `post-execution validation failed: ${validation.failed.join(', ')}`, exit_code: p.exitCode };
  return error;
}

/** The process outcome as a contract error, or null when it exited 0. */
export function processError(p: ProcessResult, task: TaskDefinition): FinishInput['error'] {
  if (p.spawnError) return { error_type: 'spawn_failed', message: `could not start the command: ${p.spawnError}`, exit_code: null, signal: null };
  if (p.cancelled) return { error_type: 'cancelled', message: 'the run was cancelled', exit_code: p.exitCode, signal: p.signal };
  if (p.timedOut) return { error_type: 'timeout', message: `no result within timeout_seconds (${task.execution.timeout_seconds} s); the process group was killed`, exit_code: p.exitCode, signal: p.signal };
  if (p.exitCode !== 0) {
    const why = p.signal ? `was killed by ${p.signal}` : `exited with status ${p.exitCode}`;
    return { error_type: 'nonzero_exit', message: `the command ${why}`, exit_code: p.exitCode, signal: p.signal };
  }
  return null;
}

/** True when `capabilities` cover every capability the task requires (every Worker's canRun). */
export function hasCapabilities(capabilities: readonly string[], task: TaskDefinition): boolean {
  return task.worker_requirements.capabilities.every((c) => capabilities.includes(c));
}

/** What every adapter does before its command: where it runs, and the output for a task that cannot run there. */
export function beginAttempt(
  worker: { id: string; type: string },
  task: TaskDefinition,
  ctx: RunContext,
): { root: string; base: Pick<FinishInput, 'task' | 'worker' | 'ctx' | 'startedAt'>; since: () => number; dir: string } | { early: WorkerOutput } {
  const startedAt = new Date();
  const root = resolve(ctx.root);
  const base = { task, worker: { id: worker.id, type: worker.type }, ctx, startedAt };
  const since = () => Date.now() - startedAt.getTime();
  const wd = resolveWorkingDirectory(root, task);
  if ('error' in wd) return { early: finishOutput({ ...base, durationMs: since(), error: { error_type: 'invalid_task', message: wd.error }, validation: { passed: [], failed: [], skipped: [] } }) };
  return { root, base, since, dir: wd.dir };
}

/** The constructor and canRun every adapter shares. */
export abstract class BaseWorker implements Worker {
  abstract readonly type: string;
  constructor(
    readonly id: string,
    readonly capabilities: readonly string[],
  ) {}

  canRun(task: TaskDefinition): boolean {
    return hasCapabilities(this.capabilities, task);
  }

  abstract run(task: TaskDefinition, ctx: RunContext): Promise<WorkerOutput>;
}

export class ShellWorker implements Worker {
  readonly type: string = 'shell';
  /** It never reads the output: the command writes straight into ctx.logFile. */
  readonly logsDirectly: boolean = true;
  constructor(
    readonly id: string,
    readonly capabilities: readonly string[] = ['shell'],
  ) {}

  canRun(task: TaskDefinition): boolean {
    return hasCapabilities(this.capabilities, task);
  }

  async run(task: TaskDefinition, ctx: RunContext): Promise<WorkerOutput> {
    const startedAt = new Date();
    const root = resolve(ctx.root);
    const base = { task, worker: { id: this.id, type: this.type }, ctx, startedAt };
    const wd = resolveWorkingDirectory(root, task);
    if ('error' in wd) return finishOutput({ ...base, durationMs: Date.now() - startedAt.getTime(), error: { error_type: 'invalid_task', message: wd.error }, validation: { passed: [], failed: [], skipped: [] } });
    const validation = evaluatePreValidation(root, task);
    if (validation.failed.length > 0) {
      return finishOutput({
        ...base,
        durationMs: Date.now() - startedAt.getTime(),
        error: { error_type: 'validation_failed', message: `pre-execution validation failed: ${validation.failed.join(', ')} (the command was not run)` },
        validation,
      });
    }
    const { p, changes } = await runTaskProcess(root, task, ctx, { shell: task.execution.command }, wd.dir, ctx.logFile);
    return settleOutput(root, base, { p, changes, validation, error: processError(p, task), command: ['/bin/sh', '-c', task.execution.command], dir: wd.dir });
  }
}
