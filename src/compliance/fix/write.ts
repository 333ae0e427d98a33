/**
 * A synchronous durable file replace for the gate's --fix repairs: write a
 * temp file beside the target, fsync it, rename it over the target, fsync the
 * directory. A crash leaves either the old or the new file, never half of one.
 *
 * Public API (internal): writeFileDurableSync(path, text).
 * Integration points: ./index.ts. (B2's src/io/atomic-write.ts is the async
 * equivalent used by the engine; the fixers run synchronously before rules.)
 * Dependencies: node:fs, node:path, node:crypto.
 */
import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export function writeFileDurableSync(path: string, text: string): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  let mode = 0o644;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    /* new file */
  }
  const fd = openSync(tmp, 'wx', mode);
  try {
    const data = Buffer.from(text, 'utf8');
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written, data.length - written);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw error;
  }
  closeSync(fd);
  renameSync(tmp, path);
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* directories cannot be fsynced on some platforms */
  }
}
