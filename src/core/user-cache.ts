/**
 * Where orc-state keeps its per-user caches: outside every repository, in
 * `$TMPDIR/orc-state-<uid>/`, so a repo never holds derived caches and two users
 * never share one. Every cache (task definitions, run history, parsed machines)
 * names its file here.
 *
 * Public API (stable): userCacheDir() → the directory; repoCacheFile(root, kind) →
 * `<dir>/<kind>-<sha1 of the repo's real path, 16 hex>.json`.
 * Integration points: src/engine/definitions-cache.ts, src/graph/history-cache.ts,
 * src/machines/definitions.ts.
 * Stability: stable. Dependencies: node:crypto, node:fs, node:os, node:path.
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
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
