/**
 * Reading the event log as one sequence: sealed archives first
 * (`.state/archive/transitions.<first>-<last>.jsonl.gz`, gunzipped as a
 * stream), then the live `.state/transitions.jsonl`. Memory stays flat in log
 * size: events are parsed chunk by chunk.
 *
 * Public API:
 *   - listLogSources(root): LogSource[]                    (stable)
 *   - eventBatches(root, opts): AsyncGenerator<EventBatch> (stable) the fast path used by replay
 *   - readEvents(root, opts): AsyncGenerator<OrcEvent>     (stable) one event at a time
 *   - readLocatedEvents(root): Promise<LocatedEvents>      (stable) everything in memory, with file:line (rules, why, doctor)
 *   - lastLoggedSeq(root): { seq: number; corrupt: LogProblem | null } (stable) from the tail, O(1) in log size
 *   - LogProblem, LogSource, EventBatch (stable)
 * Problems (never thrown in `collect` mode): `corrupt` (a complete line that is
 * not a JSON object with an integer seq: reported with file and line, never
 * deleted), `torn` (bytes after the last newline of the live log), `gap`,
 * `duplicate` (a seq at or below one already read; skipped, e.g. an archive
 * and a live log that overlap after an interrupted rotation).
 * Integration points: replay, why, doctor, rotation, STATE-OBS/AUDIT rules.
 * Dependencies: node:fs, ../io/jsonl-log.js, ./paths.js, ../errors.js.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OrcError } from '../errors.js';
import type { OrcEvent } from '../model.js';
import { inspectTail, readLineBatches } from '../io/jsonl-log.js';
import { ARCHIVE_PATTERN, CHECKPOINT_PATTERN, rel, statePaths } from './paths.js';

/** Events handed over per batch (see eventBatches). */
const YIELD_EVERY = 512;
/**
 * Bytes read per chunk of a log file. Every line of a chunk stays alive until the chunk's events are handed
 * over, so each scavenge during it copies them: 64 KiB chunks (about 150 lines) instead of the 1 MiB default
 * (about 2,400) took main-thread GC of a 100,001-event pass from ~175-225 ms to ~105-150 ms here.
 */
const CHUNK_BYTES = 64 * 1024;

export interface LogSource {
  /** Repo-relative, '/'. */
  file: string;
  abs: string;
  gzip: boolean;
  /** From the archive name; undefined for the live log. */
  firstSeq?: number;
  lastSeq?: number;
}

export interface LogProblem {
  kind: 'corrupt' | 'torn' | 'gap' | 'duplicate';
  file: string;
  line: number;
  message: string;
  seq?: number;
}

export interface EventBatch {
  events: OrcEvent[];
  file: string;
  /** Line number of each event (same index), only when `withLines` was asked for. */
  lines?: number[];
}

export interface ReadOptions {
  /** 'throw' (default): a corrupt line raises OrcError('STATE_CORRUPT'); 'collect': reported via onProblem and skipped. */
  mode?: 'throw' | 'collect';
  onProblem?: (problem: LogProblem) => void;
  withLines?: boolean;
  /**
   * Events with seq <= baseSeq are skipped silently and seq continuity is
   * checked from there (replay on top of a snapshot or a prune checkpoint).
   * Default: the prune checkpoint's seq when older archives were pruned, else 0.
   */
  baseSeq?: number;
  /** Read plain log files with synchronous calls (a one-shot reader that would only sit idle awaiting each chunk). */
  syncReads?: boolean;
}

/**
 * When `log prune` removed the oldest archives it left `checkpoint.<seq>.json`
 * with the state at the boundary: the log then legitimately starts at seq+1.
 */
export function prunedBaseSeq(root: string): number {
  const paths = statePaths(root);
  if (!existsSync(paths.archiveDir)) return 0;
  let checkpoint = 0;
  for (const name of readdirSync(paths.archiveDir)) {
    const m = CHECKPOINT_PATTERN.exec(name);
    if (m) checkpoint = Math.max(checkpoint, Number(m[1]));
  }
  if (checkpoint === 0) return 0;
  const firstArchive = listLogSources(root).find((s) => s.gzip);
  // Archives that still start at or before the checkpoint hold the full history.
  return firstArchive?.firstSeq !== undefined && firstArchive.firstSeq <= checkpoint ? 0 : checkpoint;
}

export function listLogSources(root: string): LogSource[] {
  const paths = statePaths(root);
  const sources: LogSource[] = [];
  if (existsSync(paths.archiveDir)) {
    for (const name of readdirSync(paths.archiveDir)) {
      const m = ARCHIVE_PATTERN.exec(name);
      if (!m) continue;
      const abs = join(paths.archiveDir, name);
      sources.push({ file: rel(root, abs), abs, gzip: true, firstSeq: Number(m[1]), lastSeq: Number(m[2]) });
    }
    sources.sort((a, b) => (a.firstSeq ?? 0) - (b.firstSeq ?? 0));
  }
  if (existsSync(paths.log)) sources.push({ file: rel(root, paths.log), abs: paths.log, gzip: false });
  return sources;
}

function parseLine(line: string): OrcEvent | null {
  try {
    const v = JSON.parse(line) as OrcEvent;
    if (v && typeof v === 'object' && !Array.isArray(v) && Number.isInteger(v.seq)) return v;
  } catch {
    /* corrupt */
  }
  return null;
}

export async function* eventBatches(root: string, opts: ReadOptions = {}): AsyncGenerator<EventBatch> {
  const mode = opts.mode ?? 'throw';
  const baseSeq = opts.baseSeq ?? prunedBaseSeq(root);
  let lastSeq = baseSeq;
  const problem = (p: LogProblem) => {
    if (mode === 'throw' && p.kind === 'corrupt') {
      throw new OrcError('STATE_CORRUPT', `${p.message}`, {
        location: { file: p.file, line: p.line, column: 1 },
        fix: 'run `orc-state doctor` to see every problem; a corrupt line in the middle of the log is never deleted automatically: restore it from a backup or remove it by hand after reading it',
      });
    }
    opts.onProblem?.(p);
  };
  for (const source of listLogSources(root)) {
    if (source.lastSeq !== undefined && source.lastSeq <= baseSeq) continue;
    const torn = (text: string, line: number) => {
      if (text.trim() === '') return;
      problem({
        kind: source.gzip ? 'corrupt' : 'torn',
        file: source.file,
        line,
        message: `${source.file}:${line}: ${text.length} byte(s) after the last newline (an append that did not complete)`,
      });
    };
    let lastLine = 0;
    try {
      for await (const batch of readLineBatches(source.abs, { gzip: source.gzip, onTorn: torn, chunkBytes: CHUNK_BYTES, sync: opts.syncReads === true })) {
        lastLine = batch.firstLine + batch.lines.length - 1;
        let events: OrcEvent[] = [];
        let lines: number[] | undefined = opts.withLines ? [] : undefined;
        for (let i = 0; i < batch.lines.length; i++) {
          // Hand over small batches: parsed events die young, which keeps GC cheap and memory flat.
          if (events.length >= YIELD_EVERY) {
            yield lines ? { events, file: source.file, lines } : { events, file: source.file };
            events = [];
            lines = opts.withLines ? [] : undefined;
          }
          const text = batch.lines[i] as string;
          const lineNo = batch.firstLine + i;
          if (text === '' || text === '\r') continue;
          const ev = parseLine(text);
          if (!ev) {
            problem({ kind: 'corrupt', file: source.file, line: lineNo, message: `${source.file}:${lineNo}: line is not a JSON event with an integer seq` });
            continue;
          }
          if (ev.seq <= baseSeq) continue;
          if (ev.seq <= lastSeq) {
            problem({ kind: 'duplicate', file: source.file, line: lineNo, seq: ev.seq, message: `${source.file}:${lineNo}: seq ${ev.seq} is not above the previous seq ${lastSeq}; skipped` });
            continue;
          }
          if (ev.seq !== lastSeq + 1) {
            problem({ kind: 'gap', file: source.file, line: lineNo, seq: ev.seq, message: `${source.file}:${lineNo}: seq jumps from ${lastSeq} to ${ev.seq} (missing ${lastSeq + 1}..${ev.seq - 1})` });
          }
          lastSeq = ev.seq;
          events.push(ev);
          lines?.push(lineNo);
        }
        if (events.length) yield lines ? { events, file: source.file, lines } : { events, file: source.file };
      }
    } catch (error) {
      if (error instanceof OrcError || !source.gzip) throw error;
      // A damaged archive: report it where reading stopped, keep going with the next source.
      problem({ kind: 'corrupt', file: source.file, line: lastLine + 1, message: `${source.file}: cannot be decompressed after line ${lastLine} (${(error as Error).message})` });
    }
  }
}

/** Every event, archives first, one at a time (streaming). */
export async function* readEvents(root: string, opts: ReadOptions = {}): AsyncGenerator<OrcEvent> {
  for await (const batch of eventBatches(root, opts)) yield* batch.events;
}

export interface LocatedEvent {
  event: OrcEvent;
  file: string;
  line: number;
}

export interface LocatedEvents {
  events: LocatedEvent[];
  problems: LogProblem[];
  sources: LogSource[];
}

/** Whole log in memory with locations, problems collected (for rules, why and doctor). */
export async function readLocatedEvents(root: string): Promise<LocatedEvents> {
  const events: LocatedEvent[] = [];
  const problems: LogProblem[] = [];
  for await (const batch of eventBatches(root, { mode: 'collect', withLines: true, onProblem: (p) => problems.push(p) })) {
    for (let i = 0; i < batch.events.length; i++) {
      events.push({ event: batch.events[i] as OrcEvent, file: batch.file, line: (batch.lines as number[])[i] as number });
    }
  }
  return { events, problems, sources: listLogSources(root) };
}

/**
 * The seq of the last complete line of the live log (or of the newest archive
 * when the live log is empty or missing). `corrupt` is set when that last
 * complete line does not parse.
 */
export function lastLoggedSeq(root: string): { seq: number; corrupt: LogProblem | null } {
  const paths = statePaths(root);
  const tail = inspectTail(paths.log);
  if (tail.lastLine !== null && tail.lastLine.trim() !== '') {
    const ev = parseLine(tail.lastLine);
    if (ev) return { seq: ev.seq, corrupt: null };
    // Error path only: count the lines so the message can name the line.
    let line = 0;
    try {
      const bytes = readFileSync(paths.log).subarray(0, tail.completeBytes);
      for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) line++;
    } catch {
      line = 0;
    }
    const at = line > 0 ? `:${line}` : '';
    return {
      seq: 0,
      corrupt: { kind: 'corrupt', file: rel(root, paths.log), line, message: `${rel(root, paths.log)}${at}: the last complete line is not a JSON event with an integer seq` },
    };
  }
  const archives = listLogSources(root).filter((s) => s.gzip);
  const last = archives[archives.length - 1];
  return { seq: last?.lastSeq ?? 0, corrupt: null };
}
