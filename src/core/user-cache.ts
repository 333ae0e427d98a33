/**
 * Where orc-state keeps its per-user caches: outside every repository, in
 * `$TMPDIR/orc-state-<uid>/`, so a repo never holds derived caches and two users
 * never share one. Every cache (task definitions, run history, parsed machines)
 * names its file here.
 *
 * Every cache is optional and rebuilt on a miss, so the directory is pruned as it is written
 * (at most once an hour): temp files a killed writer left, files untouched for 14 days, then the
 * oldest files while the directory holds more than 256 MB (test suites and benches generate
 * thousands of repos a day).
 *
 * Public API (stable): userCacheDir() → the directory; repoCacheFile(root, kind) →
 * `<dir>/<kind>-<sha1 of the repo's real path, 16 hex>.json`; writeCacheFile(file, body) → writes
 * JSON by rename, never throws; readCacheFile(file) → its JSON, or null when missing or unreadable; pruneUserCache(dir, options) → what it removed.
 * Integration points: src/engine/definitions-cache.ts, src/graph/history-cache.ts,
 * src/machines/definitions.ts, src/registry/cache.ts.
 * Stability: stable. Dependencies: node:crypto, node:fs, node:os, node:path.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export function userCacheDir(): string {
  let uid = 'user';
  try {
    uid = String(userInfo().uid);
  } catch {
    /* no passwd entry */
  }
  return join(tmpdir(), `orc-state-${uid}`);
}

/** One cache file per repository (keyed by its real path, so symlinked roots share it). */
export function repoCacheFile(root: string, kind: string): string {
  let real = root;
  try {
    real = realpathSync(root);
  } catch {
    /* keep root */
  }
  return join(userCacheDir(), `${kind}-${createHash('sha1').update(real).digest('hex').slice(0, 16)}.json`);
}

const HOUR_MS = 3_600_000;
const PRUNE_MARKER = '.pruned';

export interface PruneOptions {
  /** The clock (injected by tests). */
  now?: number;
  /** Files not written for this long are removed. Default 14 days. */
  maxAgeMs?: number;
  /** Above this many bytes the oldest files go until half of it is left. Default 256 MB. */
  maxBytes?: number;
}

/** Removes stale caches from `dir`; returns the names removed. Errors (a file gone meanwhile, a read-only dir) are ignored. */
export function pruneUserCache(dir: string, options: PruneOptions = {}): string[] {
  const now = options.now ?? Date.now();
  const maxAgeMs = options.maxAgeMs ?? 14 * 24 * HOUR_MS;
  const maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
  const removed: string[] = [];
  const kept: Array<{ name: string; size: number; mtimeMs: number }> = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  const remove = (name: string): void => {
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      /* gone already, or not ours to remove */
    }
  };
  for (const name of names) {
    if (name === PRUNE_MARKER) continue;
    let st;
    try {
      st = statSync(join(dir, name));
    } catch {
      continue;
    }
    if (!st.isFile()) continue;
    const age = now - st.mtimeMs;
    if ((name.endsWith('.tmp') && age > HOUR_MS) || age > maxAgeMs) remove(name);
    else kept.push({ name, size: st.size, mtimeMs: st.mtimeMs });
  }
  let total = kept.reduce((sum, f) => sum + f.size, 0);
  if (total > maxBytes) {
    kept.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const f of kept) {
      if (total <= maxBytes / 2) break;
      remove(f.name);
      total -= f.size;
    }
  }
  return removed;
}

/** Prunes when the marker says the last prune is over an hour old (one stat per cache write otherwise). */
function maybePrune(dir: string): void {
  const marker = join(dir, PRUNE_MARKER);
  const now = Date.now();
  try {
    if (now - statSync(marker).mtimeMs < HOUR_MS) return;
  } catch {
    /* never pruned */
  }
  try {
    writeFileSync(marker, '');
    utimesSync(marker, now / 1000, now / 1000);
  } catch {
    return;
  }
  pruneUserCache(dir, { now });
}

/** Writes one cache file (JSON, by rename so readers never see half of it). A cache is optional: failures are swallowed. */
export function writeCacheFile(file: string, body: unknown): void {
  const dir = join(file, '..');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(body));
    renameSync(tmp, file);
  } catch {
    return;
  }
  maybePrune(dir);
}

/** One cache file's JSON, or null when it is missing or unreadable (a cache is optional: the caller rebuilds it). */
export function readCacheFile<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}
