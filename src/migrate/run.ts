/**
 * `orc-state migrate` as a library: migrate every file of a kind in a
 * directory between schema versions with minimal text diffs, backups, a
 * resumable journal and an exact rollback.
 *
 * Public API:
 *   - migrateFiles(options: MigrateOptions): Promise<MigrateResult>      (stable)
 *       all or nothing: every input is read and validated first (located
 *       findings, nothing written when one fails); files already at the target
 *       are left byte-identical; `dryRun` returns unified diffs and writes
 *       nothing; a lossy step (e.g. 2.0.0→1.0.0) states the fields lost and
 *       throws OrcError('USAGE') unless `yes`.
 *   - rollbackMigration(options: RollbackOptions): Promise<RollbackResult> (stable)
 *       restores the files of a backup byte-for-byte (newest backup unless
 *       `backup` names one); a file edited since the migration is reported and
 *       left alone unless `yes`; the current files are backed up first.
 *   - listTaskLikeFiles(dirAbs) → absolute paths of *.json under dir, `.backups/` skipped (internal)
 * Crash safety: see ./backup.ts for the journal; a killed run re-run with the
 * same arguments finishes the job and its result is byte-identical to a clean run.
 * Integration points: src/cli/commands/migrate.ts, bench/migrate.ts, tests.
 * Dependencies: node:fs, node:path, ./chain.js, ./json-edit.js, ./diff.js,
 * ./backup.js, ../io/located-json.js (A), ../schema/registry.js, ../repo/task-forms.js
 * (task files are checked as the loader checks them: unknown fields and another or no
 * schema_url are warnings and are kept), ../errors.js, ../model.js.
 */
import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { ErrorObject } from 'ajv';
import { OrcError } from '../errors.js';
import type { Finding } from '../model.js';
import { parseJsonText } from '../io/located-json.js';
import { getValidator } from '../schema/registry.js';
import { checkTaskForm } from '../repo/task-forms.js';
import { DEFAULT_REGISTRY, schemaKindFor, type FileKind, type MigrationRegistry, type MigrationStep } from './chain.js';
import { diffValues, reconcileJson } from './json-edit.js';
import { unifiedDiff } from './diff.js';
import {
  BACKUPS_DIR,
  MANIFEST_NAME,
  MANIFEST_SCHEMA_URL,
  MANIFEST_SCHEMA_VERSION,
  createBackupDir,
  isMigrateTempName,
  listBackups,
  sha256,
  writeFilesDurably,
  writeManifest,
  type BackupEntry,
  type BackupManifest,
} from './backup.js';

const REQ = 'SCHEMA-VER-002';

export interface MigrateOptions {
  root: string;
  /** Directory holding the files, relative to root (default "tasks"). */
  dir?: string;
  kind?: FileKind;
  /** Source version; omitted: every file whose version has a chain to `to` ("any"). */
  from?: string;
  to: string;
  dryRun?: boolean;
  /** Default true: copy originals to <dir>/.backups/<timestamp>/ first. */
  backup?: boolean;
  /** Confirms a lossy migration. */
  yes?: boolean;
  registry?: MigrationRegistry;
  now?: () => Date;
  concurrency?: number;
  /** Called after each file is replaced (progress; tests use it to kill mid-run). */
  onFileWritten?: (file: string) => void;
}

export interface FileOutcome {
  /** Repo-relative, '/'. */
  file: string;
  from_version: string;
  action: 'migrated' | 'would-migrate' | 'unchanged' | 'already-done';
  /** Unified diff (dry run only). */
  diff?: string;
  /** Fields dropped from this file by a lossy step. */
  lost?: string[];
}

export interface MigrateResult {
  ok: boolean;
  dry_run: boolean;
  kind: FileKind;
  from: string;
  to: string;
  steps: string[];
  dir: string;
  files: FileOutcome[];
  findings: Finding[];
  /** Backup directory, repo-relative, or null (no backup / nothing to do / dry run). */
  backup: string | null;
  /** True when an interrupted run's journal was found and completed. */
  resumed: boolean;
  /** What a lossy step drops, per field: how many files lose it. */
  data_loss: Array<{ field: string; files: number }>;
  counts: { migrated: number; unchanged: number; total: number };
}

interface Planned {
  abs: string;
  rel: string; // repo-relative
  relDir: string; // relative to the migrated dir
  raw: Buffer;
  fromVersion: string;
  newText: string | null; // null when unchanged
  lost: string[];
}

function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

/** Every *.json file under dirAbs (sorted), skipping .backups/ and other dot-directories. */
export function listTaskLikeFiles(dirAbs: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.isDirectory()) {
        if (entry.name === BACKUPS_DIR || entry.name.startsWith('.')) continue;
        walk(join(d, entry.name));
      } else if (entry.isFile() && entry.name.endsWith('.json')) out.push(join(d, entry.name));
    }
  };
  walk(dirAbs);
  return out;
}

function removeStaleTemps(dirAbs: string): number {
  let removed = 0;
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (entry.name !== BACKUPS_DIR && !entry.name.startsWith('.')) walk(join(d, entry.name));
      } else if (isMigrateTempName(entry.name)) {
        unlinkSync(join(d, entry.name));
        removed++;
      }
    }
  };
  walk(dirAbs);
  return removed;
}

function pathOf(instancePath: string): Array<string | number> {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function schemaFinding(file: string, locate: (p: Array<string | number>, o?: { key?: boolean }) => { line: number; column: number }, err: ErrorObject, version: string): Finding {
  const path = pathOf(err.instancePath);
  let at = locate(path);
  let what = err.instancePath === '' ? 'the file' : err.instancePath;
  let fix = `make the file valid for schema_version ${version} (see schemas/)`;
  if (err.keyword === 'additionalProperties') {
    const extra = (err.params as { additionalProperty: string }).additionalProperty;
    at = locate([...path, extra], { key: true });
    what = `${err.instancePath}/${extra}`;
    fix = `remove or rename "${extra}"`;
  } else if (err.keyword === 'required') {
    fix = `add "${(err.params as { missingProperty: string }).missingProperty}"`;
  } else if (err.keyword === 'enum' || err.keyword === 'const') {
    fix = `use one of the allowed values: ${JSON.stringify((err.params as { allowedValues?: unknown[]; allowedValue?: unknown }).allowedValues ?? (err.params as { allowedValue?: unknown }).allowedValue)}`;
  }
  return {
    requirement: REQ,
    severity: 'error',
    file,
    line: at.line,
    column: at.column,
    message: `not a valid ${version} file: ${what} ${err.message ?? 'is invalid'}`,
    fix,
  };
}

function rootFinding(file: string, message: string, fix: string): Finding {
  return { requirement: REQ, severity: 'error', file, line: 1, column: 1, message, fix };
}

export async function migrateFiles(options: MigrateOptions): Promise<MigrateResult> {
  const registry = options.registry ?? DEFAULT_REGISTRY;
  const kind = options.kind ?? 'task';
  const root = resolve(options.root);
  const dirRel = options.dir ?? 'tasks';
  const dirAbs = resolve(root, dirRel);
  const dirRepoRel = toPosix(relative(root, dirAbs)) || '.';
  const now = options.now ?? (() => new Date());
  const fromLabel = options.from ?? 'any';
  const chain = options.from !== undefined ? registry.path(kind, options.from, options.to) : [];
  const pathCache = new Map<string, MigrationStep[] | null>();
  /** The steps that take a file at `version` to the target, or null when this run does not cover that version. */
  const stepsFor = (version: string): MigrationStep[] | null => {
    if (options.from !== undefined) {
      const at = chain.findIndex((s) => s.from === version);
      return at === -1 ? null : chain.slice(at);
    }
    if (!pathCache.has(version)) {
      try {
        pathCache.set(version, registry.path(kind, version, options.to));
      } catch {
        pathCache.set(version, null);
      }
    }
    return pathCache.get(version) ?? null;
  };
  const usedSteps = new Set<string>();
  const result: MigrateResult = {
    ok: true,
    dry_run: Boolean(options.dryRun),
    kind,
    from: fromLabel,
    to: options.to,
    steps: chain.map((s) => s.id),
    dir: dirRepoRel,
    files: [],
    findings: [],
    backup: null,
    resumed: false,
    data_loss: [],
    counts: { migrated: 0, unchanged: 0, total: 0 },
  };
  if (!existsSync(dirAbs)) {
    throw new OrcError('NOT_FOUND', `directory ${dirRepoRel} does not exist`, { location: { file: dirRepoRel }, fix: 'pass --dir with the directory holding the files' });
  }
  const schemaKind = schemaKindFor(kind);

  const planned: Planned[] = [];
  const lostCount = new Map<string, number>();
  for (const abs of listTaskLikeFiles(dirAbs)) {
    const rel = toPosix(relative(root, abs));
    const raw = readFileSync(abs);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      result.findings.push(rootFinding(rel, 'the file is not valid UTF-8', 'save the file as UTF-8'));
      continue;
    }
    const read = parseJsonText(text, rel, { requirement: REQ });
    if (!read.ok) {
      result.findings.push(...read.findings);
      continue;
    }
    const value = read.value;
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      result.findings.push(rootFinding(rel, 'expected a JSON object', `write a ${kind} definition object`));
      continue;
    }
    const record = value as Record<string, unknown>;
    const version = record.schema_version;
    if (version === options.to || (options.from !== undefined && chain.length === 0)) {
      planned.push({ abs, rel, relDir: toPosix(relative(dirAbs, abs)), raw, fromVersion: String(version), newText: null, lost: [] });
      continue;
    }
    const steps = typeof version === 'string' ? stepsFor(version) : null;
    if (typeof version !== 'string' || steps === null) {
      const at = typeof version === 'string' ? read.locate(['schema_version']) : { line: 1, column: 1 };
      result.findings.push({
        requirement: REQ,
        severity: 'error',
        file: rel,
        line: at.line,
        column: at.column,
        message:
          typeof version === 'string'
            ? `schema_version is ${version}; this run migrates ${fromLabel} → ${options.to}${options.from === undefined ? ' and no migration path leads from that version' : ''}`
            : 'the file has no schema_version, so its version cannot be known',
        fix:
          typeof version === 'string'
            ? `run with --from ${version} if a path exists (orc-state migrate --list), or fix the file's schema_version`
            : `add "schema_version": "${options.from ?? '1.0.0'}" if the file follows that version`,
      });
      continue;
    }
    // Validate against the version the file claims. Task files go through the same form check as the
    // loader (src/repo/task-forms.ts): no or another schema_url and unknown fields are warnings, and kept.
    if (schemaKind === 'task' && getValidator('task', version)) {
      const form = checkTaskForm(record, version, { file: rel, locate: read.locate, requirement: REQ });
      for (const f of form.findings) {
        if (f.severity === 'notice') continue;
        result.findings.push(f.severity === 'error' ? { ...f, message: `not a valid ${version} file: ${f.message}` } : f);
      }
      if (!form.ok) continue;
    } else {
      const validator = schemaKind ? getValidator(schemaKind, version) : undefined;
      if (validator && !validator(record)) {
        for (const err of validator.errors ?? []) result.findings.push(schemaFinding(rel, read.locate, err, version));
        continue;
      }
    }
    for (const step of steps) usedSteps.add(step.id);
    let target = record;
    for (const step of steps) target = step.apply(target);
    const placement: Record<string, readonly string[]> = Object.assign({}, ...steps.map((s: MigrationStep) => s.placement ?? {}));
    const lost = steps.some((s) => s.lostFields.length > 0)
      ? diffValues(record, target).filter((e) => e.op === 'remove').map((e) => e.path.join('.'))
      : [];
    for (const field of lost) lostCount.set(field, (lostCount.get(field) ?? 0) + 1);
    let newText: string;
    try {
      newText = reconcileJson(text, target, { placement }).text;
    } catch (error) {
      result.findings.push(rootFinding(rel, `cannot rewrite the file: ${(error as Error).message}`, 'fix the file by hand, then re-run'));
      continue;
    }
    // Self-check: the new text must parse to the target and validate as the target version.
    const reparsed: unknown = JSON.parse(newText.charCodeAt(0) === 0xfeff ? newText.slice(1) : newText);
    const targetValidator = schemaKind ? getValidator(schemaKind, options.to) : undefined;
    const targetOk = (): boolean =>
      schemaKind === 'task' && targetValidator
        ? checkTaskForm(reparsed as Record<string, unknown>, options.to, { file: rel, locate: () => ({ line: 1, column: 1 }) }).ok
        : !targetValidator || targetValidator(reparsed);
    if (diffValues(reparsed, target).length > 0 || !targetOk()) {
      const detail = targetValidator?.errors?.map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('; ') ?? 'text rewrite differs from the migrated value';
      result.findings.push(rootFinding(rel, `migrated content would not be a valid ${options.to} file: ${detail}`, 'fix the listed fields in the source file, then re-run'));
      continue;
    }
    planned.push({ abs, rel, relDir: toPosix(relative(dirAbs, abs)), raw, fromVersion: version, newText, lost });
  }

  if (options.from === undefined) result.steps = [...usedSteps].sort();
  result.data_loss = [...lostCount.entries()].map(([field, files]) => ({ field, files })).sort((a, b) => a.field.localeCompare(b.field));
  result.counts.total = planned.length + result.findings.filter((f) => f.severity === 'error').length;
  if (result.findings.some((f) => f.severity === 'error')) {
    result.ok = false;
    return result;
  }
  const changing = planned.filter((p) => p.newText !== null);
  result.counts.unchanged = planned.length - changing.length;

  if (options.dryRun) {
    for (const p of planned) {
      if (p.newText === null) result.files.push({ file: p.rel, from_version: p.fromVersion, action: 'unchanged' });
      else {
        result.files.push({
          file: p.rel,
          from_version: p.fromVersion,
          action: 'would-migrate',
          diff: unifiedDiff(p.raw.toString('utf8'), p.newText, { oldName: `a/${p.rel}`, newName: `b/${p.rel}` }),
          ...(p.lost.length ? { lost: p.lost } : {}),
        });
      }
    }
    return result;
  }

  if (result.data_loss.length > 0 && !options.yes) {
    const lossText = result.data_loss.map((d) => `${d.field} (${d.files} file${d.files === 1 ? '' : 's'})`).join(', ');
    throw new OrcError('USAGE', `migrating ${fromLabel} → ${options.to} removes data: ${lossText}. Nothing was written.`, {
      fix: `review with --dry-run, then re-run with --yes (a backup is kept under ${dirRepoRel}/${BACKUPS_DIR}/ unless --no-backup; \`orc-state migrate --rollback\` restores it)`,
      data: { data_loss: result.data_loss },
    });
  }

  // Resume an interrupted run of the same migration, else start a new backup.
  const backupWanted = options.backup !== false;
  const unfinished = listBackups(dirAbs)
    .filter((b) => b.manifest && b.manifest.status !== 'complete' && b.manifest.operation === 'migrate' && b.manifest.kind === kind && b.manifest.from === fromLabel && b.manifest.to === options.to)
    .pop();
  removeStaleTemps(dirAbs);

  const toWrite = changing.map((p) => ({ path: p.abs, data: Buffer.from(p.newText as string, 'utf8') }));
  const doneBefore: FileOutcome[] = [];
  let backupAbs: string | null = null;
  let manifest: BackupManifest | null = null;
  if (unfinished) {
    result.resumed = true;
    backupAbs = unfinished.abs;
    manifest = unfinished.manifest as BackupManifest;
    // Files the interrupted run already replaced: report them as migrated by this run.
    const pending = new Set(changing.map((p) => p.relDir));
    for (const entry of manifest.files) {
      if (pending.has(entry.path)) continue;
      const p = planned.find((q) => q.relDir === entry.path);
      if (p && sha256(p.raw) === entry.sha256_after) doneBefore.push({ file: p.rel, from_version: entry.from_version, action: 'already-done' });
    }
  }
  if (backupWanted && changing.length > 0) {
    if (!manifest || !backupAbs) {
      const created = createBackupDir(dirAbs, now());
      backupAbs = created.abs;
      manifest = {
        schema_version: MANIFEST_SCHEMA_VERSION,
        schema_url: MANIFEST_SCHEMA_URL,
        operation: 'migrate',
        kind,
        from: fromLabel,
        to: options.to,
        dir: dirRepoRel,
        created_at: now().toISOString(),
        status: 'backing_up',
        completed_at: null,
        files: [],
      };
    }
    const known = new Map(manifest.files.map((f) => [f.path, f]));
    const copies: Array<{ path: string; data: Uint8Array }> = [];
    for (const p of changing) {
      const entry: BackupEntry = {
        path: p.relDir,
        sha256_before: sha256(p.raw),
        sha256_after: sha256(p.newText as string),
        from_version: p.fromVersion,
        to_version: options.to,
      };
      const old = known.get(p.relDir);
      // A resumed run whose backup copy is already durable keeps it.
      if (!(old && manifest.status === 'replacing' && old.sha256_before === entry.sha256_before)) copies.push({ path: join(backupAbs, ...p.relDir.split('/')), data: p.raw });
      known.set(p.relDir, entry);
    }
    manifest.files = [...known.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    manifest.status = manifest.status === 'replacing' ? 'replacing' : 'backing_up';
    await writeManifest(backupAbs, manifest);
    await writeFilesDurably(copies, { concurrency: options.concurrency ?? 16 });
    manifest.status = 'replacing';
    await writeManifest(backupAbs, manifest);
  }

  await writeFilesDurably(toWrite, {
    concurrency: options.concurrency ?? 16,
    onWritten: (path) => options.onFileWritten?.(toPosix(relative(root, path))),
  });
  if (manifest && backupAbs) {
    manifest.status = 'complete';
    manifest.completed_at = now().toISOString();
    await writeManifest(backupAbs, manifest);
    result.backup = toPosix(relative(root, backupAbs));
  }
  for (const p of planned) {
    if (p.newText !== null) result.files.push({ file: p.rel, from_version: p.fromVersion, action: 'migrated', ...(p.lost.length ? { lost: p.lost } : {}) });
    else if (!doneBefore.some((d) => d.file === p.rel)) result.files.push({ file: p.rel, from_version: p.fromVersion, action: 'unchanged' });
  }
  result.files.push(...doneBefore);
  result.files.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  result.counts.migrated = changing.length + doneBefore.length;
  result.counts.unchanged = planned.length - result.counts.migrated;
  return result;
}

export interface RollbackOptions {
  root: string;
  dir?: string;
  /** Backup directory name (timestamp); default: the newest migration backup. */
  backup?: string;
  /** Overwrite files edited since the migration (their current content is backed up first). */
  yes?: boolean;
  /** Default true: back up the current files before restoring. */
  backupCurrent?: boolean;
  dryRun?: boolean;
  now?: () => Date;
}

export interface RollbackResult {
  ok: boolean;
  dry_run: boolean;
  backup: string;
  /** Backup of the files as they were before this rollback (null when none was needed or --no-backup). */
  saved: string | null;
  files: Array<{ file: string; action: 'restored' | 'would-restore' | 'already-restored' | 'conflict' | 'missing-backup' }>;
  findings: Finding[];
}

export async function rollbackMigration(options: RollbackOptions): Promise<RollbackResult> {
  const root = resolve(options.root);
  const dirAbs = resolve(root, options.dir ?? 'tasks');
  const dirRepoRel = toPosix(relative(root, dirAbs)) || '.';
  const now = options.now ?? (() => new Date());
  const backups = listBackups(dirAbs).filter((b) => b.manifest);
  const chosen = options.backup ? backups.find((b) => b.name === options.backup) : backups.filter((b) => b.manifest?.operation === 'migrate').pop();
  if (options.backup && !chosen) {
    const broken = listBackups(dirAbs).find((b) => b.name === options.backup);
    if (broken) {
      throw new OrcError('INVALID_INPUT', `backup ${options.backup} has no valid ${MANIFEST_NAME}, so what it holds cannot be trusted`, {
        location: { file: `${dirRepoRel}/${BACKUPS_DIR}/${options.backup}/${MANIFEST_NAME}` },
        fix: 'restore the files by hand from that directory, or pick another backup',
      });
    }
  }
  if (!chosen || !chosen.manifest) {
    const names = backups.map((b) => b.name);
    throw new OrcError('NOT_FOUND', options.backup ? `no backup ${options.backup} under ${dirRepoRel}/${BACKUPS_DIR}/` : `no migration backup under ${dirRepoRel}/${BACKUPS_DIR}/`, {
      location: { file: `${dirRepoRel}/${BACKUPS_DIR}` },
      fix: names.length ? `pass --backup with one of: ${names.join(', ')}` : 'nothing to roll back (was the migration run with --no-backup?)',
    });
  }
  const manifest = chosen.manifest;
  const result: RollbackResult = {
    ok: true,
    dry_run: Boolean(options.dryRun),
    backup: toPosix(relative(root, chosen.abs)),
    saved: null,
    files: [],
    findings: [],
  };
  const restores: Array<{ path: string; data: Uint8Array; current: Buffer | null; entry: BackupEntry }> = [];
  for (const entry of manifest.files) {
    const target = join(dirAbs, ...entry.path.split('/'));
    const file = toPosix(relative(root, target));
    const backupFile = join(chosen.abs, ...entry.path.split('/'));
    if (!existsSync(backupFile)) {
      result.files.push({ file, action: 'missing-backup' });
      result.findings.push(rootFinding(toPosix(relative(root, backupFile)), `the backup copy of ${file} is missing`, 'restore it by hand from version control'));
      continue;
    }
    const original = readFileSync(backupFile);
    if (sha256(original) !== entry.sha256_before) {
      result.files.push({ file, action: 'missing-backup' });
      result.findings.push(rootFinding(toPosix(relative(root, backupFile)), `the backup copy of ${file} does not match its recorded sha256 (it was changed after the backup)`, 'restore the file by hand'));
      continue;
    }
    const current = existsSync(target) ? readFileSync(target) : null;
    const currentSha = current ? sha256(current) : null;
    if (currentSha === entry.sha256_before) {
      result.files.push({ file, action: 'already-restored' });
      continue;
    }
    if (currentSha !== entry.sha256_after && !options.yes) {
      result.files.push({ file, action: 'conflict' });
      result.findings.push({
        requirement: REQ,
        severity: 'error',
        file,
        line: 1,
        column: 1,
        message: current ? `${file} was edited after the migration; restoring the backup would discard those edits` : `${file} was deleted after the migration`,
        fix: 'review the file; re-run with --yes to restore anyway (its current content is saved to a new backup first)',
      });
      continue;
    }
    restores.push({ path: target, data: original, current, entry });
  }
  if (result.findings.length > 0) {
    result.ok = false;
    return result;
  }
  if (options.dryRun) {
    for (const r of restores) result.files.push({ file: toPosix(relative(root, r.path)), action: 'would-restore' });
    return result;
  }
  if (restores.length > 0 && options.backupCurrent !== false) {
    const saved = createBackupDir(dirAbs, now());
    const savedManifest: BackupManifest = {
      schema_version: MANIFEST_SCHEMA_VERSION,
      schema_url: MANIFEST_SCHEMA_URL,
      operation: 'rollback',
      kind: manifest.kind,
      from: manifest.to,
      to: manifest.from,
      dir: manifest.dir,
      created_at: now().toISOString(),
      status: 'backing_up',
      completed_at: null,
      restores: chosen.name,
      files: restores
        .filter((r) => r.current)
        .map((r) => ({
          path: r.entry.path,
          sha256_before: sha256(r.current as Buffer),
          sha256_after: r.entry.sha256_before,
          from_version: r.entry.to_version,
          to_version: r.entry.from_version,
        })),
    };
    await writeManifest(saved.abs, savedManifest);
    await writeFilesDurably(restores.filter((r) => r.current).map((r) => ({ path: join(saved.abs, ...r.entry.path.split('/')), data: r.current as Buffer })));
    savedManifest.status = 'replacing';
    await writeManifest(saved.abs, savedManifest);
    await writeFilesDurably(restores.map((r) => ({ path: r.path, data: r.data })));
    savedManifest.status = 'complete';
    savedManifest.completed_at = now().toISOString();
    await writeManifest(saved.abs, savedManifest);
    result.saved = toPosix(relative(root, saved.abs));
  } else {
    await writeFilesDurably(restores.map((r) => ({ path: r.path, data: r.data })));
  }
  for (const r of restores) result.files.push({ file: toPosix(relative(root, r.path)), action: 'restored' });
  result.files.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  if (restores.length > 0) {
    manifest.rolled_back_at = now().toISOString();
    await writeManifest(chosen.abs, manifest);
  }
  return result;
}
