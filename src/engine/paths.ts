/**
 * Where the engine keeps its files inside a repository's `.state/`.
 *
 * Public API (stable): statePaths(root) → StatePaths, STATE_DIR, ARCHIVE_PATTERN,
 * archiveName(first, last), rel(root, abs), attemptLogPath(root, taskId, attempt).
 * Integration points: every module of src/engine, CLI commands, compliance rules.
 * Dependencies: node:path.
 */
import { join, relative, sep } from 'node:path';

export const STATE_DIR = '.state';
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

export function statePaths(root: string): StatePaths {
  const stateDir = join(root, STATE_DIR);
  return {
    root,
    stateDir,
    current: join(stateDir, 'current.json'),
    currentTmp: join(stateDir, 'current.json.tmp'),
    log: join(stateDir, 'transitions.jsonl'),
    archiveDir: join(stateDir, 'archive'),
    recoveredDir: join(stateDir, 'recovered'),
    backupsDir: join(stateDir, 'backups'),
    logsDir: join(stateDir, 'logs'),
    runsDir: join(stateDir, 'runs'),
    runLock: join(stateDir, 'run.lock'),
  };
}

export function archiveName(first: number, last: number): string {
  return `transitions.${first}-${last}.jsonl.gz`;
}

/** Repo-relative path with '/' separators, as findings use. */
export function rel(root: string, abs: string): string {
  return relative(root, abs).split(sep).join('/');
}

/**
 * The log of one attempt of a task, written by the runner and tailed by `serve`:
 * `.state/logs/<task_id>/attempt-<n>.log` (n is 1-based). Task ids are safe file names (TASK_ID_PATTERN).
 */
export function attemptLogPath(root: string, taskId: string, attempt: number): string {
  return join(root, STATE_DIR, 'logs', taskId, `attempt-${attempt}.log`);
}
