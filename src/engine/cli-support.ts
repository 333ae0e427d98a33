/**
 * Deprecated location, kept so branches written against it still build: the CLI glue moved to
 * src/cli/support.ts, the human rendering to src/cli/render/engine.ts, summarize to
 * src/engine/summary.ts. New code imports those; this file goes once nothing imports it.
 *
 * Public API (deprecated): re-exports of the above.
 * Stability: deprecated (internal); remove after the branches that import it are merged.
 * Integration points: none new; src/cli/commands/ import the new modules.
 * Dependencies: ../cli/support.js, ../cli/render/engine.js, ./summary.js.
 */
export { engineOptions, rootOf, intFlag, lockTimeoutOf, commitAndReport, type EngineFlags } from '../cli/support.js';
export { describeEvent, printAcknowledged, printSummary, printWhy, printDoctor } from '../cli/render/engine.js';
export { summarize, type Summary } from './summary.js';
