// Drop-in replacements for the PowerShell compliance scripts: translate their
// parameters (-TasksDir, -StateDir, -SchemaVersion, -RequirementFilter,
// -JsonOutput, -VerboseOutput) into `orc-state validate` flags and run the
// same command in-process, so verdicts and exit codes are identical.
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

const PARAMS = new Map(
  ['TasksDir', 'StateDir', 'SchemaVersion', 'RequirementFilter', 'JsonOutput', 'VerboseOutput', 'Root', 'Format', 'Strict', 'Fix'].map((p) => [p.toLowerCase(), p]),
);
const SWITCHES = new Set(['JsonOutput', 'VerboseOutput', 'Strict', 'Fix']);

class UsageError extends Error {}

/** Parse PowerShell-style arguments: `-Name value`, `-Name:value`, switches `-Name` / `-Name:$false`; names case-insensitive. */
export function parseParams(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--?([A-Za-z]+)(?::(.*))?$/.exec(arg);
    if (!m) throw new UsageError(`unexpected argument "${arg}" (parameters: ${[...PARAMS.values()].map((p) => `-${p}`).join(' ')})`);
    const name = PARAMS.get(m[1].toLowerCase());
    if (!name) throw new UsageError(`unknown parameter -${m[1]} (known: ${[...PARAMS.values()].map((p) => `-${p}`).join(' ')})`);
    if (SWITCHES.has(name)) {
      const v = m[2];
      out[name] = v === undefined ? true : !/^(\$?false|0|no)$/i.test(v);
      continue;
    }
    let value = m[2];
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`-${name} needs a value`);
    }
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
  for (const [param, expected] of [['TasksDir', 'tasks'], ['StateDir', '.state']]) {
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
  if (params.VerboseOutput) args.push('--verbose');
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
