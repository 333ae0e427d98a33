/**
 * The only spelling of `.state/...`: the directory, the engine's own files and the derived files'
 * names. Every module that names a file under `.state/` takes it from here.
 *
 * Public API (stable): STATE_DIR, CURRENT_FILE, LOG_FILE, ARCHIVE_DIR, RECOVERED_DIR, OUTPUTS_DIR,
 * ARCHIVE_PATTERN, CHECKPOINT_PATTERN, statePaths(root) → StatePaths, stateDirOf(root),
 * stateRel(name) → `.state/<name>` (repo-relative, '/' separators), archiveName(first, last), rel(root, abs),
 * attemptLogPath(root, taskId, attempt); BACKUPS_DIR, LOGS_DIR, RUNS_DIR, RUN_LOCK_FILE;
 * MIN_RETENTION_DAYS (how long archived events are kept at least: AUDIT-002, `log prune`).
 * (src/engine/paths.ts re-exports this module for existing importers.)
 * Integration points: every module of src/engine, src/derive, src/graph, the compliance rules, the CLI.
 * Stability: stable.
 * Dependencies: node:path.
 */
import { join, relative, sep } from 'node:path';

export const STATE_DIR = '.state';
export const CURRENT_FILE = 'current.json';
export const LOG_FILE = 'transitions.jsonl';
export const ARCHIVE_DIR = 'archive';
export const RECOVERED_DIR = 'recovered';
export const BACKUPS_DIR = 'backups';
export const LOGS_DIR = 'logs';
export const RUNS_DIR = 'runs';
export const RUN_LOCK_FILE = 'run.lock';
/** Worker outputs kept per task (src/runner/output.ts). */
export const OUTPUTS_DIR = `${STATE_DIR}/outputs`;
/** Archived events are kept at least this many days (AUDIT-002; `log prune` refuses younger archives). */
export const MIN_RETENTION_DAYS = 90;
/** `.state/archive/transitions.<first>-<last>.jsonl.gz` (AUDIT-002, Decision 9). */
export const ARCHIVE_PATTERN = /^transitions\.(\d+)-(\d+)\.jsonl\.gz$/;
/** `.state/archive/checkpoint.<seq>.json`: the state at `seq`, written before archives up to it are pruned. */
export const CHECKPOINT_PATTERN = /^checkpoint\.(\d+)\.json$/;

export interface StatePaths {
  root: string;
  stateDir: string;
  current: string;
  currentTmp: string;
  log: string;
  archiveDir: string;
  recoveredDir: string;
  /** `.state/backups/`: copies of files the engine replaced when adopting a layout (e.g. the guide's placeholder current.json). */
  backupsDir: string;
  /** `.state/logs/<task_id>/attempt-<n>.log`: output of each attempt of `orc-state run`. */
  logsDir: string;
  /** `.state/runs/<run_id>.json`: the summary of each `orc-state run`. */
  runsDir: string;
  /** `.state/run.lock`: held by the one `orc-state run` of this repo (pid, host, run id, workers). */
  runLock: string;
}

export function stateDirOf(root: string): string {
  return join(root, STATE_DIR);
}

export function statePaths(root: string): StatePaths {
  const stateDir = stateDirOf(root);
  return {
    root,
    stateDir,
    current: join(stateDir, CURRENT_FILE),
    currentTmp: join(stateDir, `${CURRENT_FILE}.tmp`),
    log: join(stateDir, LOG_FILE),
    archiveDir: join(stateDir, ARCHIVE_DIR),
    recoveredDir: join(stateDir, RECOVERED_DIR),
    backupsDir: join(stateDir, BACKUPS_DIR),
    logsDir: join(stateDir, LOGS_DIR),
    runsDir: join(stateDir, RUNS_DIR),
    runLock: join(stateDir, RUN_LOCK_FILE),
  };
}

/**
 * The log of one attempt of a task, written by the runner and tailed by `serve`:
 * `.state/logs/<task_id>/attempt-<n>.log` (n is 1-based). Task ids are safe file names (TASK_ID_PATTERN).
 */
export function attemptLogPath(root: string, taskId: string, attempt: number): string {
  return join(stateDirOf(root), LOGS_DIR, taskId, `attempt-${attempt}.log`);
}

/** `.state/<name>` as findings and messages show it. */
export function stateRel(name: string): string {
  return `${STATE_DIR}/${name}`;
}

export function archiveName(first: number, last: number): string {
  return `transitions.${first}-${last}.jsonl.gz`;
}

/** Repo-relative path with '/' separators, as findings use. */
export function rel(root: string, abs: string): string {
  return relative(root, abs).split(sep).join('/');
}
