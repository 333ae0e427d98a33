/**
 * A per-user cache of loaded task definitions, so one-shot commands (`orc-state
 * task ...`, `worker ...`) on a large repository do not re-read, re-parse and
 * re-validate every task file on each call.
 *
 * Public API (internal): loadTasksCached(root) → TaskSet; definitionsSignature(root).
 * Correctness: the cache is keyed by a signature of every entry under tasks/
 * (relative path, size, mtime, inode); any change (or any symbolic link, which
 * A's loader resolves specially) means a full `loadTasks(root)`, whose result
 * then replaces the cache. Only what loadTasks produced is ever cached, so
 * validation is never skipped: a changed file is always re-validated. Cached
 * tasks carry a canonical `text` (their JSON) and locations at line 1; the
 * engine needs neither for committing. The cache lives outside the repository
 * (`$TMPDIR/orc-state-<uid>/`), so nothing in .state/ or tasks/ changes.
 * Integration points: src/engine/commit.ts (definitions for guards and derive).
 * Dependencies: node:fs, node:os, node:crypto, ../repo/load-tasks.js.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding, TaskDefinition } from '../model.js';
import { loadTasks, type LoadedTask, type TaskSet } from '../repo/load-tasks.js';
import { repoCacheFile } from '../core/user-cache.js';

const VERSION = 1;

interface CacheFile {
  version: number;
  root: string;
  signature: string;
  tasks: Array<{ file: string; sourceVersion: string; task: TaskDefinition }>;
  findings: Finding[];
  invalidIds: string[];
}

/** Hash of every entry under tasks/ (as loadTasks walks it), or null when the tree cannot be cached. */
export function definitionsSignature(root: string): string | null {
  const hash = createHash('sha1');
  let ok = true;
  const walk = (abs: string, rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(abs).sort();
    } catch {
      ok = false;
      return;
    }
    for (const name of names) {
      if (!ok) return;
      if (name.startsWith('.')) continue;
      const p = `${abs}/${name}`;
      const st = lstatSync(p);
      if (st.isSymbolicLink()) {
        ok = false;
        return;
      }
      if (st.isDirectory()) {
        hash.update(`d ${rel}/${name}\n`);
        walk(p, `${rel}/${name}`);
      } else {
        hash.update(`f ${rel}/${name} ${st.size} ${st.mtimeMs} ${st.ino}\n`);
      }
    }
  };
  walk(join(root, 'tasks'), 'tasks');
  return ok ? hash.digest('hex') : null;
}

function cachePath(root: string): string {
  return repoCacheFile(root, 'definitions');
}

function fromCache(c: CacheFile): TaskSet {
  const set: TaskSet = { tasks: new Map(), byWorkstream: new Map(), findings: c.findings, filesRead: 0, invalidIds: new Set(c.invalidIds) };
  for (const t of c.tasks) {
    const loaded = { task: t.task, file: t.file, sourceVersion: t.sourceVersion, locate: () => ({ line: 1, column: 1 }) } as unknown as LoadedTask;
    // The canonical text is computed only if someone asks for it.
    let text: string | undefined;
    Object.defineProperty(loaded, 'text', { enumerable: true, get: () => (text ??= JSON.stringify(t.task)) });
    set.tasks.set(t.task.task_id, loaded);
    const ws = set.byWorkstream.get(t.task.workstream_id);
    if (ws) ws.push(loaded);
    else set.byWorkstream.set(t.task.workstream_id, [loaded]);
  }
  return set;
}

function save(root: string, signature: string, set: TaskSet): void {
  const file = cachePath(root);
  const body: CacheFile = {
    version: VERSION,
    root,
    signature,
    tasks: [...set.tasks.values()].map((t) => ({ file: t.file, sourceVersion: t.sourceVersion, task: t.task })),
    findings: set.findings,
    invalidIds: [...(set.invalidIds ?? [])],
  };
  try {
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(body));
    renameSync(tmp, file);
  } catch {
    /* a cache is optional */
  }
}

/** loadTasks(root), served from the cache when no file under tasks/ changed since it was filled. */
export function loadTasksCached(root: string): TaskSet {
  const signature = definitionsSignature(root);
  if (signature === null) return loadTasks(root);
  try {
    const c = JSON.parse(readFileSync(cachePath(root), 'utf8')) as CacheFile;
    if (c.version === VERSION && c.signature === signature && c.root === root) return fromCache(c);
  } catch {
    /* no cache yet, or unreadable */
  }
  const set = loadTasks(root);
  // Only cache when nothing changed while we were reading.
  if (definitionsSignature(root) === signature) save(root, signature, set);
  return set;
}

/** Refresh the cache from a TaskSet just loaded in full (sync). */
export function rememberDefinitions(root: string, set: TaskSet): void {
  const signature = definitionsSignature(root);
  if (signature !== null) save(root, signature, set);
}
