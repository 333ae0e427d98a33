/**
 * The machine-readable report (`--format json`, `--json`): the Report object
 * as pinned by issue 2 (schema_version, ok, summary, requirements[{id, level,
 * status, findings[{file, line, column, message, fix, ...}]}]); fields are
 * only ever added.
 *
 * Public API (stable): formatJson(report) → string.
 * Integration points: `orc-state validate --format json`; drop-in scripts' -JsonOutput.
 * Dependencies: ../types.js.
 */
import type { Report } from '../types.js';

export function formatJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
