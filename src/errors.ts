/**
 * Typed errors shared by every layer.
 *
 * Public API (stable): OrcError, ErrorCode, EXIT, exitCodeFor.
 * Integration points: the CLI maps OrcError.code to a process exit status;
 * library callers switch on `code`.
 * Dependencies: none.
 */

/** Exit statuses, as in design/ARCHITECTURE.md (ESLint/Spectral habits). */
export const EXIT = {
  ok: 0,
  findings: 1,
  usage: 2,
  lockTimeout: 3,
} as const;

export type ErrorCode =
  | 'USAGE'
  | 'UNREADABLE_INPUT'
  | 'INVALID_INPUT'
  | 'ILLEGAL_TRANSITION'
  | 'INVARIANT_VIOLATION'
  | 'NOT_FOUND'
  | 'LOCK_TIMEOUT'
  | 'STATE_CORRUPT'
  | 'PLAN_IMPOSSIBLE'
  | 'MIGRATION_FAILED'
  /** A lease token that is stale (expired, released) or held by another worker (src/engine/leases.ts). */
  | 'LEASE_REFUSED'
  | 'INTERNAL';

export interface ErrorLocation {
  file: string;
  line?: number;
  column?: number;
}

/** An error a person can act on: a stable code, a message, optionally where and how to fix it. */
export class OrcError extends Error {
  override readonly name = 'OrcError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { location?: ErrorLocation; fix?: string; data?: Record<string, unknown> } = {},
  ) {
    super(message);
  }
}

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'LOCK_TIMEOUT':
      return EXIT.lockTimeout;
    case 'ILLEGAL_TRANSITION':
    case 'INVARIANT_VIOLATION':
    case 'PLAN_IMPOSSIBLE':
    case 'MIGRATION_FAILED':
    case 'LEASE_REFUSED':
    case 'STATE_CORRUPT':
      return EXIT.findings;
    default:
      return EXIT.usage;
  }
}
