/**
 * The report formatters by name. Each is a pure function (report) → string.
 *
 * Public API (stable): FORMATS, FormatName, formatReport(name, report, options),
 * parseFormatSpec("sarif=out.sarif").
 * Integration points: `orc-state validate --format F[=file]` (repeatable).
 * Dependencies: ./text.js, ./json.js, ./sarif.js, ./junit.js, ./github.js, ../../errors.js.
 */
import { OrcError } from '../../errors.js';
import type { Report } from '../types.js';
import { formatGithub } from './github.js';
import { formatJson } from './json.js';
import { formatJunit } from './junit.js';
import { formatSarif } from './sarif.js';
import { formatText, type Paint } from './text.js';

export const FORMATS = ['text', 'json', 'sarif', 'junit', 'github'] as const;
export type FormatName = (typeof FORMATS)[number];

export interface FormatOptions {
  paint?: Paint;
  exitCode?: number;
  verbose?: boolean;
  /** JUnit: WARN counts as failure. */
  strict?: boolean;
}

export function formatReport(name: FormatName, report: Report, options: FormatOptions = {}): string {
  switch (name) {
    case 'text':
      return formatText(report, options);
    case 'json':
      return formatJson(report);
    case 'sarif':
      return formatSarif(report);
    case 'junit':
      return formatJunit(report, { strict: options.strict });
    case 'github':
      return formatGithub(report);
  }
}

export interface FormatSpec {
  format: FormatName;
  /** Output file; undefined = stdout. */
  file?: string;
}

export function parseFormatSpec(spec: string): FormatSpec {
  const eq = spec.indexOf('=');
  const name = (eq < 0 ? spec : spec.slice(0, eq)).trim().toLowerCase();
  const file = eq < 0 ? undefined : spec.slice(eq + 1).trim();
  if (!FORMATS.includes(name as FormatName)) {
    throw new OrcError('USAGE', `unknown format "${name}"`, { fix: `use one of ${FORMATS.join(', ')}, optionally with =FILE (e.g. sarif=orc-state.sarif)` });
  }
  if (file === '') throw new OrcError('USAGE', `--format ${spec}: the file name after "=" is empty`, { fix: `write --format ${name}=FILE or just --format ${name}` });
  return file === undefined ? { format: name as FormatName } : { format: name as FormatName, file };
}
