/**
 * The commit clock: the time that decides which leases expired. Tests move it with
 * $ORC_STATE_NOW (an ISO-8601 time) instead of waiting on the wall clock; read-only
 * commands use the same clock to say which leases the next writer will expire.
 *
 * Public API (stable): NOW_ENV, clockOf({ now? }) → Date (options.now, else $ORC_STATE_NOW, else now).
 * Integration points: src/engine/leases.ts (re-exports both), src/engine/summary.ts via the status command.
 * Stability: stable. Dependencies: ../errors.js.
 */
import { OrcError } from '../errors.js';

/** Test hook: the commit clock, as an ISO-8601 time (never set it in production). */
export const NOW_ENV = 'ORC_STATE_NOW';

export function clockOf(options: { now?: Date | undefined } = {}): Date {
  if (options.now) return options.now;
  const env = process.env[NOW_ENV];
  if (env !== undefined && env !== '') {
    const ms = Date.parse(env);
    if (Number.isNaN(ms)) {
      throw new OrcError('USAGE', `${NOW_ENV}=${JSON.stringify(env)} is not an ISO-8601 time`, {
        fix: `unset ${NOW_ENV} (it is a test hook that sets the commit clock), or give e.g. 2026-01-31T12:00:00.000Z`,
      });
    }
    return new Date(ms);
  }
  return new Date();
}
