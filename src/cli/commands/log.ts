/**
 * `orc-state log rotate|prune`: seal the live log into a gzip archive and
 * continue the seq (Decision 9); delete archives older than N >= 90 days
 * (AUDIT-002), leaving a checkpoint so replay still works.
 *
 * Public API (stable): register(program, output).
 * Usage: orc-state log rotate [--root DIR] [--json] [--lock-timeout MS]
 *        orc-state log prune --older-than-days N [--root DIR] [--json] [--lock-timeout MS]
 * Exit: 0 done; 2 usage (N < 90 is refused); 3 lock timeout.
 * Integration points: src/cli/program.ts; src/engine/rotate.ts.
 * Dependencies: commander, ../../engine/*.
 */
import type { Command } from 'commander';
import { OrcError } from '../../errors.js';
import { MIN_RETENTION_DAYS } from '../../core/state-paths.js';
import type { pruneArchives, rotateLog } from '../../engine/rotate.js';
import { engineOptions, intFlag, lockTimeoutOf, rootOf, type EngineFlags } from '../support.js';
import type { Output } from '../output.js';

interface PruneFlags extends EngineFlags {
  olderThanDays?: string;
}

const engine = (): Promise<{ rotateLog: typeof rotateLog; pruneArchives: typeof pruneArchives }> => import('../../engine/rotate.js');

export function register(program: Command, output: Output): void {
  const log = program.command('log').description('event log maintenance: rotate, prune');
  engineOptions(log.command('rotate').description('seal the live log into .state/archive/ (gzip, named by seq range) and continue the seq')).action(
    async (flags: EngineFlags) => {
      const { rotateLog } = await engine();
      const r = await rotateLog(rootOf(flags), { lockTimeoutMs: lockTimeoutOf(flags) });
      if (flags.json) {
        output.json({ ok: true, ...r });
        return;
      }
      if (!r.rotated) output.out(`nothing to rotate: ${r.reason}`);
      else output.out(`${output.paint('green', 'sealed')} seq ${r.first_seq}..${r.last_seq} (${r.events} events) into ${r.archive}; acknowledged seq ${r.rotation_event?.seq} log_rotated`);
    },
  );
  engineOptions(
    log
      .command('prune')
      .description(`delete archives whose events are all older than N days (N >= ${MIN_RETENTION_DAYS})`)
      .option('--older-than-days <n>', `age in days, at least ${MIN_RETENTION_DAYS}`),
  ).action(async (flags: PruneFlags) => {
    if (flags.olderThanDays === undefined) throw new OrcError('USAGE', '--older-than-days is required', { fix: `e.g. --older-than-days ${MIN_RETENTION_DAYS}` });
    const days = intFlag('--older-than-days', flags.olderThanDays) as number;
    const { pruneArchives } = await engine();
    const r = await pruneArchives(rootOf(flags), { olderThanDays: days, lockTimeoutMs: lockTimeoutOf(flags) });
    if (flags.json) {
      output.json({ ok: true, ...r });
      return;
    }
    if (!r.removed.length) output.out(`nothing older than ${days} days; ${r.kept} archive(s) kept`);
    else output.out(`removed ${r.removed.join(', ')}; state at the boundary kept in ${r.checkpoint}; ${r.kept} archive(s) kept`);
  });
}
