/**
 * A per-user cache of the run history (past run durations for estimates), so a one-shot command
 * on a long log reads only the events appended since the cache was written instead of the whole
 * log (and its archives) in every process.
 *
 * Public API (internal): loadCachedHistory(root) → RunHistory | null; saveCachedHistory(root, history).
 * Correctness: the cache records the live log's inode, the byte size it had read up to, a hash of
 * its first 4 KiB and the archive directory's identity. It is used only when the live log is the
 * same file (same inode and head) and at least that long, and the archives are unchanged: the log
 * is append-only between rotations, so the events after that offset are exactly the new ones, and
 * only complete lines are applied. Anything else (rotation, repair, a shorter log) means null, and
 * the caller reads everything. The cache lives outside the repository (`$TMPDIR/orc-state-<uid>/`).
 * Integration points: src/graph/files.ts historyFor.
 * Stability: internal.
 * Dependencies: node:fs, node:os, node:crypto, ./estimates.js, ../core/state-paths.js.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';

import type { OrcEvent } from '../model.js';
import { statePaths } from '../core/state-paths.js';
import { readCacheFile, repoCacheFile, writeCacheFile } from '../core/user-cache.js';
import { RunHistory } from './estimates.js';

const VERSION = 1;
const HEAD_BYTES = 4096;

interface CacheFile {
  version: number;
  root: string;
  ino: number;
  size: number;
  head: string;
  archive: string;
  lastSeq: number;
  durations: Array<[string, number[]]>;
  open: Array<[string, number]>;
}

function cacheFile(root: string): string {
  return repoCacheFile(root, 'history');
}

function archiveKey(root: string): string {
  try {
    const st = statSync(statePaths(root).archiveDir);
    return `${st.ino}:${st.mtimeMs}`;
  } catch {
    return '-';
  }
}

function headHash(fd: number): string {
  const buf = Buffer.alloc(HEAD_BYTES);
  const n = readSync(fd, buf, 0, HEAD_BYTES, 0);
  return createHash('sha1').update(buf.subarray(0, n)).digest('hex');
}

/** The cached history continued with the log's new complete lines, or null when the cache cannot be trusted. */
export function loadCachedHistory(root: string): RunHistory | null {
  const c = readCacheFile<CacheFile>(cacheFile(root));
  if (!c || c.version !== VERSION || c.root !== root || c.archive !== archiveKey(root)) return null;
  let fd: number;
  try {
    fd = openSync(statePaths(root).log, 'r');
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (st.ino !== c.ino || st.size < c.size || headHash(fd) !== c.head) return null;
    const history = new RunHistory();
    for (const [id, list] of c.durations) history.durations.set(id, list);
    const open = (history as unknown as { open: Map<string, number> }).open;
    for (const [id, t] of c.open) open.set(id, t);
    history.lastSeq = c.lastSeq;
    if (st.size > c.size) {
      const buf = Buffer.alloc(st.size - c.size);
      let off = 0;
      while (off < buf.length) {
        const n = readSync(fd, buf, off, buf.length - off, c.size + off);
        if (n === 0) break;
        off += n;
      }
      const text = buf.subarray(0, off).toString('utf8');
      const end = text.lastIndexOf('\n');
      for (const line of text.slice(0, end + 1).split('\n')) {
        if (!line) continue;
        try {
          const e = JSON.parse(line) as OrcEvent;
          if (typeof e.seq === 'number' && e.seq > history.lastSeq) history.apply(e);
        } catch {
          return null; // a line the log's own rules must report: read it the normal way
        }
      }
    }
    return history;
  } finally {
    closeSync(fd);
  }
}

/** The seq of the last complete line before `size`, and the offset just after its newline (torn bytes excluded). */
function lastCompleteLine(fd: number, size: number): { seq: number; end: number } | null {
  const len = Math.min(size, 256 * 1024);
  const buf = Buffer.alloc(len);
  const n = readSync(fd, buf, 0, len, size - len);
  const bytes = buf.subarray(0, n);
  const end = bytes.lastIndexOf(0x0a);
  if (end < 0) return null;
  const start = bytes.lastIndexOf(0x0a, end - 1);
  try {
    const seq = (JSON.parse(bytes.subarray(start + 1, end).toString('utf8')) as { seq?: unknown }).seq;
    return typeof seq === 'number' ? { seq, end: size - len + end + 1 } : null;
  } catch {
    return null;
  }
}

/** Remember `history` as read up to the live log's current size (call right after reading the whole log). */
export function saveCachedHistory(root: string, history: RunHistory): void {
  const file = cacheFile(root);
  try {
    const fd = openSync(statePaths(root).log, 'r');
    let body: CacheFile;
    try {
      const st = fstatSync(fd);
      // Only when the log's last complete line (at this size) is the last event applied: then every
      // line up to `size` is in `history` (appends are in seq order), whatever was appended meanwhile.
      const last = lastCompleteLine(fd, st.size);
      if (!last || last.seq !== history.lastSeq) return;
      const open = (history as unknown as { open: Map<string, number> }).open;
      body = {
        version: VERSION,
        root,
        ino: st.ino,
        size: last.end,
        head: headHash(fd),
        archive: archiveKey(root),
        lastSeq: history.lastSeq,
        durations: [...history.durations],
        open: [...open],
      };
    } finally {
      closeSync(fd);
    }
    writeCacheFile(file, body);
  } catch {
    /* a cache is optional */
  }
}
