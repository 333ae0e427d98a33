/**
 * Follow `.state/transitions.jsonl` as it grows: every event committed by any
 * writer (the CLI, the runner, a library user in another process) is handed
 * over once, in seq order, shortly after its durable append.
 *
 * Public API (stable):
 *   - followLog(root, options): LogFollower — starts reading at byte 0 of the
 *     live log (events with seq <= options.afterSeq are skipped silently), then
 *     reads only the bytes appended since the last read.
 *   - LogFollower { lastSeq, problems(), check(), close() }, FollowProblem, FollowOptions.
 * Wake-ups: fs.watch on the `.state/` directory (the log file itself is
 * replaced by rotation, so its directory is watched) plus a cheap stat poll
 * (`pollMs`, default 250 ms) for file systems where fs.watch is silent
 * (network mounts, some containers). Each wake-up costs one fstat when nothing changed.
 * Robustness: bytes after the last newline (an append in progress, or a torn
 * tail left by a crash) are never handed over; they are reported as a `torn`
 * problem when two reads in a row see them unchanged; a complete line that is not
 * an event (malformed JSON, no integer seq) is reported as a `corrupt` problem
 * with its file:line and skipped; a seq at or below one already handed over
 * is skipped (`duplicate`). A log that shrinks or changes inode (rotation,
 * a writer's torn-tail repair) is re-read from its start with the same seq
 * filter, so nothing is handed over twice. Never throws from a wake-up: I/O
 * errors become problems and the next wake-up retries.
 * Read-only: never writes, never takes the lock.
 * Integration points: src/server (SSE feed, live views), `orc-state status --watch`.
 * Dependencies: node:fs, ../engine/paths.js, ../model.js.
 */
import { closeSync, fstatSync, openSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import type { OrcEvent } from '../model.js';
import { rel, statePaths } from '../engine/paths.js';

export interface FollowProblem {
  kind: 'corrupt' | 'torn' | 'duplicate' | 'io';
  file: string;
  /** 1-based line of the live log (0 when unknown). */
  line: number;
  message: string;
}

export interface FollowOptions {
  /** Events with seq <= afterSeq are not handed over (already known to the caller). */
  afterSeq?: number;
  onEvents(events: OrcEvent[]): void;
  /** A new problem (each corrupt line once; a torn tail once per distinct tail). */
  onProblem?(problem: FollowProblem): void;
  /** Poll interval in ms (0 disables polling; default 250). */
  pollMs?: number;
  /** Use fs.watch (default true). */
  watch?: boolean;
}

export interface LogFollower {
  /** Highest seq handed over (or afterSeq). */
  readonly lastSeq: number;
  /** Problems seen so far that still hold (a torn tail disappears once completed or repaired). */
  problems(): FollowProblem[];
  /** Read what is new now (wake-ups call it; tests and callers may too). */
  check(): void;
  close(): void;
}

const CHUNK = 1 << 20;

export function followLog(root: string, options: FollowOptions): LogFollower {
  const paths = statePaths(root);
  const file = rel(root, paths.log);
  let lastSeq = options.afterSeq ?? 0;
  let offset = 0; // bytes consumed (always just after a newline)
  let lineNo = 0; // complete lines consumed
  let ino = -1;
  let pending = Buffer.alloc(0);
  let closed = false;
  const corrupt = new Map<number, FollowProblem>();
  let torn: FollowProblem | null = null;
  let tornKey = '';
  let ioProblem: FollowProblem | null = null;

  const report = (p: FollowProblem) => {
    try {
      options.onProblem?.(p);
    } catch {
      /* a listener's failure must not stop the follower */
    }
  };

  const parse = (text: string, line: number): OrcEvent | null => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const p = { kind: 'corrupt' as const, file, line, message: `line ${line} is not valid JSON (${(error as Error).message}); run \`orc-state doctor\`` };
      if (!corrupt.has(line)) {
        corrupt.set(line, p);
        report(p);
      }
      return null;
    }
    const e = value as OrcEvent;
    if (!e || typeof e !== 'object' || Array.isArray(e) || !Number.isInteger(e.seq)) {
      const p = { kind: 'corrupt' as const, file, line, message: `line ${line} is JSON but not an event (no integer "seq"); run \`orc-state doctor\`` };
      if (!corrupt.has(line)) {
        corrupt.set(line, p);
        report(p);
      }
      return null;
    }
    return e;
  };

  const check = (): void => {
    if (closed) return;
    let fd: number;
    try {
      fd = openSync(paths.log, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        const message = `cannot read ${file} (${code ?? String(error)})`;
        if (ioProblem?.message !== message) report((ioProblem = { kind: 'io', file, line: 0, message }));
      }
      return; // no log yet: wait for the first commit
    }
    try {
      ioProblem = null;
      const st = fstatSync(fd);
      if (st.ino !== ino || st.size < offset) {
        // A new file (rotation) or a shorter one (torn-tail repair, rewrite): read it again from the start.
        ino = st.ino;
        offset = 0;
        lineNo = 0;
        pending = Buffer.alloc(0);
        corrupt.clear();
      }
      const events: OrcEvent[] = [];
      // Always from the end of the last complete line: bytes after it may have been replaced
      // (a writer sets a torn tail aside and appends in its place).
      pending = Buffer.alloc(0);
      let readAt = offset;
      while (readAt < st.size) {
        const buf = Buffer.allocUnsafe(Math.min(CHUNK, st.size - readAt));
        const n = readSync(fd, buf, 0, buf.length, readAt);
        if (n <= 0) break;
        readAt += n;
        let data = pending.length ? Buffer.concat([pending, buf.subarray(0, n)]) : buf.subarray(0, n);
        let start = 0;
        for (let nl = data.indexOf(10, start); nl >= 0; nl = data.indexOf(10, start)) {
          lineNo++;
          const text = data.toString('utf8', start, nl).trim();
          offset += nl + 1 - start;
          start = nl + 1;
          if (!text) continue;
          const e = parse(text, lineNo);
          if (!e) continue;
          if (e.seq <= lastSeq) continue; // already handed over (or before afterSeq)
          lastSeq = e.seq;
          events.push(e);
        }
        data = data.subarray(start);
        pending = Buffer.from(data);
      }
      if (pending.length) {
        // Reported once it is seen by two reads in a row: a single sighting is usually an append in progress.
        const key = `${ino}:${offset}:${pending.length}`;
        if (tornKey === key && (!torn || torn.line !== lineNo + 1)) {
          const message = `${pending.length} byte(s) after the last newline of ${basename(file)} (a torn tail: a crashed append; the next commit or \`orc-state doctor --repair\` sets it aside)`;
          report((torn = { kind: 'torn', file, line: lineNo + 1, message }));
        }
        tornKey = key;
      } else {
        torn = null;
        tornKey = '';
      }
      if (events.length) {
        try {
          options.onEvents(events);
        } catch {
          /* a listener's failure must not stop the follower */
        }
      }
    } catch (error) {
      const message = `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
      if (ioProblem?.message !== message) report((ioProblem = { kind: 'io', file, line: 0, message }));
    } finally {
      closeSync(fd);
    }
  };

  let watcher: FSWatcher | null = null;
  if (options.watch !== false) {
    try {
      statSync(paths.stateDir);
      watcher = watch(paths.stateDir, { persistent: false }, (_type, name) => {
        if (!name || name === basename(paths.log)) check();
      });
      watcher.on('error', () => {
        watcher?.close();
        watcher = null; // the poll keeps going
      });
    } catch {
      watcher = null;
    }
  }
  const pollMs = options.pollMs ?? 250;
  const timer = pollMs > 0 ? setInterval(check, pollMs) : null;
  timer?.unref();
  check();

  return {
    get lastSeq() {
      return lastSeq;
    },
    problems: () => [...corrupt.values(), ...(torn ? [torn] : []), ...(ioProblem ? [ioProblem] : [])],
    check,
    close() {
      closed = true;
      watcher?.close();
      if (timer) clearInterval(timer);
    },
  };
}
