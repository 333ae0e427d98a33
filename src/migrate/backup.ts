/**
 * Backups and the migration journal: `<dir>/.backups/<timestamp>/` mirrors the
 * relative paths of every file a migration (or rollback) replaces, next to a
 * `manifest.json` that is also the run's journal.
 *
 * Public API:
 *   - BackupManifest, BackupEntry, MANIFEST_NAME, BACKUPS_DIR            (stable)
 *   - sha256(bytes) → hex                                                 (stable)
 *   - backupTimestamp(date) → "2026-11-21T21-40-00-123Z"                 (stable)
 *   - createBackupDir(dirAbs, date) → { name, abs }                       (internal)
 *   - listBackups(dirAbs) → Array<{ name, abs, manifest | null }>, newest last (stable)
 *   - readManifest(backupAbs) / writeManifest(backupAbs, manifest)        (internal)
 *   - writeFilesDurably(files, { concurrency }) : writes every file as tmp →
 *     fsync → rename, then fsyncs each distinct directory once            (internal)
 * Journal protocol (crash safety): the manifest is written durably with
 * status "backing_up" before any copy, "replacing" once every backup copy is
 * durable, and "complete" after every replaced file and its directory are
 * fsynced. A run that finds a manifest that is not complete for the same
 * kind/from/to resumes into it, so the backup keeps every original.
 * Integration points: ./run.ts (migrate and rollback), the rule and docs
 * that describe the backup layout (docs/schema_migrations/).
 * Manifests follow schemas/migration-manifest.v1.0.0.schema.json; one that does not is ignored.
 * Dependencies: node:fs, node:path, node:crypto, ../io/atomic-write.js, ../schema/registry.js.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsyncDir, writeFileDurable, writeFileSynced } from '../io/atomic-write.js';
import { validate } from '../schema/registry.js';
import { MANIFEST_VERSION } from '../core/versions.js';

export const BACKUPS_DIR = '.backups';
export const MANIFEST_NAME = 'manifest.json';
export const MANIFEST_SCHEMA_VERSION = MANIFEST_VERSION;
export const MANIFEST_SCHEMA_URL = 'https://orc-state.dev/schemas/migration-manifest/1.0.0.json';

export interface BackupEntry {
  /** Path relative to the migrated directory, '/' separated (also its path inside the backup). */
  path: string;
  sha256_before: string;
  sha256_after: string;
  from_version: string;
  to_version: string;
}

export interface BackupManifest {
  schema_version: string;
  schema_url: string;
  operation: 'migrate' | 'rollback';
  kind: string;
  from: string;
  to: string;
  /** The migrated directory, repo-relative. */
  dir: string;
  created_at: string;
  status: 'backing_up' | 'replacing' | 'complete';
  completed_at: string | null;
  /** For a rollback: the backup it restored. */
  restores?: string | null;
  rolled_back_at?: string | null;
  files: BackupEntry[];
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function backupTimestamp(date: Date): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

export function createBackupDir(dirAbs: string, date: Date): { name: string; abs: string } {
  const base = join(dirAbs, BACKUPS_DIR);
  mkdirSync(base, { recursive: true });
  const stamp = backupTimestamp(date);
  for (let n = 0; ; n++) {
    const name = n === 0 ? stamp : `${stamp}-${n}`;
    const abs = join(base, name);
    try {
      mkdirSync(abs);
      return { name, abs };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** The manifest of a backup, or null when it is missing, unreadable or does not follow schemas/migration-manifest. */
export function readManifest(backupAbs: string): BackupManifest | null {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(join(backupAbs, MANIFEST_NAME), 'utf8'));
  } catch {
    return null;
  }
  return validate('migration-manifest', MANIFEST_SCHEMA_VERSION, value).valid ? (value as BackupManifest) : null;
}

export async function writeManifest(backupAbs: string, manifest: BackupManifest): Promise<void> {
  await writeFileDurable(join(backupAbs, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Backups of a directory, oldest first (timestamps sort as text). */
export function listBackups(dirAbs: string): Array<{ name: string; abs: string; manifest: BackupManifest | null }> {
  const base = join(dirAbs, BACKUPS_DIR);
  if (!existsSync(base)) return [];
  return readdirSync(base, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => ({ name, abs: join(base, name), manifest: readManifest(join(base, name)) }));
}

/** Temp names used below: `<name>.<pid>.<hex>.orc-migrate.tmp`. */
export function isMigrateTempName(name: string): boolean {
  return /\.\d+\.[0-9a-f]{8}\.orc-migrate\.tmp$/.test(name);
}

async function writeOne(path: string, data: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.orc-migrate.tmp`);
  let renamed = false;
  try {
    await writeFileSynced(tmp, data, 'wx');
    await rename(tmp, path);
    renamed = true;
  } finally {
    if (!renamed) await unlink(tmp).catch(() => undefined);
  }
}

/**
 * Replace many files atomically and durably: each file is old or new after a
 * crash; when the promise resolves all are new and their directories fsynced.
 */
export async function writeFilesDurably(
  files: ReadonlyArray<{ path: string; data: Uint8Array }>,
  options: { concurrency?: number; onWritten?: (path: string) => void } = {},
): Promise<void> {
  const concurrency = Math.max(1, options.concurrency ?? 16);
  const dirs = new Set<string>();
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++] as { path: string; data: Uint8Array };
      mkdirSync(dirname(file.path), { recursive: true });
      await writeOne(file.path, file.data);
      dirs.add(dirname(file.path));
      options.onWritten?.(file.path);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  for (const dir of [...dirs].sort()) await fsyncDir(dir);
}
