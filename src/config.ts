/**
 * The repository's optional configuration file `orc-state.config.json`.
 *
 * Public API:
 *   - loadConfig(root): LoadedConfig          (stable) never throws on bad content
 *   - DEFAULT_CONFIG, CONFIG_FILE, OrcConfig  (stable)
 * Fields (all optional; unknown fields are reported as notices and ignored):
 *   - max_parallelism (integer >= 1, default 4): tasks that may run at the
 *     same time; execution plans split a stage above it.
 *   - metrics_interval_seconds (integer 1..60, default 60): how often a
 *     long-running process (`orc-state watch`) refreshes .state/metrics.json.
 *   - watch_debounce_ms (integer 10..5000, default 150): per-file debounce of
 *     `orc-state watch`.
 * The compliance gate's settings ("profile", "module_index") live in the same
 * file and are read by src/compliance/profile.ts.
 * Problems become located findings (requirement DAG-VIEW-003, whose plans the
 * file shapes) and the defaults are used for the bad field.
 * Integration points: src/graph/files.ts (plans), `orc-state plan|ready|watch`.
 * Dependencies: ./io/located-json.js, ./compliance/profile.js (GATE_CONFIG_KEYS), node:fs, node:path.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from './model.js';
import { readJsonFile } from './io/located-json.js';
import { GATE_CONFIG_KEYS } from './compliance/profile.js';

export const CONFIG_FILE = 'orc-state.config.json';

export interface OrcConfig {
  max_parallelism: number;
  metrics_interval_seconds: number;
  watch_debounce_ms: number;
}

export const DEFAULT_CONFIG: Readonly<OrcConfig> = Object.freeze({
  max_parallelism: 4,
  metrics_interval_seconds: 60,
  watch_debounce_ms: 150,
});

export type LoadedConfig = OrcConfig & {
  /** Repo-relative path of the file read, or null when there is none. */
  file: string | null;
  findings: Finding[];
};

const FIELDS: Record<keyof OrcConfig, { min: number; max: number; what: string }> = {
  max_parallelism: { min: 1, max: 100_000, what: 'how many tasks may run at the same time' },
  metrics_interval_seconds: { min: 1, max: 60, what: 'seconds between metrics refreshes (OBS-001 needs at most 60)' },
  watch_debounce_ms: { min: 10, max: 5000, what: 'per-file debounce of `orc-state watch` in milliseconds' },
};

export function loadConfig(root: string): LoadedConfig {
  const result: LoadedConfig = { ...DEFAULT_CONFIG, file: null, findings: [] };
  const abs = join(root, CONFIG_FILE);
  if (!existsSync(abs)) return result;
  result.file = CONFIG_FILE;
  const read = readJsonFile(abs, CONFIG_FILE, { requirement: 'DAG-VIEW-003', maxBytes: 64 * 1024 });
  if (!read.ok) {
    result.findings.push(...read.findings);
    return result;
  }
  result.findings.push(...read.notices);
  const value = read.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    result.findings.push({
      requirement: 'DAG-VIEW-003',
      severity: 'error',
      file: CONFIG_FILE,
      line: 1,
      column: 1,
      message: `${CONFIG_FILE} must hold a JSON object, e.g. { "max_parallelism": 4 }; the defaults are used`,
      fix: `replace the content with an object such as { "max_parallelism": 4 }`,
    });
    return result;
  }
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    if (key === '$schema' || (GATE_CONFIG_KEYS as readonly string[]).includes(key)) continue;
    const spec = FIELDS[key as keyof OrcConfig];
    if (!spec) {
      const at = read.locate([key], { key: true });
      result.findings.push({
        requirement: 'DAG-VIEW-003',
        severity: 'notice',
        file: CONFIG_FILE,
        line: at.line,
        column: at.column,
        message: `unknown setting "${key}" is ignored (known: ${Object.keys(FIELDS).join(', ')})`,
        fix: `remove "${key}" or correct its spelling`,
      });
      continue;
    }
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < spec.min || raw > spec.max) {
      const at = read.locate([key]);
      result.findings.push({
        requirement: 'DAG-VIEW-003',
        severity: 'error',
        file: CONFIG_FILE,
        line: at.line,
        column: at.column,
        message: `"${key}" (${spec.what}) must be an integer from ${spec.min} to ${spec.max}, got ${JSON.stringify(raw)}; the default ${DEFAULT_CONFIG[key as keyof OrcConfig]} is used`,
        fix: `set "${key}" to an integer such as ${DEFAULT_CONFIG[key as keyof OrcConfig]}`,
      });
      continue;
    }
    result[key as keyof OrcConfig] = raw;
  }
  return result;
}
