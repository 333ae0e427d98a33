// Drop-in replacements for the PowerShell compliance scripts: translate their
// parameters (-StateDir, -TasksDir, -DocsDir, -SchemaVersion,
// -RequirementFilter, -JsonOutput, -VerboseOutput, and PowerShell's common
// parameters such as -Verbose) into `orc-state validate` flags and run the
// same command in-process, so verdicts and exit codes are identical. They run
// from a checkout or from node_modules/orc-state/scripts/validate/.
// Usage (via the wrappers beside this file): validate_<name> [-Param value ...]
// Public API (stable): the five wrapper scripts; this module is internal.
// Integration points: dist/src/cli/main.js (build first: npm run build).
// Dependencies: node:path, node:fs, node:url; orc-state's dist/.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, '..', '..');

/** Which orc-state selection each PowerShell script maps to. */
export const SCRIPTS = {
  validate_state_obs: { section: 'state' },
  validate_task_defs: { section: 'tasks' },
  validate_dag_structure: { section: 'dag' },
  validate_failure_modes: { section: 'failure-modes' },
  validate_compliance: { section: null },
};

/** The upstream scripts' parameters, then orc-state's extras. */
const SCRIPT_PARAMS = ['StateDir', 'TasksDir', 'DocsDir', 'SchemaVersion', 'RequirementFilter', 'JsonOutput', 'VerboseOutput', 'Root', 'Format', 'Profile', 'Strict', 'Fix'];
/** PowerShell's common parameters (every advanced script takes them) with their built-in aliases. */
const COMMON = {
  Verbose: ['vb'],
  Debug: ['db'],
  ErrorAction: ['ea'],
  WarningAction: ['wa'],
  InformationAction: ['infa'],
  ProgressAction: ['proga'],
  ErrorVariable: ['ev'],
  WarningVariable: ['wv'],
  InformationVariable: ['iv'],
  OutVariable: ['ov'],
  OutBuffer: ['ob'],
  PipelineVariable: ['pv'],
};
const SWITCHES = new Set(['JsonOutput', 'VerboseOutput', 'Strict', 'Fix', 'Verbose', 'Debug']);
const ACTION_VALUES = ['Break', 'Continue', 'Ignore', 'Inquire', 'SilentlyContinue', 'Stop', 'Suspend'];
const NAMES = [...SCRIPT_PARAMS, ...Object.keys(COMMON)];
const ALIASES = new Map(Object.entries(COMMON).flatMap(([name, aliases]) => aliases.map((a) => [a, name])));

class UsageError extends Error {}

/**
 * Resolve a parameter name as PowerShell does: case-insensitive; an exact
 * name or alias wins; otherwise a prefix that matches exactly one name.
 */
export function resolveName(raw) {
  const lower = raw.toLowerCase();
  const exact = NAMES.find((n) => n.toLowerCase() === lower) ?? ALIASES.get(lower);
  if (exact) return exact;
  const matches = NAMES.filter((n) => n.toLowerCase().startsWith(lower));
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) throw new UsageError(`parameter name -${raw} is ambiguous; possible matches: ${matches.map((m) => `-${m}`).join(' ')}`);
  throw new UsageError(`unknown parameter -${raw} (known: ${SCRIPT_PARAMS.map((p) => `-${p}`).join(' ')}, and PowerShell's common parameters such as -Verbose)`);
}

function parseBool(name, v) {
  if (/^(\$?true|1)$/i.test(v)) return true;
  if (/^(\$?false|0)$/i.test(v)) return false;
  throw new UsageError(`-${name}:${v}: a switch takes $true or $false`);
}

/**
 * Parse PowerShell-style arguments: `-Name value`, `-Name:value`, switches
 * `-Name` / `-Name:$true` / `-Name:$false`; names case-insensitive, unambiguous
 * prefixes and the common parameters' aliases accepted, as PowerShell binds them.
 */
export function parseParams(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--?([A-Za-z][A-Za-z0-9]*)(?::(.*))?$/s.exec(arg);
    if (!m) throw new UsageError(`unexpected argument "${arg}" (parameters: ${SCRIPT_PARAMS.map((p) => `-${p}`).join(' ')})`);
    const name = resolveName(m[1]);
    if (name in out) throw new UsageError(`-${name} is given more than once`);
    if (SWITCHES.has(name)) {
      out[name] = m[2] === undefined ? true : parseBool(name, m[2]);
      continue;
    }
    let value = m[2];
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`-${name} needs a value`);
    }
    if (/Action$/.test(name)) {
      const v = ACTION_VALUES.find((a) => a.toLowerCase() === String(value).toLowerCase());
      if (!v) throw new UsageError(`-${name} ${value}: use one of ${ACTION_VALUES.join(', ')}`);
      value = v;
    }
    if (name === 'OutBuffer' && !/^\d+$/.test(String(value))) throw new UsageError(`-OutBuffer ${value}: a whole number is expected`);
    out[name] = value;
  }
  return out;
}

function wildcardToRegExp(pattern) {
  const esc = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${esc}$`, 'i');
}

/** The `orc-state validate` argv for a script name and its PowerShell parameters. */
export async function translate(script, params, cwd = process.cwd()) {
  const spec = SCRIPTS[script];
  if (!spec) throw new UsageError(`unknown drop-in ${script}`);
  const args = ['validate'];
  let root = params.Root !== undefined ? resolve(cwd, params.Root) : undefined;
  const fromDir = (dir, expected, param) => {
    const abs = resolve(cwd, dir);
    if (basename(abs) !== expected) {
      throw new UsageError(`-${param} ${dir}: orc-state reads ${expected}/ at the repository root; pass the repository's ${expected} directory (or -Root DIR)`);
    }
    return dirname(abs);
  };
  for (const [param, expected] of [['TasksDir', 'tasks'], ['StateDir', '.state'], ['DocsDir', 'docs']]) {
    if (params[param] === undefined) continue;
    const r = fromDir(params[param], expected, param);
    if (root !== undefined && r !== root) throw new UsageError(`-${param} ${params[param]} is not in the same repository as ${root}`);
    root = r;
  }
  args.push('--root', root ?? cwd);
  if (spec.section) args.push('--section', spec.section);
  else args.push('--compliance');
  const { knownVersions } = await import(pathToFileURL(join(pkg, 'dist/src/schema/registry.js')).href);
  if (params.SchemaVersion !== undefined) {
    const known = knownVersions('task');
    if (!known.includes(params.SchemaVersion)) {
      throw new UsageError(`-SchemaVersion ${params.SchemaVersion} is not a task schema version orc-state knows (${known.join(', ')}); each file is validated against the version it declares`);
    }
  }
  if (params.RequirementFilter !== undefined && params.RequirementFilter !== '' && params.RequirementFilter !== '*') {
    const { discoverRules } = await import(pathToFileURL(join(pkg, 'dist/src/compliance/discover.js')).href);
    const { rules } = await discoverRules();
    const patterns = String(params.RequirementFilter).split(',').map((p) => p.trim()).filter(Boolean).map(wildcardToRegExp);
    const ids = rules
      .filter((d) => spec.section === null || d.rule.section === spec.section)
      .map((d) => d.rule.id)
      .filter((id) => patterns.some((re) => re.test(id)));
    if (ids.length === 0) throw new UsageError(`-RequirementFilter ${params.RequirementFilter} matches no requirement${spec.section ? ` of section ${spec.section}` : ''}`);
    args.push('--requirement', ids.join(','));
  }
  if (params.JsonOutput) args.push('--format', 'json');
  if (params.Format !== undefined) for (const f of String(params.Format).split(',')) args.push('--format', f.trim());
  // -Verbose / -Debug (PowerShell common parameters) show what -VerboseOutput shows; the other common
  // parameters steer PowerShell's own streams and variables and have nothing to change here.
  if (params.VerboseOutput || params.Verbose || params.Debug) args.push('--verbose');
  if (params.Profile !== undefined) args.push('--profile', String(params.Profile));
  if (params.Strict) args.push('--strict');
  if (params.Fix) args.push('--fix');
  return args;
}

export async function runDropIn(script, argv) {
  if (!existsSync(join(pkg, 'dist/src/cli/main.js'))) {
    process.stderr.write('orc-state is not built: run `npm run build` in ' + pkg + '\n');
    return 2;
  }
  let args;
  try {
    args = await translate(script, parseParams(argv));
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${script}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const { main } = await import(pathToFileURL(join(pkg, 'dist/src/cli/main.js')).href);
  return main(['node', 'orc-state', ...args]);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [script, ...rest] = process.argv.slice(2);
  process.exitCode = await runDropIn(script, rest);
}
