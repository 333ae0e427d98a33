/**
 * Where the engine keeps its files inside a repository's `.state/` (kept for existing importers:
 * the definitions live in src/core/state-paths.ts, the only spelling of `.state/...`).
 *
 * Public API (stable): everything src/core/state-paths.ts exports (statePaths, STATE_DIR,
 * ARCHIVE_PATTERN, CHECKPOINT_PATTERN, archiveName, rel, ...).
 * Integration points: every module of src/engine, CLI commands, compliance rules.
 * Dependencies: ../core/state-paths.js.
 */
export * from '../core/state-paths.js';
