/**
 * The checks behind rules STATE-OBS-005/006 and OBS-001/002: derived files in
 * `.state/` against what `current.json` derives now.
 *
 * Public API (internal, for the rules and tests):
 *   - indexContentFindings(root, snapshot, severity): STATE-OBS-005 (present,
 *     valid, groups equal to a regeneration from current.json).
 *   - indexFreshness(root, snapshot): STATE-OBS-006 (source_last_seq and
 *     source_timestamp recorded and equal to the snapshot's) -> { findings,
 *     stale, present }.
 *   - metricsFindings(root, snapshot): OBS-001 (present, schema-valid, fresh,
 *     counts consistent with current.json).
 *   - exportFindings(root): OBS-002 (metrics.prom present, valid exposition
 *     text, equal to the rendering of metrics.json).
 * Integration points: src/compliance/rules/{STATE-OBS-005,STATE-OBS-006,OBS-001,OBS-002}.ts.
 * Dependencies: ../io/located-json.js, ../schema/registry.js, ./indices.js,
 * ./metrics.js, ./openmetrics.js.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorObject } from 'ajv/dist/2020.js';
import { readJsonFile, type JsonRead } from '../io/located-json.js';
import type { Finding, Snapshot } from '../model.js';
import { validate } from '../schema/registry.js';
import { INDEX_NAMES, INDEX_SCHEMA_VERSION, buildIndices, indexFileName, type IndexFile, type IndexName } from './indices.js';
import { METRICS_FILE, METRICS_PROM_FILE, METRICS_SCHEMA_VERSION, computeMetrics, type MetricsFile } from './metrics.js';
import { checkExposition, toOpenMetrics } from './openmetrics.js';
import { stateRel } from '../core/state-paths.js';

type FSev = Finding['severity'];
const MAX_BYTES = 256 * 1024 * 1024;
const REGEN = 'run `orc-state doctor --repair` (or `orc-state validate --fix`) to regenerate it from current.json';

function finding(requirement: string, severity: FSev, file: string, at: { line: number; column: number }, message: string, fix: string): Finding {
  return { requirement, severity, file, line: at.line, column: at.column, message, fix };
}

function schemaFindings(requirement: string, severity: FSev, file: string, read: Extract<JsonRead, { ok: true }>, kind: string, version: string, fix: string): Finding[] {
  const check = validate(kind, version, read.value);
  return check.errors.slice(0, 50).map((err: ErrorObject) => {
    const path = err.instancePath
      .split('/')
      .slice(1)
      .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
    const extra = err.keyword === 'additionalProperties' ? ` (${String((err.params as { additionalProperty?: string }).additionalProperty)})` : '';
    return finding(requirement, severity, file, read.locate(path), `${err.instancePath || '(root)'} ${err.message ?? 'is invalid'}${extra}`, fix);
  });
}

function reread(findings: Finding[], requirement: string, severity: FSev): Finding[] {
  return findings.map((f) => ({ ...f, requirement, severity: f.severity === 'notice' ? 'notice' : severity }));
}

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export function indexContentFindings(root: string, snapshot: Snapshot, severity: FSev = 'warning'): Finding[] {
  const req = 'STATE-OBS-005';
  const built = buildIndices(snapshot);
  const out: Finding[] = [];
  for (const name of INDEX_NAMES) {
    const file = stateRel(indexFileName(name));
    const abs = join(root, file);
    if (!existsSync(abs)) {
      out.push(finding(req, severity, file, { line: 1, column: 1 }, `${file} is missing`, REGEN));
      continue;
    }
    const read = readJsonFile(abs, file, { requirement: req, maxBytes: MAX_BYTES });
    if (!read.ok) {
      out.push(...reread(read.findings, req, severity));
      continue;
    }
    const schema = schemaFindings(req, severity, file, read, 'index', INDEX_SCHEMA_VERSION, REGEN);
    if (schema.length) {
      out.push(...schema);
      continue;
    }
    const idx = read.value as IndexFile;
    if (idx.index !== name) {
      out.push(finding(req, severity, file, read.locate(['index']), `"index" is ${idx.index} but the file is ${indexFileName(name)}`, REGEN));
      continue;
    }
    const want = built[name].groups;
    for (const key of Object.keys(want)) {
      const have = idx.groups[key];
      const expected = want[key] as string[];
      if (!have) {
        if (expected.length) out.push(finding(req, severity, file, read.locate(['groups']), `group "${key}" is missing; current.json gives ${expected.length} task(s): ${expected.slice(0, 5).join(', ')}${expected.length > 5 ? ', ...' : ''}`, REGEN));
        continue;
      }
      const sorted = [...have].sort();
      if (!same(sorted, expected)) {
        const extra = sorted.filter((x) => !expected.includes(x));
        const missing = expected.filter((x) => !sorted.includes(x));
        out.push(finding(req, severity, file, read.locate(['groups', key]), `group "${key}" differs from current.json${extra.length ? `; not there: ${extra.join(', ')}` : ''}${missing.length ? `; missing: ${missing.join(', ')}` : ''}`, REGEN));
      }
    }
    for (const key of Object.keys(idx.groups)) {
      if (!(key in want) && (idx.groups[key] ?? []).length) {
        out.push(finding(req, severity, file, read.locate(['groups', key], { key: true }), `group "${key}" lists ${(idx.groups[key] ?? []).join(', ')} but current.json has no such group`, REGEN));
      }
    }
  }
  return out;
}

export interface FreshnessResult {
  findings: Finding[];
  stale: IndexName[];
  present: IndexName[];
}

export function indexFreshness(root: string, snapshot: Snapshot): FreshnessResult {
  const req = 'STATE-OBS-006';
  const out: FreshnessResult = { findings: [], stale: [], present: [] };
  for (const name of INDEX_NAMES) {
    const file = stateRel(indexFileName(name));
    const abs = join(root, file);
    if (!existsSync(abs)) continue;
    out.present.push(name);
    const read = readJsonFile(abs, file, { requirement: req, maxBytes: MAX_BYTES });
    if (!read.ok) {
      out.findings.push(...reread(read.findings, req, 'error'));
      out.stale.push(name);
      continue;
    }
    const v = read.value as Partial<IndexFile> | null;
    if (!v || typeof v !== 'object' || Array.isArray(v)) {
      out.findings.push(finding(req, 'error', file, { line: 1, column: 1 }, `${file} is not an index object`, REGEN));
      out.stale.push(name);
      continue;
    }
    if (!Number.isInteger(v.source_last_seq) || typeof v.source_timestamp !== 'string') {
      out.findings.push(finding(req, 'error', file, read.locate([]), `${file} does not record the snapshot it was built from (source_last_seq, source_timestamp)`, REGEN));
      out.stale.push(name);
      continue;
    }
    if (v.source_last_seq !== snapshot.last_seq || v.source_timestamp !== snapshot.timestamp) {
      out.findings.push(
        finding(
          req,
          'error',
          file,
          read.locate(['source_last_seq']),
          `${file} is stale: built from last_seq ${v.source_last_seq} (${v.source_timestamp}), current.json is at last_seq ${snapshot.last_seq} (${snapshot.timestamp}); readers must fall back to current.json`,
          REGEN,
        ),
      );
      out.stale.push(name);
    }
  }
  return out;
}

const SNAPSHOT_FIELDS: Array<[section: 'workstreams' | 'tasks' | 'workers', key: string]> = [
  ['workstreams', 'total'],
  ['workstreams', 'active'],
  ['workstreams', 'by_status'],
  ['tasks', 'total'],
  ['tasks', 'pending'],
  ['tasks', 'queued'],
  ['tasks', 'running'],
  ['tasks', 'validating'],
  ['tasks', 'retrying'],
  ['tasks', 'completed'],
  ['tasks', 'failed'],
  ['tasks', 'cancelled'],
  ['tasks', 'avg_duration_seconds'],
  ['workers', 'total'],
  ['workers', 'initializing'],
  ['workers', 'idle'],
  ['workers', 'busy'],
  ['workers', 'unresponsive'],
  ['workers', 'shutdown'],
  ['workers', 'avg_utilization'],
];

export function readMetricsFile(root: string, requirement: string): { file: string; read: JsonRead | null } {
  const file = stateRel(METRICS_FILE);
  const abs = join(root, file);
  if (!existsSync(abs)) return { file, read: null };
  return { file, read: readJsonFile(abs, file, { requirement, maxBytes: MAX_BYTES }) };
}

export function metricsFindings(root: string, snapshot: Snapshot): Finding[] {
  const req = 'OBS-001';
  const { file, read } = readMetricsFile(root, req);
  const fix = 'metrics.json is rewritten by the engine after every transition: run `orc-state sync` (or any transition) to refresh it';
  if (!read) return [finding(req, 'error', file, { line: 1, column: 1 }, `${file} is missing`, fix)];
  if (!read.ok) return reread(read.findings, req, 'error');
  const schema = schemaFindings(req, 'error', file, read, 'metrics', METRICS_SCHEMA_VERSION, fix);
  if (schema.length) return schema;
  const m = read.value as MetricsFile;
  if (m.source_last_seq !== snapshot.last_seq || m.source_timestamp !== snapshot.timestamp) {
    return [
      finding(req, 'error', file, read.locate(['source_last_seq']), `${file} was computed from last_seq ${m.source_last_seq}, but current.json is at last_seq ${snapshot.last_seq}: not refreshed after the last transition`, fix),
    ];
  }
  const expected = computeMetrics(snapshot, [], new Date(Date.parse(m.generated_at)));
  const out: Finding[] = [];
  for (const [section, key] of SNAPSHOT_FIELDS) {
    const have = (m[section] as unknown as Record<string, unknown>)[key];
    const want = (expected[section] as unknown as Record<string, unknown>)[key];
    if (JSON.stringify(have) !== JSON.stringify(want)) {
      out.push(finding(req, 'error', file, read.locate([section, key]), `${section}.${key} is ${JSON.stringify(have)} but current.json gives ${JSON.stringify(want)}`, fix));
    }
  }
  return out;
}

export function exportFindings(root: string): { findings: Finding[]; skip?: string } {
  const req = 'OBS-002';
  const { file: jsonFile, read } = readMetricsFile(root, req);
  if (!read || !read.ok || !validate('metrics', METRICS_SCHEMA_VERSION, read.value).valid) {
    return { findings: [], skip: `no valid ${jsonFile} to export (OBS-001 reports it)` };
  }
  const file = stateRel(METRICS_PROM_FILE);
  const fix = 'metrics.prom is written with metrics.json after every transition: run `orc-state sync` to rewrite both';
  const expected = toOpenMetrics(read.value as MetricsFile);
  const out: Finding[] = [];
  for (const p of checkExposition(expected)) {
    out.push(finding(req, 'error', jsonFile, { line: 1, column: 1 }, `the exposition rendered from ${jsonFile} is invalid at line ${p.line}: ${p.message}`, 'report a bug in orc-state: src/derive/openmetrics.ts'));
  }
  const abs = join(root, file);
  if (!existsSync(abs)) {
    out.push(finding(req, 'error', file, { line: 1, column: 1 }, `${file} is missing: metrics are not exported as Prometheus/OpenMetrics text`, fix));
    return { findings: out };
  }
  const text = readFileSync(abs, 'utf8');
  const problems = checkExposition(text);
  for (const p of problems) out.push(finding(req, 'error', file, { line: p.line, column: 1 }, p.message, fix));
  if (!problems.length && text !== expected) {
    const a = text.split('\n');
    const b = expected.split('\n');
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    out.push(finding(req, 'error', file, { line: i + 1, column: 1 }, `${file} does not match ${jsonFile} (first difference at line ${i + 1}: "${a[i] ?? ''}" instead of "${b[i] ?? ''}")`, fix));
  }
  return { findings: out };
}
