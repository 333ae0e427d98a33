/**
 * Rule discovery: lists src/compliance/rules at run time (relative to this
 * module, so it works on .ts under vitest and on .js under dist/), imports
 * every rule module and validates its shape.
 *
 * Public API (stable): discoverRules(dir?, wanted?) → DiscoveredRules, DiscoveredRule,
 * RuleLoadProblem, rulesDir(), RuleFileFilter.
 * `wanted(id, section)` imports only the rule files whose catalog entry (the file
 * name is the requirement id) it accepts, so plain `validate` (tasks + registry)
 * does not load the modules of every other rule (xstate, yaml, graph code: ~100 ms);
 * a file whose name is not a catalog id is always imported (its problems stay visible).
 * Integration points: a rule is `src/compliance/rules/<ID>.ts` exporting
 * `export const rule: Rule` (or `export const rules: Rule[]` whose ids all
 * start with the file name's prefix); the runner and COMPLIANCE-001 use this.
 * A module that fails to import or has a bad shape becomes a RuleLoadProblem
 * (reported by the runner as status ERROR), never a crash.
 * Dependencies: node:fs, node:path, node:url, ./types.js, ./requirements.js.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SECTIONS, type Rule } from './types.js';
import { requirementInfo } from './requirements.js';

export interface DiscoveredRule {
  rule: Rule;
  /** The module's file name, e.g. `TASK-DEF-001.ts`. */
  file: string;
}

export interface RuleLoadProblem {
  /** The id the file name suggests (file name without extension). */
  id: string;
  file: string;
  message: string;
}

export interface DiscoveredRules {
  rules: DiscoveredRule[];
  problems: RuleLoadProblem[];
}

const RULE_FILE = /^([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*(?:\.\.[0-9]+)?)\.(ts|js|mts|mjs)$/;

export function rulesDir(): string {
  return fileURLToPath(new URL('./rules/', import.meta.url));
}

/** The rule module files in `dir` (declaration files and maps excluded), sorted. */
export function listRuleFiles(dir: string = rulesDir()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => !n.endsWith('.d.ts') && RULE_FILE.test(n)).sort();
}

/** Which rule files to import, judged by the catalog entry their name is (id, its section). */
export type RuleFileFilter = (id: string, section: string) => boolean;

const cache = new Map<string, Promise<DiscoveredRules>>();
type Imported = { file: string; mod: Record<string, unknown> } | { file: string; error: string };
const imported = new Map<string, Promise<Imported>>();

/** Import and validate every rule module (memoised per directory), or only those `wanted` accepts. */
export function discoverRules(dir: string = rulesDir(), wanted?: RuleFileFilter): Promise<DiscoveredRules> {
  if (wanted) return load(dir, wanted);
  let pending = cache.get(dir);
  if (!pending) {
    pending = load(dir);
    cache.set(dir, pending);
  }
  return pending;
}

function importRule(dir: string, file: string): Promise<Imported> {
  const href = pathToFileURL(join(dir, file)).href;
  let pending = imported.get(href);
  if (!pending) {
    pending = import(href).then(
      (mod: Record<string, unknown>) => ({ file, mod }),
      (error: unknown) => ({ file, error: error instanceof Error ? error.message : String(error) }),
    );
    imported.set(href, pending);
  }
  return pending;
}

async function load(dir: string, wanted?: RuleFileFilter): Promise<DiscoveredRules> {
  const files = listRuleFiles(dir).filter((file) => {
    if (!wanted) return true;
    const info = requirementInfo(file.replace(/\.(ts|js|mts|mjs)$/, ''));
    return info === undefined || wanted(info.id, info.section);
  });
  const rules: DiscoveredRule[] = [];
  const problems: RuleLoadProblem[] = [];
  const modules = await Promise.all(files.map((file) => importRule(dir, file)));
  const seen = new Map<string, string>();
  for (const entry of modules) {
    const base = entry.file.replace(/\.(ts|js|mts|mjs)$/, '');
    if ('error' in entry) {
      problems.push({ id: base, file: entry.file, message: `rule module failed to load: ${entry.error}` });
      continue;
    }
    const exported = entry.mod.rules ?? (entry.mod.rule === undefined ? undefined : [entry.mod.rule]);
    if (!Array.isArray(exported) || exported.length === 0) {
      problems.push({ id: base, file: entry.file, message: 'rule module exports neither `rule` nor a non-empty `rules` array' });
      continue;
    }
    for (const candidate of exported) {
      const problem = shapeProblem(candidate, base, entry.mod.rules !== undefined);
      if (problem) {
        problems.push({ id: typeof candidate?.id === 'string' ? candidate.id : base, file: entry.file, message: problem });
        continue;
      }
      const rule = candidate as Rule;
      const previous = seen.get(rule.id);
      if (previous) {
        problems.push({ id: rule.id, file: entry.file, message: `requirement ${rule.id} is implemented twice (${previous} and ${entry.file})` });
        continue;
      }
      seen.set(rule.id, entry.file);
      rules.push({ rule, file: entry.file });
    }
  }
  rules.sort((a, b) => compareIds(a.rule.id, b.rule.id));
  return { rules, problems };
}

function shapeProblem(candidate: unknown, base: string, fromArray: boolean): string | undefined {
  if (!candidate || typeof candidate !== 'object') return 'exported rule is not an object';
  const r = candidate as Partial<Rule>;
  if (typeof r.id !== 'string' || r.id === '') return 'rule has no string `id`';
  if (fromArray) {
    const prefix = base.split('..')[0]!.replace(/-[0-9]+$/, '');
    if (!r.id.startsWith(prefix)) return `rule id ${r.id} does not belong in file ${base} (ids must start with ${prefix})`;
  } else if (r.id !== base) {
    return `rule id ${r.id} does not match its file name ${base} (rename the file or the id)`;
  }
  if (r.level !== 'MUST' && r.level !== 'SHOULD') return `rule ${r.id}: level must be MUST or SHOULD, got ${JSON.stringify(r.level)}`;
  if (!SECTIONS.includes(r.section as never)) return `rule ${r.id}: unknown section ${JSON.stringify(r.section)} (known: ${SECTIONS.join(', ')})`;
  if (typeof r.title !== 'string' || r.title.trim() === '') return `rule ${r.id}: title must be a non-empty string`;
  if (typeof r.check !== 'function') return `rule ${r.id}: check must be a function`;
  const info = requirementInfo(r.id);
  if (!info) return `rule ${r.id}: not a requirement id of the catalog (src/compliance/requirements.ts)`;
  if (info.level !== r.level) return `rule ${r.id}: level ${r.level} differs from the catalog's ${info.level}`;
  if (info.section !== r.section) return `rule ${r.id}: section ${r.section} differs from the catalog's ${info.section}`;
  return undefined;
}

/** Sort ids by prefix, then numerically by their trailing number. */
export function compareIds(a: string, b: string): number {
  const ma = /^(.*?)-?(\d+)$/.exec(a);
  const mb = /^(.*?)-?(\d+)$/.exec(b);
  if (ma && mb && ma[1] === mb[1]) return Number(ma[2]) - Number(mb[2]);
  return a < b ? -1 : a > b ? 1 : 0;
}
