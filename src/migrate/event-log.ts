/**
 * Event-log migration: history is never rewritten in place (AUDIT-002). The
 * live log `.state/transitions.jsonl` is migrated by writing a NEW log and
 * keeping the old one, byte for byte, in
 * `.state/archive/migrated/transitions.v<from>.<first>-<last>.<timestamp>.jsonl`
 * (a name the log readers do not treat as a rotation archive, so no event is
 * read twice). Rotated archives (`.state/archive/*.jsonl.gz`) stay as they
 * were recorded; readers upgrade their events in memory with
 * upgradeInMemory('event', …).
 *
 * Public API (stable):
 *   - migrateEventLog(root, { to, from?, dryRun?, registry?, lockTimeoutMs?, now? })
 *       → Promise<EventLogMigration>
 *     Under the .state lock: reads every complete line, upgrades each event
 *     along the chain (seq, event_id and order unchanged), validates the
 *     result against the target event schema when one exists, then writes the
 *     new log to a temp file (fsync), copies the old log into the archive
 *     (fsync), and renames the new log over the live one (dir fsync). A crash
 *     leaves either the old log or the new one live; re-running finishes.
 *     Nothing is written when no event needs a change, in a dry run, or when
 *     any line fails (bad JSON, no path, invalid result: reported with its line).
 * Today the event format has a single version, so DEFAULT_REGISTRY has no
 * event steps and the chain refuses any from≠to; the mechanism is exercised
 * by tests with a registry holding hypothetical steps.
 * Integration points: CLI `orc-state migrate --kind event`; B2's lock (src/io/lock.ts).
 * Dependencies: node:fs, node:path, ../io/lock.js, ../io/atomic-write.js,
 * ../schema/registry.js, ./chain.js, ./backup.js, ../errors.js, ../model.js.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { OrcError } from '../errors.js';
import type { Finding } from '../model.js';
import { fsyncDir, tempPathFor, writeFileSynced } from '../io/atomic-write.js';
import { withLock } from '../io/lock.js';
import { getValidator } from '../schema/registry.js';
import { backupTimestamp } from './backup.js';
import { DEFAULT_REGISTRY, schemaKindFor, type MigrationRegistry, type MigrationStep } from './chain.js';
import { LOG_FILE, stateDirOf, stateRel } from '../core/state-paths.js';

export interface EventLogMigration {
  ok: boolean;
  dry_run: boolean;
  from: string;
  to: string;
  events: number;
  migrated: number;
  /** Repo-relative path of the kept original log, or null when nothing was written. */
  archived: string | null;
  steps: string[];
  findings: Finding[];
}

const LOG = stateRel(LOG_FILE);

export async function migrateEventLog(
  root: string,
  options: { to: string; from?: string; dryRun?: boolean; registry?: MigrationRegistry; lockTimeoutMs?: number; now?: () => Date },
): Promise<EventLogMigration> {
  const registry = options.registry ?? DEFAULT_REGISTRY;
  const now = options.now ?? (() => new Date());
  if (options.from !== undefined) registry.path('event', options.from, options.to); // refuses an impossible pair up front
  const stateDir = stateDirOf(root);
  const logPath = join(root, LOG);
  if (!existsSync(logPath)) {
    throw new OrcError('NOT_FOUND', `${LOG} does not exist`, { location: { file: LOG }, fix: 'run orc-state init first, or pass --root' });
  }
  return withLock(stateDir, { ...(options.lockTimeoutMs !== undefined ? { timeoutMs: options.lockTimeoutMs } : {}), command: 'orc-state migrate --kind event' }, async () => {
    const text = readFileSync(logPath, 'utf8');
    const complete = text.lastIndexOf('\n') + 1;
    const lines = text.slice(0, complete).split('\n').slice(0, -1);
    const result: EventLogMigration = { ok: true, dry_run: Boolean(options.dryRun), from: options.from ?? 'any', to: options.to, events: 0, migrated: 0, archived: null, steps: [], findings: [] };
    if (complete < text.length) {
      // A torn tail (crash mid-append) is repaired by the engine, which keeps the bytes aside; never dropped here.
      result.ok = false;
      result.findings.push({ requirement: 'SCHEMA-VER-002', severity: 'error', file: LOG, line: lines.length + 1, column: 1, message: 'the log ends with an incomplete line (an interrupted append)', fix: 'run `orc-state doctor --repair` first, then migrate' });
      return result;
    }
    const allowed = options.from !== undefined ? new Set(registry.path('event', options.from, options.to).map((s) => s.from)) : null;
    const schemaKind = schemaKindFor('event');
    const validator = schemaKind ? getValidator(schemaKind, options.to) : undefined;
    const used = new Set<string>();
    const cache = new Map<string, MigrationStep[] | null>();
    const out: string[] = [];
    let fromSeen: string | null = null;
    let first: number | null = null;
    let last: number | null = null;
    const problem = (line: number, message: string, fix: string) => result.findings.push({ requirement: 'SCHEMA-VER-002', severity: 'error', file: LOG, line, column: 1, message, fix });
    lines.forEach((raw, i) => {
      if (raw.trim() === '') {
        out.push(raw);
        return;
      }
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        problem(i + 1, 'the line is not valid JSON', 'run orc-state doctor to inspect the log before migrating it');
        return;
      }
      result.events++;
      if (typeof event.seq === 'number') {
        first ??= event.seq;
        last = event.seq;
      }
      const version = typeof event.schema_version === 'string' ? event.schema_version : null;
      if (version === options.to) {
        out.push(raw);
        return;
      }
      if (version === null || (allowed !== null && !allowed.has(version))) {
        problem(i + 1, `event schema_version is ${version ?? 'missing'}; this run migrates ${result.from} → ${options.to}`, 'pick --from to match the log');
        return;
      }
      if (!cache.has(version)) {
        try {
          cache.set(version, registry.path('event', version, options.to));
        } catch {
          cache.set(version, null);
        }
      }
      const steps = cache.get(version);
      if (!steps) {
        problem(i + 1, `no migration path for events from ${version} to ${options.to}`, 'see orc-state migrate --list');
        return;
      }
      fromSeen ??= version;
      let value = event;
      for (const s of steps) {
        value = s.apply(value);
        used.add(s.id);
      }
      if (value.seq !== event.seq || value.event_id !== event.event_id) {
        problem(i + 1, 'a migration step changed seq or event_id: history would be rewritten', 'fix the migration step');
        return;
      }
      if (validator && !validator(value)) {
        problem(i + 1, `the migrated event is not a valid ${options.to} event: ${(validator.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('; ')}`, 'fix the migration step or the event');
        return;
      }
      out.push(JSON.stringify(value));
      result.migrated++;
    });
    result.steps = [...used].sort();
    if (result.findings.length > 0) {
      result.ok = false;
      return result;
    }
    if (result.migrated === 0 || options.dryRun) return result;

    const archiveDir = join(stateDir, 'archive', 'migrated');
    mkdirSync(archiveDir, { recursive: true });
    const archiveName = `transitions.v${fromSeen}.${first ?? 0}-${last ?? 0}.${backupTimestamp(now())}.jsonl`;
    const archivePath = join(archiveDir, archiveName);
    // 1. The new log, durable under a temp name.
    const tmp = tempPathFor(logPath);
    const data = Buffer.from(`${out.join('\n')}\n`, 'utf8');
    let renamed = false;
    try {
      await writeFileSynced(tmp, data, 'wx');
      // 2. The original log kept as recorded, byte for byte.
      copyFileSync(logPath, archivePath);
      const archived = await open(archivePath, 'r');
      try {
        await archived.sync();
      } finally {
        await archived.close();
      }
      await fsyncDir(archiveDir);
      // 3. Switch: the new log becomes live.
      await rename(tmp, logPath);
      renamed = true;
      await fsyncDir(stateDir);
    } finally {
      if (!renamed) await unlink(tmp).catch(() => undefined);
    }
    result.archived = `.state/archive/migrated/${archiveName}`;
    return result;
  });
}
