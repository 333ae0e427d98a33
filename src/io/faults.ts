/**
 * An injection point for write faults (disk full, I/O errors) in every durable
 * write of src/io, so tests can show that a failed write removes what it created.
 *
 * Public API (internal, for tests and fault drills):
 *   - setWriteFault(hook | null): install or remove the hook
 *   - writeFault(op, path): called by the writers after their bytes went out and before
 *     they are made durable; the hook throws to simulate a failure at that point
 *   - enospc(path): an errno-style ENOSPC error as the OS reports it
 *   - WriteOp: 'write' (temp file of an atomic replace), 'append' (JSONL log), 'lock' (lock record)
 * No hook is installed unless a caller sets one; the check is a single null test.
 * Integration points: ./atomic-write.ts, ./jsonl-log.ts, ./lock.ts; tests/faults-*.test.ts.
 * Stability: internal.
 * Dependencies: none.
 */

export type WriteOp = 'write' | 'append' | 'lock';
export type WriteFaultHook = (op: WriteOp, path: string) => void;

let hook: WriteFaultHook | null = null;

export function setWriteFault(next: WriteFaultHook | null): void {
  hook = next;
}

export function writeFault(op: WriteOp, path: string): void {
  if (hook !== null) hook(op, path);
}

/** The error a write on a full disk raises (same shape as Node's own errno errors). */
export function enospc(path: string, syscall = 'write'): NodeJS.ErrnoException {
  const error = new Error(`ENOSPC: no space left on device, ${syscall} '${path}'`) as NodeJS.ErrnoException;
  error.code = 'ENOSPC';
  error.errno = -28;
  error.syscall = syscall;
  error.path = path;
  return error;
}
