/**
 * `orc-state watch`: re-check and re-derive while task files are edited.
 *
 * Public API (stable): register(program, output).
 * Flags: --json (one JSON object per line: {"type":"ready"|"update"|"metrics"|"error", ...}),
 * --debounce MS, --max-parallel N, --no-write (findings only), --root DIR.
 * Prints the findings present at start, then for each change the new ones
 * (`+`) and the cleared ones (`-`) with file:line:column, and the DAG/plan
 * files it rewrote. Runs until SIGINT/SIGTERM, then closes cleanly (exit 0).
 * Integration points: src/cli/program.ts; src/graph/watch.ts does the work.
 * Dependencies: commander, ../../graph/watch.js.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { OrcError } from '../../errors.js';
import type { Finding } from '../../model.js';
import type { WatchUpdate } from '../../graph/watch.js';
import type { Output } from '../output.js';
import { formatFinding } from './plan.js';

interface WatchFlags {
  json?: boolean;
  debounce?: number;
  maxParallel?: number;
  write?: boolean;
  root: string;
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return Number(value.trim());
}

export function register(program: Command, output: Output): void {
  program
    .command('watch')
    .description('watch tasks/ and capabilities/: print new and cleared findings, keep DAG and plan files fresh, refresh metrics every 60 s')
    .option('--json', 'one JSON object per line')
    .option('--debounce <ms>', 'per-file debounce in milliseconds (default 150)', positiveInt)
    .option('--max-parallel <n>', 'override max_parallelism for the plans', positiveInt)
    .option('--no-write', 'report findings only, never write .state/')
    .option('--root <dir>', 'repository root', process.cwd())
    .action(async (flags: WatchFlags) => {
      const root = resolve(flags.root);
      if (!existsSync(join(root, 'tasks'))) {
        throw new OrcError('NOT_FOUND', `no tasks/ directory in ${root}`, { location: { file: 'tasks' }, fix: 'run from the repository root or pass --root' });
      }
      const line = (value: unknown): void => output.out(JSON.stringify(value));
      const show = (prefix: string, f: Finding): string => `${prefix} ${formatFinding(f, output).replace(/\n/g, '\n  ')}`;
      const print = (type: 'ready' | 'update', u: WatchUpdate): void => {
        if (flags.json) {
          line({ type, ...u, elapsedMs: Math.round(u.elapsedMs * 10) / 10 });
          return;
        }
        if (type === 'update') output.out(output.paint('dim', `changed: ${u.files.join(', ')}`));
        for (const f of u.added) output.out(show(output.paint('red', '+'), f));
        for (const f of u.cleared) output.out(show(output.paint('green', '-'), f));
        const files = [...u.written, ...u.removed.map((r) => `removed ${r}`)];
        if (files.length > 0) output.out(output.paint('dim', `wrote ${files.join(', ')} (${Math.round(u.elapsedMs)} ms)`));
      };
      const { startWatch } = await import('../../graph/watch.js');
      const watcher = startWatch(root, {
        ...(flags.debounce !== undefined ? { debounceMs: flags.debounce } : {}),
        ...(flags.maxParallel !== undefined ? { maxParallel: flags.maxParallel } : {}),
        write: flags.write !== false,
      });
      watcher.on('update', (u) => print('update', u));
      watcher.on('metrics', (file) => (flags.json ? line({ type: 'metrics', written: file }) : undefined));
      watcher.on('error', (error) => {
        const message = error instanceof Error ? error.message : String(error);
        if (flags.json) line({ type: 'error', message });
        else output.err(`${output.paint('red', 'error')} ${message}`);
      });
      // Signal handlers first: a SIGTERM that arrives while starting (or right after "ready") still closes cleanly.
      let stopped = false;
      const closed = new Promise<void>((done) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          stopped = true;
          void watcher.close().then(done, done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await Promise.race([watcher.ready, closed]);
      if (!stopped) {
        const initial = watcher.initial();
        if (initial) print('ready', initial);
        if (!flags.json) output.out(output.paint('dim', `watching tasks/ and capabilities/ in ${root} (${watcher.findings().length} finding(s) now); Ctrl-C to stop`));
      }
      await closed;
    });
}
