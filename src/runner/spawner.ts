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
 * Public API (internal): spawnViaHelper(file, args, { cwd, env, log? }) → HelperChild (an
 * EventEmitter with `pid` once known, 'spawn' (pid, logError), 'data' (stream, chunk),
 * 'error' (message), 'close' (code, signal, tail)); helperAvailable();
 * openLog(fs, log) / closeLog(fs, opened, pid): a command's log file as its stdout and
 * stderr (the same two functions run in the helper and, for direct spawns, in ./shell.ts).
 * With `log` ({ dir?, path, header, pidLine }) the child writes straight into the log
 * (appended; `dir` is created when given): no pipe, no 'data' events, nothing passes through
 * Node. `header` is written before the spawn, `pidLine` ("{pid}" replaced) right after it,
 * and 'close' carries the tail of what the command wrote (read back from the file, at most
 * 32 KiB, the pid line taken out). A log that cannot be opened is reported in
 * 'spawn' (logError) and the command runs with pipes as without `log`.
 * The helper runs in its own process group (a terminal's Ctrl-C reaches the runner,
 * which drains, not the helper), ignores SIGINT/SIGTERM/SIGHUP and exits when its
 * IPC channel closes (the runner exited, or was killed). The channel is unref'd
 * while no child is in flight, so the helper never keeps the runner alive.
 * Set ORC_STATE_SPAWN=direct to spawn from the runner itself.
 * Integration points: ./shell.ts runProcess.
 * Stability: internal. Dependencies: node:child_process, node:events, node:fs (types).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type * as Fs from 'node:fs';

/** Where a command's stdout and stderr go when they bypass Node (see the header). */
export interface LogTarget {
  /** Created first when given (a caller that created the file already leaves it out). */
  dir?: string;
  path: string;
  header: string;
  /** Written right after the spawn, "{pid}" replaced by the leader's pid (the process group id too). */
  pidLine: string;
}

export interface OpenedLog {
  fd: number;
  /** Size of the file once the header is written: the command's own output starts here. */
  from: number;
  pidLine: string;
}

// openLog and closeLog also run inside the helper (HELPER_SOURCE embeds their compiled text):
// plain code, nothing from this module's scope, `fs` passed in.
/** Create the log's directory, open the log for appending (readable, for the tail) and write the header. */
export function openLog(fs: typeof Fs, log: LogTarget): OpenedLog | { error: string } {
  let fd: number | null = null;
  try {
    if (log.dir) fs.mkdirSync(log.dir, { recursive: true });
    fd = fs.openSync(log.path, 'a+');
    if (log.header) fs.writeSync(fd, log.header);
    return { fd, from: fs.fstatSync(fd).size, pidLine: log.pidLine };
  } catch (error) {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    return { error: String((error as Error | undefined)?.message ?? error) };
  }
}

/** Read back the tail of what the command wrote (without the pid line) and close the log. */
export function closeLog(fs: typeof Fs, log: OpenedLog, pid: number | undefined): string {
  let text = '';
  try {
    const size = fs.fstatSync(log.fd).size;
    const length = Math.min(size - log.from, 32 * 1024); // the worker output keeps 8 KiB of it
    if (length > 0) {
      const buffer = Buffer.alloc(length);
      text = buffer.toString('utf8', 0, fs.readSync(log.fd, buffer, 0, length, size - length));
    }
  } catch {
    /* the tail is best effort: the log is the record */
  }
  try {
    fs.closeSync(log.fd);
  } catch {
    /* nothing to do */
  }
  return pid !== undefined && log.pidLine ? text.replace(log.pidLine.split('{pid}').join(String(pid)), '') : text;
}

/** Write the pid line once the leader is known (right after the spawn, ahead of almost any output). */
export function writePidLine(fs: typeof Fs, log: OpenedLog, pid: number): void {
  if (!log.pidLine) return;
  try {
    fs.writeSync(log.fd, log.pidLine.split('{pid}').join(String(pid)));
  } catch {
    /* the log is best effort */
  }
}

// The helper's whole program: kept to node:child_process and node:fs so its memory (and so its fork cost) stays small.
const HELPER_SOURCE = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const openLog = ${openLog.toString()};
const closeLog = ${closeLog.toString()};
const writePidLine = ${writePidLine.toString()};
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  let log = null;
  let logError;
  if (m.log) {
    const opened = openLog(fs, m.log);
    if ('error' in opened) logError = opened.error;
    else log = opened;
  }
  let child;
  try {
    child = spawn(m.file, m.args, { cwd: m.cwd, env: m.env, detached: true, stdio: log ? ['ignore', log.fd, log.fd] : ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    if (log) closeLog(fs, log, undefined);
    process.send({ id: m.id, type: 'error', message: String(e && e.message || e), logError });
    return;
  }
  const pid = child.pid;
  if (pid !== undefined) {
    if (log) writePidLine(fs, log, pid);
    process.send({ id: m.id, type: 'spawn', pid, logError });
  }
  if (!log) {
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => process.send({ id: m.id, type: 'data', stream: 'stdout', chunk: d }));
    child.stderr.on('data', (d) => process.send({ id: m.id, type: 'data', stream: 'stderr', chunk: d }));
  }
  const end = () => {
    const tail = log ? closeLog(fs, log, pid) : undefined;
    log = null;
    return tail;
  };
  child.on('error', (e) => {
    // a command that never started gets no 'close': its log is closed here
    const tail = pid === undefined ? end() : undefined;
    process.send({ id: m.id, type: 'error', message: e.message, logError, tail });
  });
  child.on('close', (code, signal) => process.send({ id: m.id, type: 'close', code, signal, tail: end() }));
});
`;

type HelperMessage =
  | { id: number; type: 'spawn'; pid: number; logError?: string }
  | { id: number; type: 'data'; stream: 'stdout' | 'stderr'; chunk: string }
  | { id: number; type: 'error'; message: string; logError?: string; tail?: string }
  | { id: number; type: 'close'; code: number | null; signal: NodeJS.Signals | null; tail?: string };

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
        c.emit('spawn', m.pid, m.logError ?? null);
      } else if (m.type === 'data') c.emit('data', m.stream, m.chunk);
      else if (m.type === 'error') c.emit('error', m.message, m.logError ?? null, m.tail);
      else {
        inFlight.delete(m.id);
        if (inFlight.size === 0) channelRef(false);
        c.emit('close', m.code, m.signal, m.tail);
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

export function spawnViaHelper(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; log?: LogTarget }): HelperChild {
  const h = start() as ChildProcess;
  const id = nextId++;
  const child = new HelperChild();
  inFlight.set(id, child);
  if (inFlight.size === 1) channelRef(true);
  h.send({ id, file, args, cwd: options.cwd, env: options.env, ...(options.log ? { log: options.log } : {}) });
  return child;
}
