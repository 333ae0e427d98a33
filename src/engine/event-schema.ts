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

/** The version and validator of the event before: a log's events share one version, so most events skip the lookups. */
let lastVersion: string | undefined;
let lastValidator: ReturnType<typeof getValidator>;

export function checkEventSchema(event: { schema_version?: unknown }): EventSchemaCheck {
  const declared = event.schema_version;
  let fn = declared === lastVersion ? lastValidator : undefined;
  if (!fn) {
    const known = knownVersions('event');
    const version = typeof declared === 'string' && known.includes(declared) ? declared : null;
    if (version === null) return { ok: false, version: null, known };
    fn = getValidator('event', version);
    if (!fn) throw new Error(`no schema for event ${version} in schemas/`);
    lastVersion = version;
    lastValidator = fn;
  }
  // Called once per logged event (100,000 in a gate run): the validator directly, no wrapper objects when valid.
  return fn(event) ? OK : { ok: false, version: declared as string, errors: [...(fn.errors ?? [])] };
}
