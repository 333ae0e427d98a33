/**
 * `orc-state migrate`: move files between schema versions (SCHEMA-VER-002).
 *
 * Public API (stable): register(program, output).
 * Usage:
 *   orc-state migrate [--from 1.0.0] --to 2.0.0 [--dir tasks | --directory tasks] [--kind task] [--dry-run] [--no-backup] [--json] [--root DIR]
 *   orc-state migrate --from 2.0.0 --to 1.0.0 --yes        (lossy: states the fields removed, needs --yes)
 *   orc-state migrate --rollback [--backup <timestamp>] [--yes] [--dry-run]
 *   orc-state migrate --kind event --to X [--from Y] [--dry-run]   (the live event log: a new log is written, the old one archived)
 *   orc-state migrate --list                                (registered steps and current versions per file kind)
 * Exit: 0 done (or nothing to do); 1 invalid input files or rollback
 * conflicts (each reported file:line:column, nothing written); 2 usage
 * (unknown version pair, lossy run without --yes, missing directory).
 * Integration points: src/cli/program.ts; the library in src/migrate/.
 * Dependencies: commander, ../../migrate/run.js, ../../migrate/event-log.js, ../../migrate/chain.js, ../output.js.
 */
import type { Command } from 'commander';
import { isAbsolute, relative, resolve } from 'node:path';
import { OrcError, EXIT } from '../../errors.js';
import type { Finding } from '../../model.js';
import { DEFAULT_REGISTRY, FILE_KINDS, type FileKind } from '../../migrate/chain.js';
import type { Output } from '../output.js';

interface MigrateFlags {
  from?: string;
  to?: string;
  dir: string;
  directory?: string;
  kind: string;
  dryRun?: boolean;
  backup: boolean | string;
  yes?: boolean;
  rollback?: boolean;
  list?: boolean;
  root: string;
  json?: boolean;
}

const VERSION = /^\d+\.\d+\.\d+$/;

function printFindings(findings: Finding[], output: Output): void {
  for (const f of findings) {
    const label = f.severity === 'error' ? output.paint('red', 'error') : output.paint('yellow', f.severity);
    output.err(`${f.file}:${f.line}:${f.column}: ${label} ${f.message}`);
    output.err(`  fix: ${f.fix}`);
  }
}

export function register(program: Command, output: Output): void {
  program
    .command('migrate')
    .description('migrate files between schema versions with minimal diffs, backups and rollback')
    .option('--from <version>', 'source schema version, e.g. 1.0.0 (default: every older version with a path to --to)')
    .option('--to <version>', 'target schema version, e.g. 2.0.0')
    .option('--dir <dir>', 'directory holding the files, relative to --root', 'tasks')
    .option('--directory <dir>', 'the same as --dir (the name the upstream migration tool uses)')
    .option('--kind <kind>', `file kind: ${FILE_KINDS.join('|')}`, 'task')
    .option('--dry-run', 'print a unified diff per file; write nothing')
    .option('--backup <timestamp>', 'with --rollback: the backup to restore (default: the newest)')
    .option('--no-backup', 'do not keep copies of the originals under <dir>/.backups/')
    .option('--yes', 'confirm a lossy migration, or a rollback over files edited since')
    .option('--rollback', 'restore the files of a backup byte-for-byte')
    .option('--list', 'list registered migration steps per file kind')
    .option('--root <dir>', 'repository root', process.cwd())
    .option('--json', 'machine-readable result on stdout')
    .action(async (flags: MigrateFlags) => {
      process.exitCode = await runMigrate(flags, output);
    });
}

export async function runMigrate(flags: MigrateFlags, output: Output): Promise<number> {
  const root = resolve(flags.root);
  if (!(FILE_KINDS as readonly string[]).includes(flags.kind)) {
    throw new OrcError('USAGE', `unknown --kind ${flags.kind}`, { fix: `use one of ${FILE_KINDS.join(', ')}` });
  }
  const kind = flags.kind as FileKind;
  if (flags.directory !== undefined) {
    if (flags.dir !== 'tasks' && flags.dir !== flags.directory) {
      throw new OrcError('USAGE', `--dir ${flags.dir} and --directory ${flags.directory} name different directories`, { fix: 'pass one of them' });
    }
    flags.dir = flags.directory;
  }
  // --dir is relative to --root and stays inside it: migrate rewrites files and keeps backups there.
  const dirAbs = resolve(root, flags.dir);
  const inside = relative(root, dirAbs);
  if (inside.startsWith('..') || isAbsolute(inside)) {
    throw new OrcError('USAGE', `--dir ${flags.dir} is outside the repository root ${root}`, {
      fix: 'pass a directory inside --root (e.g. --dir tasks), or point --root at the repository that holds it',
    });
  }
  // commander: --no-backup gives backup=false; --backup <ts> gives a string.
  const backupName = typeof flags.backup === 'string' ? flags.backup : undefined;
  const keepBackup = flags.backup !== false;

  if (flags.list) {
    const kinds = FILE_KINDS.map((k) => ({
      kind: k,
      current_version: DEFAULT_REGISTRY.currentVersion(k) ?? null,
      versions: DEFAULT_REGISTRY.versions(k),
      steps: DEFAULT_REGISTRY.steps(k).map((s) => ({ id: s.id, from: s.from, to: s.to, doc: `docs/schema_migrations/${s.doc}`, lossy: s.lostFields.length > 0, summary: s.summary })),
    }));
    if (flags.json) output.json({ ok: true, kinds });
    else {
      for (const k of kinds) {
        output.out(`${output.paint('bold', k.kind)}  current ${k.current_version ?? '(no schema)'}`);
        if (k.steps.length === 0) output.out('  single version: no migration steps');
        for (const s of k.steps) output.out(`  ${s.from} → ${s.to}  ${s.id}${s.lossy ? ' (lossy)' : ''}: ${s.summary}`);
      }
    }
    return EXIT.ok;
  }

  if (flags.rollback) {
    if (flags.from || flags.to) throw new OrcError('USAGE', '--rollback restores a backup; it takes no --from/--to', { fix: 'drop --from/--to, optionally pass --backup <timestamp>' });
    const { rollbackMigration } = await import('../../migrate/run.js');
    const result = await rollbackMigration({
      root,
      dir: flags.dir,
      ...(backupName ? { backup: backupName } : {}),
      yes: Boolean(flags.yes),
      backupCurrent: keepBackup,
      dryRun: Boolean(flags.dryRun),
    });
    if (flags.json) output.json(result);
    else {
      printFindings(result.findings, output);
      for (const f of result.files) if (f.action !== 'already-restored') output.out(`${f.action.padEnd(16)} ${f.file}`);
      const restored = result.files.filter((f) => f.action === 'restored' || f.action === 'would-restore').length;
      const already = result.files.filter((f) => f.action === 'already-restored').length;
      if (result.ok) {
        output.out(
          `${result.dry_run ? 'would restore' : 'restored'} ${restored} file(s) from ${result.backup}${already ? `; ${already} already as in the backup` : ''}${result.saved ? `; previous content saved in ${result.saved}` : ''}`,
        );
      } else output.err(`rollback refused: ${result.findings.length} problem(s); nothing was written`);
    }
    return result.ok ? EXIT.ok : EXIT.findings;
  }

  if (!flags.to) throw new OrcError('USAGE', 'migrate needs --to (and usually --from), or --rollback, or --list', { fix: 'e.g. orc-state migrate --from 1.0.0 --to 2.0.0 --dry-run' });
  for (const v of [flags.from, flags.to].filter((x): x is string => x !== undefined)) {
    if (!VERSION.test(v)) throw new OrcError('USAGE', `"${v}" is not a semantic version`, { fix: 'write versions as MAJOR.MINOR.PATCH, e.g. 2.0.0' });
  }
  if (backupName) throw new OrcError('USAGE', '--backup <timestamp> only goes with --rollback', { fix: 'use --no-backup to skip backups, or add --rollback' });

  if (kind === 'event') {
    const { migrateEventLog } = await import('../../migrate/event-log.js');
    const r = await migrateEventLog(root, { to: flags.to, ...(flags.from !== undefined ? { from: flags.from } : {}), dryRun: Boolean(flags.dryRun) });
    if (flags.json) output.json(r);
    else {
      printFindings(r.findings, output);
      if (!r.ok) output.err('event log migration refused; nothing was written');
      else if (r.migrated === 0) output.out(`nothing to do: ${r.events} event(s) already at ${r.to}`);
      else if (r.dry_run) output.out(`dry run: ${r.migrated} of ${r.events} event(s) would be migrated; nothing was written`);
      else output.out(`migrated ${r.migrated} of ${r.events} event(s) to ${r.to} into a new live log; the original is kept as ${r.archived}`);
    }
    return r.ok ? EXIT.ok : EXIT.findings;
  }

  const { migrateFiles } = await import('../../migrate/run.js');
  const result = await migrateFiles({
    root,
    dir: flags.dir,
    kind,
    ...(flags.from !== undefined ? { from: flags.from } : {}),
    to: flags.to,
    dryRun: Boolean(flags.dryRun),
    backup: keepBackup,
    yes: Boolean(flags.yes),
    onFileWritten: () => undefined,
  });
  if (flags.json) {
    output.json(result);
    return result.ok ? EXIT.ok : EXIT.findings;
  }
  if (!result.ok) {
    printFindings(result.findings, output);
    output.err(`migration refused: ${result.findings.filter((f) => f.severity === 'error').length} problem(s) in the input; nothing was written`);
    return EXIT.findings;
  }
  if (result.dry_run) {
    for (const f of result.files) if (f.diff) output.out(f.diff.replace(/\n$/, ''));
    if (result.data_loss.length > 0) {
      output.err(`${output.paint('yellow', 'data loss')}: this migration removes ${result.data_loss.map((d) => `${d.field} from ${d.files} file(s)`).join(', ')}; the real run needs --yes`);
    }
    const would = result.files.filter((f) => f.action === 'would-migrate').length;
    output.err(`dry run: ${would} file(s) would change, ${result.counts.unchanged} already at ${result.to}; nothing was written`);
    return EXIT.ok;
  }
  const migrated = result.files.filter((f) => f.action === 'migrated' || f.action === 'already-done');
  if (migrated.length === 0) output.out(`nothing to do: ${result.counts.unchanged} file(s) already at ${result.to}`);
  else {
    output.out(
      `migrated ${migrated.length} file(s) ${result.from} → ${result.to} (${result.steps.join(' → ')}), ${result.counts.unchanged} unchanged${result.resumed ? '; finished an interrupted run' : ''}`,
    );
    if (result.backup) output.out(`backup: ${result.backup}  (undo: orc-state migrate --rollback --backup ${result.backup.split('/').pop()})`);
    else output.out('no backup kept (--no-backup)');
  }
  return EXIT.ok;
}
