/**
 * Benchmark: `orc-state migrate` 1.0.0 → 2.0.0 on N generated task files
 * (default 10,000), next to floors measured in the same run on the same files.
 *
 * Usage: npm run bench:migrate [-- N]     (e.g. `npm run bench:migrate -- 1000` for a quick run)
 * Prints, each on fresh copies of the same generated repo:
 *   floor, plain     read + JSON.parse + JSON.stringify + writeFile (no fsync)
 *   floor, durable   read + JSON.parse + JSON.stringify + atomic durable replace
 *                    (tmp + fsync + rename + dir fsync: what a crash-safe migration must pay)
 *   migrate dry-run  read + validate + text-preserving rewrite + diff, no writes
 *   migrate          the real run: validate, rewrite, backup copies, journal, durable replace
 *   rollback         restore every file from the backup
 * Public API (internal): none (script).
 * Integration points: npm script bench:migrate; the crash test shares the generator.
 * Dependencies: node:child_process (sync), node:fs, node:os, node:path, ../src/migrate/run.js, ../src/migrate/backup.js, ./migrate-input.js.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFilesDurably } from '../src/migrate/backup.js';
import { listTaskLikeFiles, migrateFiles, rollbackMigration } from '../src/migrate/run.js';
import { fileCountArg, fileTimer, generateV1Tasks } from './migrate-input.js';

const count = fileCountArg('migrate');

const work = mkdtempSync(join(tmpdir(), 'orc-bench-migrate-'));
const template = join(work, 'template');
generateV1Tasks(join(template, 'tasks'), count);
const bytes = listTaskLikeFiles(join(template, 'tasks')).reduce((n, f) => n + readFileSync(f).length, 0);

// Every copy is made up front and flushed to disk, so no phase pays for another's writeback.
const copies = new Map<string, string>();
for (const name of ['plain', 'durable', 'dry', 'run', 'nobackup']) {
  const dir = join(work, name);
  cpSync(template, dir, { recursive: true });
  copies.set(name, dir);
}
execFileSync('sync');
const copy = (name: string): string => copies.get(name) as string;

const time = fileTimer(count);

console.log(`bench:migrate  ${count} task files (${(bytes / 1e6).toFixed(1)} MB), task 1.0.0 → 2.0.0, node ${process.version}`);
try {
  const plainDir = copy('plain');
  await time('floor, plain', () => {
    for (const f of listTaskLikeFiles(join(plainDir, 'tasks'))) {
      const value = JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
      writeFileSync(f, `${JSON.stringify({ ...value, schema_version: '2.0.0' }, null, 2)}\n`);
    }
  });

  const durableDir = copy('durable');
  await time('floor, durable', async () => {
    const files = listTaskLikeFiles(join(durableDir, 'tasks')).map((f) => {
      const value = JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
      return { path: f, data: Buffer.from(`${JSON.stringify({ ...value, schema_version: '2.0.0' }, null, 2)}\n`) };
    });
    await writeFilesDurably(files);
  });

  const dryDir = copy('dry');
  await time('migrate dry-run', async () => {
    const r = await migrateFiles({ root: dryDir, from: '1.0.0', to: '2.0.0', dryRun: true });
    if (!r.ok || r.files.length !== count) throw new Error(`dry run failed: ${JSON.stringify(r.findings.slice(0, 3))}`);
  });

  const runDir = copy('run');
  const migrateMs = await time('migrate', async () => {
    const r = await migrateFiles({ root: runDir, from: '1.0.0', to: '2.0.0' });
    if (!r.ok || r.counts.migrated !== count) throw new Error(`migration failed: ${JSON.stringify(r.findings.slice(0, 3))}`);
  });
  const noBackupDir = copy('nobackup');
  await time('migrate --no-backup', async () => {
    const r = await migrateFiles({ root: noBackupDir, from: '1.0.0', to: '2.0.0', backup: false });
    if (!r.ok || r.counts.migrated !== count) throw new Error('migration failed');
  });
  await time('rollback', async () => {
    const r = await rollbackMigration({ root: runDir, backupCurrent: false });
    if (!r.ok) throw new Error('rollback failed');
  });
  console.log(`result: migrate ${((count / migrateMs) * 1000).toFixed(0)} files/s with backups and durable writes`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
