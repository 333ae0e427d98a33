/**
 * Context selection for AI workers (AIDER-INT-002): which files a worker may
 * see for a task, within its token budget.
 *
 * Public API (stable):
 *   - estimateTokens(bytes) → tokens (bytes / 4, rounded up)
 *   - selectContext(root, task, { promptBytes?, facts? }) → ContextSelection
 *       (`facts`: a FileFacts from fileFacts() shared by many calls in one read-only pass, e.g.
 *       the gate over 10,000 tasks: each path is resolved and stat'ed once, not once per task)
 *       files: every required file (in order) then optional files, in their
 *       listed order, while the estimate stays within max_context_tokens;
 *       never a file matched by exclude_patterns; never a path outside the repo.
 *       problems: blocking issues (missing/excluded/escaping required file →
 *       invalid_task; required files alone over budget → context_overflow).
 *   - ContextSelection, ContextProblem, FileFacts, fileFacts()
 * Integration points: ./aider.ts (command line), rule AIDER-INT-002 (static
 * checks of the same facts, so the gate and the runner agree).
 * Dependencies: node:fs, node:path, ./glob.js, ../model.js.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { TaskDefinition } from '../model.js';
import { matchesAny } from './glob.js';
import type { WorkerErrorType } from './types.js';

/** The size of a regular file; null when it does not exist, cannot be read or is not a regular file. */
function regularFileSize(abs: string): number | null {
  try {
    const st = statSync(abs);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

export function estimateTokens(bytes: number): number {
  return Math.ceil(bytes / 4);
}

export interface ContextProblem {
  error_type: Extract<WorkerErrorType, 'invalid_task' | 'context_overflow'>;
  file: string | null;
  /** JSON path in the task file the problem is about. */
  path: Array<string | number>;
  message: string;
}

export interface ContextSelection {
  /** Repo-relative '/' paths to hand to the worker. */
  files: string[];
  estimated_tokens: number;
  max_context_tokens: number;
  skipped: Array<{ file: string; reason: string }>;
  problems: ContextProblem[];
}

/** Memo of path facts for many selectContext calls over one unchanging tree (one root). */
export interface FileFacts {
  paths: Map<string, string | null>;
  sizes: Map<string, number | null>;
}

export function fileFacts(): FileFacts {
  return { paths: new Map(), sizes: new Map() };
}

function memo<T>(map: Map<string, T> | undefined, key: string, compute: () => T): T {
  if (!map) return compute();
  if (map.has(key)) return map.get(key) as T;
  const v = compute();
  map.set(key, v);
  return v;
}

/** Normalise a task-relative path: repo-relative '/' form, or null when it escapes the repo. */
export function repoPath(root: string, file: string): string | null {
  if (isAbsolute(file)) return null;
  const abs = resolve(root, file);
  const rel = relative(root, abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return null;
  // A symlink that leads outside the repo escapes too.
  if (existsSync(abs)) {
    try {
      const real = relative(realpathSync(root), realpathSync(abs));
      if (real.startsWith('..') || isAbsolute(real)) return null;
    } catch {
      return null;
    }
  }
  return rel.split(sep).join('/');
}

export function selectContext(root: string, task: TaskDefinition, options: { promptBytes?: number; facts?: FileFacts } = {}): ContextSelection {
  const repoPathOf = (file: string): string | null => memo(options.facts?.paths, file, () => repoPath(root, file));
  const sizeOf = (rel: string): number | null => memo(options.facts?.sizes, rel, () => regularFileSize(resolve(root, rel)));
  const req = task.context_requirements ?? { max_context_tokens: 0, required_files: [], exclude_patterns: [] };
  const budget = req.max_context_tokens;
  const excludes = req.exclude_patterns ?? [];
  const selection: ContextSelection = { files: [], estimated_tokens: estimateTokens(options.promptBytes ?? 0), max_context_tokens: budget, skipped: [], problems: [] };
  const seen = new Set<string>();

  (req.required_files ?? []).forEach((file, index) => {
    const path: Array<string | number> = ['context_requirements', 'required_files', index];
    const rel = repoPathOf(file);
    if (rel === null) {
      selection.problems.push({ error_type: 'invalid_task', file, path, message: `required file ${file} is outside the repository` });
      return;
    }
    const pattern = matchesAny(rel, excludes);
    if (pattern) {
      selection.problems.push({ error_type: 'invalid_task', file: rel, path, message: `required file ${rel} matches its own exclude pattern ${pattern}` });
      return;
    }
    const size = sizeOf(rel);
    if (size === null) {
      selection.problems.push({ error_type: 'invalid_task', file: rel, path, message: `required file ${rel} does not exist` });
      return;
    }
    if (seen.has(rel)) return;
    seen.add(rel);
    selection.files.push(rel);
    selection.estimated_tokens += estimateTokens(size);
  });
  if (selection.estimated_tokens > budget) {
    selection.problems.push({
      error_type: 'context_overflow',
      file: null,
      path: ['context_requirements', 'max_context_tokens'],
      message: `required files need about ${selection.estimated_tokens} tokens (bytes/4), over max_context_tokens ${budget}`,
    });
  }

  for (const file of req.optional_files ?? []) {
    const rel = repoPathOf(file);
    if (rel === null) {
      selection.skipped.push({ file, reason: 'outside the repository' });
      continue;
    }
    if (seen.has(rel)) continue;
    const pattern = matchesAny(rel, excludes);
    if (pattern) {
      selection.skipped.push({ file: rel, reason: `excluded by ${pattern}` });
      continue;
    }
    const size = sizeOf(rel);
    if (size === null) {
      selection.skipped.push({ file: rel, reason: 'does not exist' });
      continue;
    }
    const cost = estimateTokens(size);
    if (selection.estimated_tokens + cost > budget) {
      selection.skipped.push({ file: rel, reason: `over the token budget (${selection.estimated_tokens} + ${cost} > ${budget})` });
      continue;
    }
    seen.add(rel);
    selection.files.push(rel);
    selection.estimated_tokens += cost;
  }
  return selection;
}
