/**
 * Log rotation and retention (AUDIT-002, Decision 9).
 *
 * Public API:
 *   - rotateLog(root, options?): Promise<RotateResult>     (stable) `orc-state log rotate`
 *   - pruneArchives(root, { olderThanDays }): Promise<PruneResult> (stable) `orc-state log prune`
 *   - MIN_RETENTION_DAYS = 90                              (stable)
 * Rotation, under the lock: the live log (complete lines only, after the
 * usual torn-tail / Decision 4 reconciliation) is gzipped durably to
 * `.state/archive/transitions.<first>-<last>.jsonl.gz`; then a `log_rotated`
 * system event (seq continues) is committed like any other: snapshot first,
 * then the new live log, which starts with that event, atomically replaces
 * the old one. A crash before the replacement leaves the archive and the old
 * live log overlapping: readers skip repeated seqs, doctor reports it, and
 * rotating again finishes the job (events an archive already holds are never
 * archived twice: the next archive starts after the newest archived seq).
 * Prune removes only the oldest archives whose every event is older than
 * `olderThanDays` (never below 90), and first writes
 * `archive/checkpoint.<seq>.json` (the state at the boundary) so replay and
 * queries still start from a known state.
 * Integration points: CLI `log rotate|prune`, AUDIT-002 rule.
 * Dependencies: node:zlib, node:fs, ../io/*, ./commit.js, ./log.js, ./replay.js.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { OrcError } from '../errors.js';
import type { OrcEvent } from '../model.js';
import { fsyncDir, writeFileDurable } from '../io/atomic-write.js';
import { inspectTail, readLineBatches } from '../io/jsonl-log.js';
import { applyEvent, toSnapshot } from '../machines/index.js';
import { defaultActor, internalStore, type CommitOptions } from './commit.js';
import { listLogSources } from './log.js';
import { loadTasks } from '../repo/load-tasks.js';
import { archiveName, CHECKPOINT_PATTERN, MIN_RETENTION_DAYS, rel, statePaths } from './paths.js';
import { replay } from './replay.js';
import { EVENT_VERSION, serializeSnapshot } from './snapshot.js';

export { MIN_RETENTION_DAYS };

export interface RotateResult {
  rotated: boolean;
  archive: string | null;
  first_seq: number | null;
  last_seq: number | null;
  events: number;
  rotation_event: OrcEvent | null;
  reason?: string;
}

async function firstAndCount(path: string, gzip: boolean, afterSeq = 0): Promise<{ first: number | null; last: number | null; count: number; lastTimestamp: string | null }> {
  let first: number | null = null;
  let last: number | null = null;
  let lastTimestamp: string | null = null;
  let count = 0;
  for await (const batch of readLineBatches(path, { gzip })) {
    for (const [i, line] of batch.lines.entries()) {
      if (!line.trim()) continue;
      let ev: OrcEvent;
      try {
        ev = JSON.parse(line) as OrcEvent;
      } catch {
        throw Object.assign(new Error(`line ${batch.firstLine + i} is not JSON`), { line: batch.firstLine + i });
      }
      if (ev.seq <= afterSeq) continue;
      if (first === null) first = ev.seq;
      last = ev.seq;
      lastTimestamp = ev.timestamp;
      count++;
    }
  }
  return { first, last, count, lastTimestamp };
}

/** gzip the complete lines of the live log with seq > afterSeq into `archiveAbs`, durably (temp, fsync, rename, dir fsync). */
async function sealArchive(logPath: string, archiveAbs: string, afterSeq: number): Promise<void> {
  const tmp = `${archiveAbs}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  async function* lines(): AsyncGenerator<string> {
    for await (const batch of readLineBatches(logPath)) {
      const keep = afterSeq === 0 ? batch.lines.filter((l) => l.trim()) : batch.lines.filter((l) => l.trim() && (JSON.parse(l) as OrcEvent).seq > afterSeq);
      if (keep.length) yield keep.join('\n') + '\n';
    }
  }
  try {
    await pipeline(Readable.from(lines()), createGzip({ level: 6 }), createWriteStream(tmp));
    const h = await open(tmp, 'r+');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, archiveAbs);
    await fsyncDir(dirname(archiveAbs));
  } catch (error) {
    try {
      unlinkSync(tmp);
    } catch {
      /* not created */
    }
    throw error;
  }
}

export async function rotateLog(root: string, options: CommitOptions = {}): Promise<RotateResult> {
  const store = internalStore(root, { cacheDefinitions: false });
  const paths = statePaths(root);
  return store.locked(async (state) => {
    const tail = inspectTail(paths.log);
    if (!tail.exists || tail.completeBytes === 0) {
      return { rotated: false, archive: null, first_seq: null, last_seq: null, events: 0, rotation_event: null, reason: 'the live log is empty' };
    }
    // Events already sealed by an earlier, interrupted rotation are not archived twice.
    const archives = listLogSources(root).filter((x) => x.gzip);
    const lastArchived = archives[archives.length - 1]?.lastSeq ?? 0;
    let info: Awaited<ReturnType<typeof firstAndCount>>;
    try {
      info = await firstAndCount(paths.log, false, lastArchived);
    } catch (error) {
      const line = (error as { line?: number }).line;
      throw new OrcError('STATE_CORRUPT', `${rel(root, paths.log)} has a line that is not JSON${line ? ` (line ${line})` : ''}; refusing to seal it into an archive`, {
        location: line ? { file: rel(root, paths.log), line, column: 1 } : { file: rel(root, paths.log) },
        fix: 'run `orc-state doctor` for the details, then restore that line from a backup or remove it by hand (the log is the source of truth: never guess an event)',
      });
    }
    let archiveAbs: string | null = null;
    if (info.first !== null && info.last !== null) {
      mkdirSync(paths.archiveDir, { recursive: true });
      archiveAbs = join(paths.archiveDir, archiveName(info.first, info.last));
      await sealArchive(paths.log, archiveAbs, lastArchived);
    } else if (lastArchived === 0) {
      return { rotated: false, archive: null, first_seq: null, last_seq: null, events: 0, rotation_event: null, reason: 'the live log has no events' };
    }
    const event: OrcEvent = {
      schema_version: EVENT_VERSION,
      seq: state.last_seq + 1,
      event_id: randomUUID(),
      timestamp: new Date().toISOString(),
      event: 'log_rotated',
      trigger: 'log_rotated',
      entity_type: 'system',
      entity_id: 'transitions.jsonl',
      workstream_id: null,
      from_state: null,
      to_state: null,
      severity: 'info',
      caused_by: null,
      actor: options.actor ?? defaultActor(),
      metadata: { archive: archiveAbs ? rel(root, archiveAbs) : null, first_seq: info.first, last_seq: info.last, events: info.count },
    };
    applyEvent(state, event);
    const snapshot = toSnapshot(state, [event]);
    await writeFileDurable(paths.current, serializeSnapshot(snapshot));
    await writeFileDurable(paths.log, JSON.stringify(event) + '\n');
    await store.deriveSafely(loadTasks(root), snapshot, [event], options, []);
    return { rotated: true, archive: archiveAbs ? rel(root, archiveAbs) : null, first_seq: info.first, last_seq: info.last, events: info.count, rotation_event: event };
  }, options);
}

export interface PruneResult {
  removed: string[];
  checkpoint: string | null;
  kept: number;
}

export async function pruneArchives(root: string, opts: { olderThanDays: number; lockTimeoutMs?: number; now?: Date }): Promise<PruneResult> {
  if (!Number.isFinite(opts.olderThanDays) || opts.olderThanDays < MIN_RETENTION_DAYS) {
    throw new OrcError('USAGE', `refusing to delete archives younger than ${MIN_RETENTION_DAYS} days (asked: ${opts.olderThanDays})`, {
      fix: `events are kept at least ${MIN_RETENTION_DAYS} days (AUDIT-002); use --older-than-days ${MIN_RETENTION_DAYS} or more`,
    });
  }
  const cutoff = (opts.now ?? new Date()).getTime() - opts.olderThanDays * 86_400_000;
  const store = internalStore(root, { cacheDefinitions: false });
  const paths = statePaths(root);
  return store.locked(async () => {
    const archives = listLogSources(root).filter((s) => s.gzip);
    const victims: typeof archives = [];
    for (const a of archives) {
      const info = await firstAndCount(a.abs, true);
      if (info.lastTimestamp === null || Date.parse(info.lastTimestamp) >= cutoff) break;
      victims.push(a);
    }
    if (!victims.length) return { removed: [], checkpoint: null, kept: archives.length };
    const boundary = victims[victims.length - 1]?.lastSeq as number;
    const state = await replay(root, { seq: boundary });
    const checkpointAbs = join(paths.archiveDir, `checkpoint.${boundary}.json`);
    await writeFileDurable(checkpointAbs, serializeSnapshot(toSnapshot(state, [])));
    const removed: string[] = [];
    for (const v of victims) {
      unlinkSync(v.abs);
      removed.push(v.file);
    }
    if (existsSync(paths.archiveDir)) {
      for (const name of readdirSync(paths.archiveDir)) {
        const m = CHECKPOINT_PATTERN.exec(name);
        if (m && Number(m[1]) < boundary) unlinkSync(join(paths.archiveDir, name));
      }
    }
    await fsyncDir(paths.archiveDir);
    return { removed, checkpoint: rel(root, checkpointAbs), kept: archives.length - victims.length };
  }, { ...(opts.lockTimeoutMs !== undefined ? { lockTimeoutMs: opts.lockTimeoutMs } : {}) });
}
