/**
 * `orc-state doctor [--repair]`: check `.state/` for what crashes and
 * concurrent writers leave behind; repair what is safe (each repair
 * reported), refuse what is not (a corrupt line in the middle of the log).
 *
 * Public API (stable): register(program, output).
 * Usage: orc-state doctor [--repair] [--root DIR] [--json] [--lock-timeout MS]
 * JSON: DoctorReport { ok, found, repaired, refused, remaining, last_seq, events }.
 * Exit: 0 healthy (after repairs); 1 errors remain; 3 lock timeout (with --repair).
 * Integration points: src/cli/program.ts; src/engine/doctor.ts.
 * Dependencies: commander, ../../engine/*.
 */
import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { engineOptions, lockTimeoutOf, rootOf, type EngineFlags } from '../support.js';
import { printDoctor } from '../render/engine.js';
import type { Output } from '../output.js';

interface DoctorFlags extends EngineFlags {
  repair?: boolean;
}

export function register(program: Command, output: Output): void {
  engineOptions(
    program.command('doctor').description('check .state/ (snapshot == replay, seq, torn tail, temp files, lock, indices)').option('--repair', 'fix what is safe, each fix reported'),
  ).action(async (flags: DoctorFlags) => {
    const { doctor } = await import('../../engine/doctor.js');
    const report = await doctor(rootOf(flags), { repair: Boolean(flags.repair), lockTimeoutMs: lockTimeoutOf(flags) });
    if (flags.json) output.json(report);
    else printDoctor(output, report, Boolean(flags.repair));
    process.exitCode = report.ok ? EXIT.ok : EXIT.findings;
  });
}
