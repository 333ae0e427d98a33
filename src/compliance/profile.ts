/**
 * Gate profiles: which requirements apply in a repository.
 *
 * `runtime` (the default, every repo): state, tasks, DAG and plans,
 * registries, the log's audit, metrics and worker outputs, i.e. what the
 * engine writes and reads. `full`: runtime plus the document requirements
 * (EXEC-DOC, ERR-FM, the SM-DEF documents, the document parts of AUDIT-002
 * and SCHEMA-VER-002, COMPLIANCE-001, MOD-IDX-001). A repository opts into
 * `full` in orc-state.config.json (`"profile": "full"`) or per run with
 * `orc-state validate --profile full`. A requirement outside the profile is
 * reported with status N/A and a reason, never PASS or FAIL.
 *
 * The same file configures MOD-IDX-001 (`"module_index"`): which modules
 * carry a header (globs), in which comment style, and optionally which file
 * of that repo shows the shape. Without it MOD-IDX-001 does not apply.
 *
 * Public API (stable): PROFILES, Profile, GateConfig, ModuleIndexConfig,
 * HEADER_STYLES, HeaderStyle, loadGateConfig(root), resolveProfile(root, flag),
 * GATE_CONFIG_KEYS, notInProfileReason(ruleId, profile, source).
 * Integration points: the compliance runner (src/compliance/runner.ts),
 * `orc-state validate --profile`, rule MOD-IDX-001; src/config.ts treats
 * GATE_CONFIG_KEYS as known settings.
 * Dependencies: ../io/located-json.js, ../errors.js, ../model.js, node:fs, node:path.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { OrcError } from '../errors.js';
import { readJsonFile, type Locate } from '../io/located-json.js';

export const PROFILES = ['runtime', 'full'] as const;
export type Profile = (typeof PROFILES)[number];

/** Comment styles a module header may use. */
export const HEADER_STYLES = ['jsdoc', 'block', 'line', 'hash', 'docstring'] as const;
export type HeaderStyle = (typeof HEADER_STYLES)[number];

export interface ModuleIndexConfig {
  /** Globs (picomatch, repo-relative, `/`) of the modules that must open with a header. */
  include: string[];
  /** Globs left out (e.g. generated code, tests). */
  exclude: string[];
  /** How the header is written: jsdoc `/** … *\/`, block `/* … *\/`, line `//`, hash `#`, docstring `"""`. */
  style: HeaderStyle;
  /** A repo file whose header shows the expected shape (named in fixes when set). */
  example?: string;
}

export interface GateConfig {
  profile: Profile;
  /** Where the profile came from. */
  source: 'default' | 'config' | 'flag';
  moduleIndex?: ModuleIndexConfig;
}

const CONFIG_FILE = 'orc-state.config.json';
/** Settings of orc-state.config.json read here (src/config.ts must not call them unknown). */
export const GATE_CONFIG_KEYS = ['profile', 'module_index'] as const;

function bad(message: string, at: { line: number; column: number }, fix: string): OrcError {
  return new OrcError('USAGE', message, { location: { file: CONFIG_FILE, line: at.line, column: at.column }, fix });
}

function stringList(value: unknown, key: string, locate: Locate, path: Array<string | number>): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string' || s.trim() === '')) {
    throw bad(`"module_index.${key}" must be a non-empty list of glob strings, got ${JSON.stringify(value)}`, locate(path), `write e.g. "${key}": ["src/**/*.ts"]`);
  }
  return list as string[];
}

function parseModuleIndex(value: unknown, locate: Locate): ModuleIndexConfig {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw bad(`"module_index" must be an object, got ${JSON.stringify(value)}`, locate(['module_index']), 'write e.g. "module_index": { "include": ["src/**/*.ts"], "style": "jsdoc" }');
  }
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!['include', 'exclude', 'style', 'example'].includes(key)) {
      throw bad(`unknown "module_index" setting "${key}"`, locate(['module_index', key], { key: true }), 'known settings: include, exclude, style, example');
    }
  }
  if (v.include === undefined) throw bad('"module_index" needs "include" (the globs of the modules that carry a header)', locate(['module_index'], { key: true }), 'add "include": ["src/**/*.ts"]');
  const include = stringList(v.include, 'include', locate, ['module_index', 'include']);
  const exclude = v.exclude === undefined ? [] : stringList(v.exclude, 'exclude', locate, ['module_index', 'exclude']);
  const style = v.style ?? 'jsdoc';
  if (typeof style !== 'string' || !HEADER_STYLES.includes(style as HeaderStyle)) {
    throw bad(`"module_index.style" must be one of ${HEADER_STYLES.join(', ')}, got ${JSON.stringify(style)}`, locate(['module_index', 'style']), `set "style" to one of ${HEADER_STYLES.join(', ')}`);
  }
  const out: ModuleIndexConfig = { include, exclude, style: style as HeaderStyle };
  if (v.example !== undefined) {
    if (typeof v.example !== 'string' || v.example.trim() === '') {
      throw bad('"module_index.example" must be a repo-relative file path', locate(['module_index', 'example']), 'name a module whose header shows the expected shape, or remove "example"');
    }
    out.example = v.example;
  }
  return out;
}

/** Read the gate settings of orc-state.config.json. Bad values are usage errors (exit 2) located in the file. */
export function loadGateConfig(root: string): GateConfig {
  const abs = join(root, CONFIG_FILE);
  if (!existsSync(abs)) return { profile: 'runtime', source: 'default' };
  const read = readJsonFile(abs, CONFIG_FILE, { requirement: 'COMPLIANCE-001', maxBytes: 64 * 1024 });
  // A config that does not parse is reported by the settings loader (src/config.ts); the gate uses the defaults.
  if (!read.ok || read.value === null || typeof read.value !== 'object' || Array.isArray(read.value)) return { profile: 'runtime', source: 'default' };
  const value = read.value as Record<string, unknown>;
  const out: GateConfig = { profile: 'runtime', source: 'default' };
  if (value.profile !== undefined) {
    if (typeof value.profile !== 'string' || !PROFILES.includes(value.profile as Profile)) {
      throw bad(`"profile" must be one of ${PROFILES.join(', ')}, got ${JSON.stringify(value.profile)}`, read.locate(['profile']), `set "profile": "full" to check the documents too, or remove it (default: runtime)`);
    }
    out.profile = value.profile as Profile;
    out.source = 'config';
  }
  if (value.module_index !== undefined) out.moduleIndex = parseModuleIndex(value.module_index, read.locate);
  return out;
}

/** The config's gate settings with `--profile` (when given) taking precedence. */
export function resolveProfile(root: string, flag?: string): GateConfig {
  const config = loadGateConfig(root);
  if (flag === undefined) return config;
  const p = flag.trim().toLowerCase();
  if (!PROFILES.includes(p as Profile)) {
    throw new OrcError('USAGE', `unknown profile "${flag}"`, { fix: `use --profile ${PROFILES.join(' or --profile ')}` });
  }
  return { ...config, profile: p as Profile, source: 'flag' };
}

/** Why a document requirement (or part) is N/A in this run. */
export function notInProfileReason(what: string, profile: Profile, source: GateConfig['source']): string {
  const from = source === 'flag' ? '--profile' : source === 'config' ? CONFIG_FILE : 'default';
  return `${what}: not in profile ${profile} (${from}); checked with --profile full or "profile": "full" in ${CONFIG_FILE}`;
}
