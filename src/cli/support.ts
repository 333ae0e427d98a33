/**
 * Shared flags and glue of the engine's CLI commands (init, sync, task, worker, status, replay,
 * why, doctor, log): common options, flag parsing, and commit-then-report.
 *
 * Public API (internal): engineOptions(cmd, opts?), EngineFlags, rootOf(flags), intFlag(name, value, min?, max?),
 * lockTimeoutOf(flags), commitAndReport(output, flags, request).
 * (Moved from src/engine/cli-support.ts.)
 * Integration points: src/cli/commands/*.ts.
 * Dependencies: commander (types), ./output.js (types), ./render/engine.js, ../engine/commit.js (loaded on use).
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { OrcError } from '../errors.js';
import type { Output } from './output.js';
import type { TransitionRequest } from '../machines/index.js';
import { printAcknowledged } from './render/engine.js';

export interface EngineFlags {
  root: string;
  json?: boolean;
  lockTimeout?: string;
}

export function engineOptions(cmd: Command, opts: { lock?: boolean } = {}): Command {
  cmd.option('--root <dir>', 'repository root (holds tasks/ and .state/)', process.cwd()).option('--json', 'machine-readable output on stdout');
  // Every command accepts --lock-timeout; read-only ones (lock: false) never take the lock, so it has no effect there.
  cmd.option('--lock-timeout <ms>', opts.lock === false ? 'accepted for uniformity; this read-only command never takes the lock' : 'how long to wait for the .state lock before exit 3', '10000');
  return cmd;
}

export function rootOf(flags: EngineFlags): string {
  return resolve(flags.root);
}

export function intFlag(name: string, value: string | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new OrcError('USAGE', `${name} must be an integer >= ${min}${max < Number.MAX_SAFE_INTEGER ? ` and <= ${max}` : ''} (got "${value}")`, { fix: `e.g. ${name} ${Math.max(min, 1)}` });
  }
  return Number(value);
}

/** Longest wait a Node timer can express (~24.8 days); longer values would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

export function lockTimeoutOf(flags: EngineFlags): number {
  return intFlag('--lock-timeout', flags.lockTimeout ?? '10000', 0, MAX_TIMER_MS) as number;
}

/** Commit one request through the engine and print the result (JSON, or repairs + acknowledged events). */
export async function commitAndReport(output: Output, flags: EngineFlags, request: TransitionRequest): Promise<void> {
  const { applyTransitions } = await import('../engine/commit.js');
  const r = await applyTransitions(rootOf(flags), [request], { lockTimeoutMs: lockTimeoutOf(flags) });
  if (flags.json) {
    output.json({ ok: true, events: r.events, ...(r.expired ? { expired: r.expired } : {}), last_seq: r.snapshot.last_seq, notices: r.notices });
    return;
  }
  for (const n of r.notices) output.err(`${output.paint('yellow', n.kind === 'lease_expired' ? 'expired' : 'repaired')} ${n.message}`);
  printAcknowledged(output, r.events);
}

