/**
 * Durable, atomic file replacement: readers see the old file or the new one,
 * never a partial write, and the new content survives a power cut once the
 * promise resolves.
 *
 * Public API:
 *   - writeFileDurable(path, data): Promise<void>   (stable)
 *   - writeFileDurableSync(path, data, options?): void (stable; options.keepMode: the
 *     replaced file keeps its permission bits, for user files such as tasks/*.json)
 *   - tempPathFor(path): string                      (internal; the temp name used)
 *   - fsyncDir(dir): Promise<void> / fsyncDirSync(dir) (stable)
 *   - isTempFileName(name): boolean                  (stable; what doctor/STATE-OBS-003 treat as a leftover temp file)
 *   - writeAll(handle, bytes) / writeAllSync(fd, bytes) (internal; a write loop until every byte is
 *     written, shared with ./jsonl-log.ts's appends)
 *   - writeFileSynced(path, bytes, flag): Promise<void> (internal; create/truncate ('w') or create
 *     exclusively ('wx') a 0644 file, write every byte, fsync, close: the first half of a durable
 *     replace, shared with src/migrate/backup.ts and src/migrate/event-log.ts)
 * Order of operations: write `<tmp>` in the same directory → fsync it → rename
 * over the target → fsync the directory (so the rename itself is durable).
 * The temp file for `current.json` is exactly `current.json.tmp`
 * (STATE-OBS-003; only ever written under the .state lock); every other file
 * gets a unique `<name>.<pid>.<random>.tmp` so concurrent writers never share
 * a temp file. On failure the temp file is removed and the target is untouched.
 * Integration points: the engine's commit path (snapshot), B1's derive step
 * (indices, metrics), C's graph files, doctor (which removes stale temp files),
 * the compliance --fix repairs of task files (keepMode), src/migrate (writeFileSynced).
 * Dependencies: node:fs, node:path, node:crypto, ./faults.js (test hook).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFault } from './faults.js';

/** Names that only ever appear as temp files of an interrupted atomic write. */
const TEMP_PATTERNS = [
  /\.tmp$/, // ours: current.json.tmp, <name>.<pid>.<hex>.tmp
  /\.json\.\d+$/, // write-file-atomic: current.json.<murmurhash digits>
];

export function isTempFileName(name: string): boolean {
  return TEMP_PATTERNS.some((re) => re.test(name));
}

export function tempPathFor(path: string): string {
  const name = basename(path);
  if (name === 'current.json') return join(dirname(path), 'current.json.tmp');
  return join(dirname(path), `${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function toBuffer(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** fsync a directory so a rename/create inside it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Write every byte (a single write may be short). */
export async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

export function writeAllSync(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** Write `bytes` to a 0644 file opened with `flag` and fsync it; the caller renames it into place. */
export async function writeFileSynced(path: string, bytes: Uint8Array, flag: 'w' | 'wx'): Promise<void> {
  const handle = await open(path, flag, 0o644);
  try {
    await writeAll(handle, bytes);
    writeFault('write', path);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileDurable(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(path);
  const bytes = toBuffer(data);
  let renamed = false;
  try {
    await writeFileSynced(tmp, bytes, 'w');
    await rename(tmp, path);
    renamed = true;
    await fsyncDir(dirname(path));
  } catch (error) {
    if (!renamed) await unlink(tmp).catch(() => undefined);
    throw error;
  }
}

export function writeFileDurableSync(path: string, data: string | Uint8Array, options: { keepMode?: boolean } = {}): void {
  const tmp = tempPathFor(path);
  const bytes = toBuffer(data);
  let mode = 0o644;
  if (options.keepMode) {
    try {
      mode = statSync(path).mode & 0o777;
    } catch {
      /* a new file */
    }
  }
  let renamed = false;
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      writeAllSync(fd, bytes);
      writeFault('write', tmp);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    renamed = true;
    fsyncDirSync(dirname(path));
  } catch (error) {
    if (!renamed) {
      try {
        unlinkSync(tmp);
      } catch {
        /* already gone */
      }
    }
    throw error;
  }
}
