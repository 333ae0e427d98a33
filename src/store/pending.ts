/**
 * Work a process must finish before it exits: background derived-file refreshes started by a
 * store (derive: 'background') or a metrics timer tick. The CLI drains it before returning its
 * exit code, so a one-shot command always leaves fresh derived files behind.
 *
 * Public API (stable): trackPending(promise), drainPending(): Promise<void>, pendingCount().
 * Integration points: src/derive/refresher.ts (tracks its runs), src/cli/main.ts (drains at exit),
 * long-lived callers (run, watch, serve) before they exit.
 * Stability: stable.
 * Dependencies: none.
 */
const pending = new Set<Promise<unknown>>();

export function trackPending<T>(work: Promise<T>): Promise<T> {
  const settled = work.then(
    () => undefined,
    () => undefined,
  );
  pending.add(settled);
  void settled.then(() => pending.delete(settled));
  return work;
}

export function pendingCount(): number {
  return pending.size;
}

/** Wait until nothing tracked is running (work tracked while draining is waited for too). */
export async function drainPending(): Promise<void> {
  while (pending.size > 0) await Promise.all([...pending]);
}
