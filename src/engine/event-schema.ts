/**
 * Whether one logged event follows the event schema of the version it declares.
 *
 * Public API (internal): checkEventSchema(event) → EventSchemaCheck.
 * Integration points: `orc-state doctor` (src/engine/doctor.ts) and rule
 * STATE-OBS-004 both judge log lines with it, each wording its own report.
 * Dependencies: ../schema/registry.js (ajv, schemas/event.*).
 */
import type { ErrorObject } from 'ajv';
import { getValidator, knownVersions } from '../schema/registry.js';

export type EventSchemaCheck =
  | { ok: true }
  /** schema_version missing or not one of `known`. */
  | { ok: false; version: null; known: string[] }
  | { ok: false; version: string; errors: ErrorObject[] };

const OK: EventSchemaCheck = Object.freeze({ ok: true });

export function checkEventSchema(event: { schema_version?: unknown }): EventSchemaCheck {
  const known = knownVersions('event');
  const version = typeof event.schema_version === 'string' && known.includes(event.schema_version) ? event.schema_version : null;
  if (version === null) return { ok: false, version: null, known };
  // Called once per logged event (100,000 in a gate run): the validator directly, no wrapper objects when valid.
  const fn = getValidator('event', version);
  if (!fn) throw new Error(`no schema for event ${version} in schemas/`);
  return fn(event) ? OK : { ok: false, version, errors: [...(fn.errors ?? [])] };
}
