/**
 * `orc-state init`: adopt a repository: scaffold `.state/` (empty snapshot,
 * empty log, archive/) and tasks/, capabilities/ in --root; upgrade the
 * guide's Quick Start placeholder current.json in place (original kept under
 * .state/backups/); register the task files already there; write editor
 * wiring (.vscode/settings.json); print what it did and what to run next.
 * Never overwrites a file that holds data.
 *
 * Public API (stable): register(program, output).
 * Usage: orc-state init [--root DIR] [--json] [--lock-timeout MS]
 * Exit: 0 done; 1 some task files could not be registered (each reported with
 * file:line:column and a fix; the rest is done); 2 unwritable root; 3 lock timeout.
 * Integration points: src/cli/program.ts; src/engine (initStore).
 * Dependencies: commander, ../../engine/init.js, ../../engine/cli-support.js.
 */
import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { engineOptions, lockTimeoutOf, rootOf, type EngineFlags } from '../../engine/cli-support.js';
import type { Output } from '../output.js';

export function register(program: Command, output: Output): void {
  engineOptions(program.command('init').description('adopt a repository: scaffold .state/, register the task files already there, wire editors (never overwrites data)')).action(
    async (flags: EngineFlags) => {
      const { initStore } = await import('../../engine/init.js');
      const result = await initStore(rootOf(flags), { lockTimeoutMs: lockTimeoutOf(flags) });
      if (flags.json) {
        output.json({ ok: result.skipped.length === 0, ...result });
        return;
      }
      for (const c of result.created) output.out(`${output.paint('green', 'created')} ${c}`);
      for (const u of result.upgraded) output.out(`${output.paint('green', 'upgraded')} ${u.file} (the guide's Quick Start placeholder, adopted as an empty store; original kept as ${u.backup})`);
      for (const k of result.kept) output.out(`${output.paint('dim', 'kept')} ${k} (exists)`);
      const e = result.editor;
      if (e.status === 'created') output.out(`${output.paint('green', 'created')} ${e.file} (editors check tasks/**/*.json against ${e.schema})`);
      else if (e.status === 'kept') output.out(`${output.paint('dim', 'kept')} ${e.file} (exists)${e.hint ? `; ${e.hint}` : ''}`);
      else output.out(`${output.paint('yellow', 'skipped')} ${e.file}: ${e.hint ?? ''}`);
      for (const n of result.notices) output.err(`${output.paint('yellow', 'notice')} ${n.message}`);
      if (result.registered.tasks.length > 0 || result.registered.workstreams.length > 0) {
        output.out(`${output.paint('green', 'registered')} ${result.registered.workstreams.length} workstream(s) and ${result.registered.tasks.length} task(s) found under tasks/`);
      }
      for (const f of result.skipped) {
        output.err(`${f.file}:${f.line}:${f.column}: ${output.paint('red', 'error')} ${f.message} (not registered)`);
        output.err(`  fix: ${f.fix}`);
      }
      output.out('next:');
      for (const n of result.next) output.out(`  ${n}`);
      if (result.skipped.length > 0) process.exitCode = EXIT.findings;
    },
  );
}
