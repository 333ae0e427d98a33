/**
 * Where the engine keeps its files inside a repository's `.state/`.
 *
 * Public API (stable): statePaths(root) → StatePaths, STATE_DIR, ARCHIVE_PATTERN,
 * archiveName(first, last), rel(root, abs).
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
  };
}

export function archiveName(first: number, last: number): string {
  return `transitions.${first}-${last}.jsonl.gz`;
}

/** Repo-relative path with '/' separators, as findings use. */
export function rel(root: string, abs: string): string {
  return relative(root, abs).split(sep).join('/');
}
