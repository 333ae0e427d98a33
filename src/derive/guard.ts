/**
 * Derived files never go backwards: every derived file (indices, metrics.json and .prom, DAG and
 * plan files) records the `last_seq` of the snapshot it was derived from, and no writer replaces
 * a file that records a newer one. Compare-and-replace is atomic across processes: it happens
 * under `.state/orc-state.derive.lock` (a lock of its own, never the commit lock, so commits do
 * not wait for derived files), and within a process under a per-directory queue.
 *
 * Public API (internal; src/derive, src/graph/files.ts, src/engine/derive.ts):
 *   - writeDerivedFile(path, text, seq): Promise<boolean>  replace `path` unless it records a seq > `seq`
 *     (false when a newer file was kept)
 *   - withDeriveLock(stateDir, fn, options?): Promise<T>     hold the derive lock for a batch of writes
 *     (writeDerivedFile calls inside fn reuse it)
 *   - sourceSeqOf(path): number | null                      the seq a derived file records (null: none / unreadable)
 *   - fileHead(path, bytes): string | null                  the first bytes of a file (src/derive/status-view.ts too)
 * Integration points: writeIndices, writeMetrics, the DAG/plan writers, deriveAll (one lock per batch).
 * Stability: internal.
 * Dependencies: node:fs, node:path, node:async_hooks, ../io/atomic-write.js, ../io/lock.js.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { closeSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileDurable } from '../io/atomic-write.js';
import { DERIVE_LOCK_FILE, withLock } from '../io/lock.js';

/** JSON files name it near the top; the OpenMetrics text has a `<prefix>_source_last_seq <n>` sample. */
const JSON_SEQ = /"source_last_seq":\s*(\d+)/;
const PROM_SEQ = /^[a-z_]*_source_last_seq(?:\{[^}]*\})?\s+(\d+)/m;
const HEAD_BYTES = 4096;
const PROM_BYTES = 1 << 20;

/** The first `bytes` bytes of a file as UTF-8 (null: missing or unreadable). */
export function fileHead(path: string, bytes: number): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

export function sourceSeqOf(path: string): number | null {
  const prom = path.endsWith('.prom');
  const text = fileHead(path, prom ? PROM_BYTES : HEAD_BYTES);
  const m = text === null ? null : (prom ? PROM_SEQ : JSON_SEQ).exec(text);
  return m ? Number(m[1]) : null;
}

const held = new AsyncLocalStorage<string>();
const queues = new Map<string, Promise<void>>();

/** Lock timeout for derived writes: a derive that cannot get the lock gives up (the files stay behind, never wrong). */
const DERIVE_LOCK_TIMEOUT_MS = 30_000;

export async function withDeriveLock<T>(stateDir: string, fn: () => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
  if (held.getStore() === stateDir) return fn();
  const previous = queues.get(stateDir) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => mine);
  queues.set(stateDir, tail);
  await previous;
  try {
    return await withLock(stateDir, { file: DERIVE_LOCK_FILE, timeoutMs: options.timeoutMs ?? DERIVE_LOCK_TIMEOUT_MS, command: 'derive' }, () => held.run(stateDir, fn));
  } finally {
    release();
    if (queues.get(stateDir) === tail) queues.delete(stateDir);
  }
}

export async function writeDerivedFile(path: string, text: string, seq: number): Promise<boolean> {
  return withDeriveLock(dirname(path), async () => {
    const onDisk = sourceSeqOf(path);
    if (onDisk !== null && onDisk > seq) return false;
    await writeFileDurable(path, text);
    return true;
  });
}
