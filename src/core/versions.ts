/**
 * Every schema version orc-state writes, spelled once. Modules that used to define their own
 * constant re-export it from here under the old name (DAG_VERSION, SNAPSHOT_SCHEMA_VERSION, ...).
 * Migration steps name the historical versions they convert between in src/migrate/ (that is
 * the step's definition, not a second spelling of the current version).
 *
 * Public API (stable): PACKAGE_VERSION, SNAPSHOT_VERSION, EVENT_VERSION, INDEX_VERSION, METRICS_VERSION, DAG_VERSION,
 * PLAN_VERSION, WORKER_OUTPUT_VERSION, REPORT_VERSION, MANIFEST_VERSION, REGISTRY_VERSION.
 * Integration points: src/engine/snapshot.ts, src/machines/index.ts, src/derive/*, src/graph/files.ts,
 * src/runner/types.ts, src/compliance/types.ts, src/migrate/backup.ts; schemas/<kind>.v<version>.schema.json.
 * Stability: stable.
 * Dependencies: none.
 */
/** orc-state's own version (package.json's), printed by --version. */
export const PACKAGE_VERSION = '0.1.0';
export const SNAPSHOT_VERSION = '2.0.0';
export const EVENT_VERSION = '2.0.0';
export const INDEX_VERSION = '1.0.0';
export const METRICS_VERSION = '1.0.0';
export const DAG_VERSION = '1.0.0';
export const PLAN_VERSION = '1.0.0';
export const WORKER_OUTPUT_VERSION = '1.0.0';
export const REPORT_VERSION = '1.0.0';
export const MANIFEST_VERSION = '1.0.0';
export const REGISTRY_VERSION = '1.0.0';
