/**
 * Spawning through a small helper process. fork() copies the parent's page
 * tables, so a spawn costs in proportion to the spawning process's memory: a
 * bare Node script spawns 1,000 `sh -c true` (8 at a time) in ~1.1 s at 62 MB
 * RSS and in ~8.2 s holding 150 MB. The runner holds its state, definitions and
 * modules (85–160 MB), so it hands each spawn to one long-lived helper (a Node
 * process that loads only node:child_process) and keeps everything else:
 * process groups (the helper spawns detached; the runner kills `-pid` itself),
 * the timeout, the output, the exit status.
 *
 * Public API (internal): spawnViaHelper(file, args, { cwd, env }) → HelperChild (an
 * EventEmitter with `pid` once known, 'spawn' (pid), 'data' (stream, chunk),
 * 'error' (message), 'close' (code, signal)); helperAvailable().
 * The helper runs in its own process group (a terminal's Ctrl-C reaches the runner,
 * which drains, not the helper), ignores SIGINT/SIGTERM/SIGHUP and exits when its
 * IPC channel closes (the runner exited, or was killed). The channel is unref'd
 * while no child is in flight, so the helper never keeps the runner alive.
 * Set ORC_STATE_SPAWN=direct to spawn from the runner itself.
 * Integration points: ./shell.ts runProcess.
 * Stability: internal. Dependencies: node:child_process, node:events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';

// The helper's whole program: kept to node:child_process so its memory (and so its fork cost) stays small.
const HELPER_SOURCE = `
const { spawn } = require('node:child_process');
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  let child;
  try {
    child = spawn(m.file, m.args, { cwd: m.cwd, env: m.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    process.send({ id: m.id, type: 'error', message: String(e && e.message || e) });
    return;
  }
  if (child.pid !== undefined) process.send({ id: m.id, type: 'spawn', pid: child.pid });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => process.send({ id: m.id, type: 'data', stream: 'stdout', chunk: d }));
  child.stderr.on('data', (d) => process.send({ id: m.id, type: 'data', stream: 'stderr', chunk: d }));
  child.on('error', (e) => process.send({ id: m.id, type: 'error', message: e.message }));
  child.on('close', (code, signal) => process.send({ id: m.id, type: 'close', code, signal }));
});
`;

type HelperMessage =
  | { id: number; type: 'spawn'; pid: number }
  | { id: number; type: 'data'; stream: 'stdout' | 'stderr'; chunk: string }
  | { id: number; type: 'error'; message: string }
  | { id: number; type: 'close'; code: number | null; signal: NodeJS.Signals | null };

export class HelperChild extends EventEmitter {
  pid: number | undefined;
}

let helper: ChildProcess | null = null;
let broken = false;
let nextId = 1;
const inFlight = new Map<number, HelperChild>();

function channelRef(on: boolean): void {
  const channel = helper?.channel as { ref?: () => void; unref?: () => void } | undefined;
  if (on) {
    helper?.ref();
    channel?.ref?.();
  } else {
    helper?.unref();
    channel?.unref?.();
  }
}

function start(): ChildProcess | null {
  if (helper || broken) return helper;
  try {
    const h = spawn(process.execPath, ['-e', HELPER_SOURCE], { detached: true, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
    h.on('message', (m: HelperMessage) => {
      const c = inFlight.get(m.id);
      if (!c) return;
      if (m.type === 'spawn') {
        c.pid = m.pid;
        c.emit('spawn', m.pid);
      } else if (m.type === 'data') c.emit('data', m.stream, m.chunk);
      else if (m.type === 'error') c.emit('error', m.message);
      else {
        inFlight.delete(m.id);
        if (inFlight.size === 0) channelRef(false);
        c.emit('close', m.code, m.signal);
      }
    });
    const lost = () => {
      // The helper is gone: its children's outcomes cannot arrive; report them as failed spawns, spawn directly from now on.
      helper = null;
      broken = true;
      for (const [id, c] of inFlight) {
        inFlight.delete(id);
        c.emit('error', 'the spawn helper exited');
        c.emit('close', null, null);
      }
    };
    h.on('exit', lost);
    h.on('error', lost);
    helper = h;
    channelRef(false);
    return h;
  } catch {
    broken = true;
    return null;
  }
}

export function helperAvailable(): boolean {
  if (process.env.ORC_STATE_SPAWN === 'direct') return false;
  return start() !== null;
}

export function spawnViaHelper(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): HelperChild {
  const h = start() as ChildProcess;
  const id = nextId++;
  const child = new HelperChild();
  inFlight.set(id, child);
  if (inFlight.size === 1) channelRef(true);
  h.send({ id, file, args, cwd: options.cwd, env: options.env });
  return child;
}
