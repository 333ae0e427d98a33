/**
 * SARIF 2.1.0 for GitHub code scanning: one run, `tool.driver.rules[]` with
 * id, short/full description and help for every requirement in the report,
 * results with an explicit level, a repo-relative `/` URI under %SRCROOT%
 * (files of the installed package, wherever it is, under ORCSTATE_PACKAGE:
 * never an absolute node_modules path) and
 * a 1-based region; at most 25,000 results (a notification says when capped);
 * rules that could not be evaluated become tool execution notifications, and
 * so do requirements outside the gate profile (level note, "N/A", with the
 * reason; the rule's properties carry orc-state/status N/A).
 *
 * Public API (stable): formatSarif(report) → string, buildSarif(report) → object,
 * artifactLocation(file, root, pkg?), PACKAGE_BASE_ID, SARIF_MAX_RESULTS, SARIF_SCHEMA_URI.
 * Integration points: `orc-state validate --format sarif=FILE`, uploaded by
 * .github/workflows/compliance.yml (github/codeql-action/upload-sarif).
 * Validated against the official schema in tests/compliance-formatters.test.ts.
 * Dependencies: ../types.js, ../../paths.js, node:path.
 */
import type { Finding } from '../../model.js';
import { isAbsolute, posix } from 'node:path';
import { packageRoot } from '../../paths.js';
import type { Report, RequirementResult } from '../types.js';
import { PACKAGE_VERSION } from '../../core/versions.js';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
export const SARIF_MAX_RESULTS = 25_000;
const SPEC = 'specifications/content/orchestration/spec.md';

type SarifLevel = 'error' | 'warning' | 'note';

function levelOf(r: RequirementResult, f: Finding): SarifLevel {
  if (f.severity === 'notice') return 'note';
  if (f.severity === 'warning') return 'warning';
  return r.level === 'MUST' ? 'error' : 'warning';
}

function encode(path: string): string {
  return path
    .split('/')
    .map((part) => encodeURIComponent(part))
    .join('/');
}

/** The base id of files that belong to the installed orc-state package, not to the repository. */
export const PACKAGE_BASE_ID = 'ORCSTATE_PACKAGE';

/**
 * A relative URI and its base for a finding's file, wherever the package is
 * installed: repo files relative to %SRCROOT%; the package's own files (an
 * absolute path, a path outside the repo, or one under node_modules/orc-state/)
 * relative to ORCSTATE_PACKAGE. Never an absolute or `..` URI.
 */
export function artifactLocation(file: string, root: string, pkg: string = packageRoot()): { uri: string; uriBaseId: string } {
  let f = file.replace(/\\/g, '/').replace(/^\.\//, '');
  const r = root.replace(/\\/g, '/').replace(/\/+$/, '');
  const p = pkg.replace(/\\/g, '/').replace(/\/+$/, '');
  if (isAbsolute(f) || /^[A-Za-z]:\//.test(f)) {
    if (f.startsWith(`${r}/`)) f = f.slice(r.length + 1);
    else if (f.startsWith(`${p}/`)) return { uri: encode(f.slice(p.length + 1)), uriBaseId: PACKAGE_BASE_ID };
    else return { uri: encode(posix.basename(f)), uriBaseId: PACKAGE_BASE_ID };
  }
  const inPackage = /(^|\/)node_modules\/orc-state\/(.*)$/.exec(f);
  if (inPackage) return { uri: encode(inPackage[2]!), uriBaseId: PACKAGE_BASE_ID };
  const normal = posix.normalize(f);
  if (normal.startsWith('../') || normal === '..') {
    const abs = posix.join(r, normal);
    if (abs.startsWith(`${p}/`)) return { uri: encode(abs.slice(p.length + 1)), uriBaseId: PACKAGE_BASE_ID };
    return { uri: encode(posix.basename(normal)), uriBaseId: PACKAGE_BASE_ID };
  }
  return { uri: encode(normal), uriBaseId: '%SRCROOT%' };
}

export function buildSarif(report: Report): Record<string, unknown> {
  const rules = report.requirements.map((r) => ({
    id: r.id,
    name: r.id.replace(/[^A-Za-z0-9]/g, ''),
    shortDescription: { text: r.title },
    fullDescription: { text: `${r.level}: ${r.title} (${r.section} section of the orc-state requirement catalog).` },
    help: {
      text: `${r.id} (${r.level}): ${r.title}. See ${SPEC} for the requirement and run \`orc-state validate --requirement ${r.id}\` locally.`,
    },
    defaultConfiguration: { level: r.level === 'MUST' ? 'error' : 'warning' },
    properties: {
      tags: ['orc-state', r.section, r.level],
      ...(r.status === 'N/A' ? { 'orc-state/status': 'N/A', 'orc-state/reason': r.reason ?? 'not in the gate profile' } : {}),
      ...(r.not_in_profile ? { 'orc-state/partNotInProfile': r.not_in_profile } : {}),
    },
  }));
  const results: Record<string, unknown>[] = [];
  let total = 0;
  report.requirements.forEach((r, ruleIndex) => {
    for (const f of r.findings) {
      total++;
      if (results.length >= SARIF_MAX_RESULTS) continue;
      const region: Record<string, number> = { startLine: f.line, startColumn: f.column };
      if (f.endLine && f.endLine >= f.line) region.endLine = f.endLine;
      if (f.endColumn && f.endColumn >= 1 && (f.endLine ?? f.line) >= f.line) region.endColumn = f.endColumn;
      results.push({
        ruleId: r.id,
        ruleIndex,
        level: levelOf(r, f),
        message: { text: f.fix ? `${f.message}\nFix: ${f.fix}` : f.message },
        locations: [
          {
            physicalLocation: {
              artifactLocation: artifactLocation(f.file, report.root),
              region,
            },
          },
        ],
        partialFingerprints: { 'orcStateFinding/v1': fingerprint(`${r.id}|${f.file}|${f.message}`) },
      });
    }
  });
  const notifications: Record<string, unknown>[] = report.requirements
    .filter((r) => r.status === 'ERROR')
    .map((r) => ({
      level: 'error',
      message: { text: `${r.id} could not be evaluated: ${r.reason ?? 'unknown reason'}` },
      descriptor: { id: r.id },
    }));
  for (const r of report.requirements) {
    if (r.status !== 'N/A') continue;
    notifications.push({ level: 'note', message: { text: `${r.id} N/A: ${r.reason ?? 'not in the gate profile'}` }, descriptor: { id: r.id } });
  }
  if (total > results.length) {
    notifications.push({
      level: 'warning',
      message: { text: `${total - results.length} of ${total} results were left out (SARIF upload limit ${SARIF_MAX_RESULTS}); see the JSON or text report for all of them.` },
    });
  }
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'orc-state',
            informationUri: 'https://orc-state.dev/',
            semanticVersion: PACKAGE_VERSION,
            rules,
          },
        },
        invocations: [
          {
            executionSuccessful: report.summary.error === 0,
            ...(notifications.length ? { toolExecutionNotifications: notifications } : {}),
          },
        ],
        originalUriBaseIds: {
          [PACKAGE_BASE_ID]: { description: { text: 'Files of the installed orc-state package (its rules, drop-ins and schemas), not of the repository' } },
        },
        columnKind: 'utf16CodeUnits',
        results,
      },
    ],
  };
}

export function formatSarif(report: Report): string {
  return `${JSON.stringify(buildSarif(report), null, 2)}\n`;
}

/** A short stable hash (FNV-1a, 64-bit as hex) so code scanning can track a finding across runs. */
function fingerprint(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}
