/**
 * Load every task definition under tasks/ once, validate it, and check the
 * files against each other. All problems come back as located findings.
 *
 * Public API (stable):
 *   loadTasks(root, options?) → TaskSet       every `tasks/**.json` read once (tasks/.backups and dot-dirs ignored;
 *                                              options.texts 'on-demand': clean files' texts re-read only when asked for;
 *                                              options.definitions 'on-demand': clean files keep only their TaskSummary)
 *   loadTaskFile(root, relPath) → { task?, findings }   one file (used by watch)
 *   crossCheckTasks(root, tasks, options?) → Finding[]  ids/dependencies/blocks/files across the set
 *   expectedBlocks(tasks) → Map<id, sorted ids that depend on it>  (the --fix repair itself lives in src/compliance/fix, D)
 *   summaryOf(loaded) → TaskSummary (what the cross-file and registry checks read; from ./task-summary.ts)
 *   LoadedTask, TaskSet, LoadTasksOptions, TaskSummary, TASK_REQUIREMENTS
 * What a file may leave out or add (schema_url, context_requirements and
 * validation_rules in 2.0.0, unknown fields: warnings) is decided by
 * ./task-forms.ts, shared with migrate.
 * Checks: TASK-DEF-002 (schema per file's schema_version: 2.0.0, or 1.0.0
 * upgraded in memory with a notice; anything else refused naming the known
 * versions; dependencies exist; `blocks` is the exact inverse of
 * `dependencies`; required/optional files exist and stay inside the repo),
 * TASK-DEF-001 (tasks/{workstream_id}/{task_id}.json agreement, ids unique
 * across the repo, safe ids, symlinks that leave the repo).
 * Tasks with schema errors are left out of `tasks` (their ids are kept in
 * `invalidIds` so other files naming them do not get a second, misleading finding).
 * Integration points: compliance rules (ctx.once('tasks', () => loadTasks(root))),
 * src/graph (C), src/engine sync (B2), watch.
 * Dependencies: node:fs, node:path, ../io/located-json.js, ../io/json-scan.js (locatePath, for texts read on demand), ../schema/registry.js,
 * ../migrate/chain.js (in-memory upgrade through E's chain of A's steps), ./schema-findings.js, ./task-forms.js, ./task-summary.js, ../model.js, ../errors.js.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { readJsonFile, type JsonReadOptions, type Locate } from '../io/located-json.js';
import { locatePath } from '../io/json-scan.js';
import type { Finding, TaskDefinition } from '../model.js';
import { OrcError } from '../errors.js';
import { TASK_ID_PATTERN } from '../model.js';
import { upgradeInMemory } from '../migrate/chain.js';
import { getValidator, knownVersions } from '../schema/registry.js';
import { closest } from './schema-findings.js';
import { checkTaskForm } from './task-forms.js';
import { summaryOf, type TaskSummary } from './task-summary.js';

export { summaryOf, type TaskSummary };

export const TASK_REQUIREMENTS: ReadonlySet<string> = new Set(['TASK-DEF-001', 'TASK-DEF-002']);

export interface LoadedTask {
  /** Always schema v2.0.0 in memory. */
  task: TaskDefinition;
  /** Repo-relative, '/' separators. */
  file: string;
  /** schema_version the file declares (e.g. "1.0.0" for a file upgraded in memory). */
  sourceVersion: string;
  text: string;
  locate: Locate;
}

export interface TaskSet {
  tasks: Map<string, LoadedTask>;
  byWorkstream: Map<string, LoadedTask[]>;
  findings: Finding[];
  filesRead: number;
  /** Ids declared by task files that failed validation (not in `tasks`). */
  invalidIds: Set<string>;
}

export interface LoadTasksOptions {
  /** Repo-relative tasks directory (default "tasks"). */
  tasksDir?: string;
  maxBytes?: number;
  maxDepth?: number;
  /**
   * 'kept' (default): every LoadedTask holds its text. 'on-demand': a file that loaded without any finding
   * drops its text once parsed and re-reads it the first time `text` or `locate` is asked for (one-shot
   * readers such as the compliance rules, which locate only the few files with findings: ~14 MB less kept
   * on 10,000 tasks, less GC); `text` is then a getter on the object's prototype.
   */
  texts?: 'kept' | 'on-demand';
  /**
   * 'kept' (default): every LoadedTask holds its whole parsed definition. 'on-demand' (implies texts 'on-demand'):
   * a file that loaded without any finding keeps only its TaskSummary (what the cross-file and registry checks
   * read, through summaryOf) and parses the file again the first time `task` is asked for. For readers that
   * never look further, such as plain `validate`: ~10,000 definitions not kept is ~30 ms less GC on 10,000 tasks.
   * If the file changed since it was checked, `task` throws (an OrcError naming the file) rather than hand out a
   * definition nobody validated.
   */
  definitions?: 'kept' | 'on-demand';
}

const F = (
  requirement: string,
  severity: Finding['severity'],
  file: string,
  at: { line: number; column: number },
  message: string,
  fix: string,
): Finding => ({ requirement, severity, file, line: at.line, column: at.column, message, fix });

const toPosix = (p: string): string => (sep === '/' ? p : p.split(sep).join('/'));

function isInside(realRoot: string, realPath: string): boolean {
  const rel = relative(realRoot, realPath);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

interface FileResult {
  task?: LoadedTask;
  declaredId?: string;
  findings: Finding[];
}

const majors = new Map<string, string>();
/** "2" of "2.1.0" (memoised: a handful of versions, asked once per file). */
function majorOf(version: string): string {
  let m = majors.get(version);
  if (m === undefined) majors.set(version, (m = version.split('.')[0] ?? version));
  return m;
}

/**
 * A clean file's LoadedTask without its text (texts 'on-demand'), and without its definition too when only
 * its summary is kept (definitions 'on-demand'). The text is read again (once) when `text` or `locate` is
 * first used: the file loaded without a finding, so it is valid UTF-8 without a BOM and its text is what
 * readFileSync decodes; if it can no longer be read, `text` is '' and locations are 1:1. The definition is
 * parsed again when `task` is first used, and must still be the one that was checked.
 * One class with plain fields and getters on the prototype: an object literal with a getter costs ~1 µs to
 * create, and a derived class with private fields ~2 µs (10,000 of them: 20 ms), where this costs what a
 * plain literal does; 10,000 kept tasks hold no closure or path string each.
 */
class OnDemandTask implements LoadedTask {
  private definition: TaskDefinition | undefined;
  private readText: string | undefined;
  private locator: Locate | undefined;
  constructor(
    definition: TaskDefinition | undefined,
    /** Set when only the summary was kept (see summaryOf). */
    readonly summary: TaskSummary | undefined,
    readonly file: string,
    readonly sourceVersion: string,
    /** The repo root the file was read under (shared by every task: no per-task absolute path is kept). */
    readonly root: string,
  ) {
    this.definition = definition;
    this.readText = undefined;
    this.locator = undefined;
  }
  get text(): string {
    if (this.readText === undefined) {
      try {
        this.readText = readFileSync(`${this.root}/${this.file}`, 'utf8');
      } catch {
        this.readText = '';
      }
    }
    return this.readText;
  }
  /** Made on first use (most tasks are never located): a closure, so `const { locate } = lt` keeps working. */
  get locate(): Locate {
    return (this.locator ??= (path, opts) => {
      const t = this.text;
      return t === '' ? { line: 1, column: 1 } : locatePath(t, path, opts);
    });
  }
  get task(): TaskDefinition {
    return (this.definition ??= this.readDefinition(this.summary!));
  }
  private readDefinition(summary: TaskSummary): TaskDefinition {
    const read = readJsonFile(`${this.root}/${this.file}`, this.file);
    const value = read.ok ? read.value : undefined;
    const sv = value !== null && typeof value === 'object' ? (value as Record<string, unknown>).schema_version : undefined;
    const form = sv === this.sourceVersion && read.ok ? checkTaskForm(value as Record<string, unknown>, sv, { file: this.file, locate: read.locate }) : undefined;
    if (!read.ok || !form || !form.ok || form.findings.length > 0 || !sameSummary(summary, form.value as unknown as TaskDefinition)) {
      throw new OrcError('UNREADABLE_INPUT', `${this.file} changed while orc-state was checking the task files`, {
        location: { file: this.file },
        fix: 'run the command again',
      });
    }
    this.readText ??= read.text;
    return form.value as unknown as TaskDefinition;
  }
}

function summarise(t: TaskDefinition): TaskSummary {
  const s: TaskSummary = { task_id: t.task_id, workstream_id: t.workstream_id, dependencies: t.dependencies, blocks: t.blocks, execution: { working_directory: t.execution.working_directory } };
  if (t.worker_requirements !== undefined) s.worker_requirements = { capabilities: t.worker_requirements.capabilities };
  if (t.resource_requirements !== undefined) s.resource_requirements = t.resource_requirements;
  const cr = t.context_requirements;
  if (cr !== undefined) s.context_requirements = { required_files: cr.required_files, optional_files: cr.optional_files };
  return s;
}

const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean => {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/** The summary still describes the definition read again (ids, links, capabilities, context files, directory). */
function sameSummary(s: TaskSummary, t: TaskDefinition): boolean {
  return (
    s.task_id === t.task_id &&
    s.workstream_id === t.workstream_id &&
    sameList(s.dependencies, t.dependencies) &&
    sameList(s.blocks, t.blocks) &&
    sameList(s.worker_requirements?.capabilities, t.worker_requirements?.capabilities) &&
    sameList(s.context_requirements?.required_files, t.context_requirements?.required_files) &&
    sameList(s.context_requirements?.optional_files, t.context_requirements?.optional_files) &&
    s.execution.working_directory === t.execution.working_directory &&
    JSON.stringify(s.resource_requirements) === JSON.stringify(t.resource_requirements)
  );
}

/** Validate one parsed task file (no cross-file checks). */
function loadOne(root: string, rel: string, tasksDir: string, options: LoadTasksOptions, readOptions?: JsonReadOptions): FileResult {
  const read = readJsonFile(`${root}/${rel}`, rel, readOptions ?? { requirement: 'TASK-DEF-002', maxBytes: options.maxBytes, maxDepth: options.maxDepth });
  if (!read.ok) return { findings: read.findings };
  const findings: Finding[] = read.notices.length ? [...read.notices] : [];
  const value = read.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    findings.push(
      F('TASK-DEF-002', 'error', rel, read.locate([]), `a task file must hold one JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`, 'put exactly one task object { "task_id": ... } in the file (one task per file)'),
    );
    return { findings };
  }
  const obj = value as Record<string, unknown>;
  const declaredId = typeof obj.task_id === 'string' ? obj.task_id : undefined;
  const known = knownVersions('task');
  const sv = obj.schema_version;
  if (typeof sv !== 'string' || !known.includes(sv)) {
    const at = sv === undefined ? read.locate([]) : read.locate(['schema_version']);
    findings.push(
      F(
        'TASK-DEF-002',
        'error',
        rel,
        at,
        sv === undefined
          ? `no \`schema_version\`: cannot tell which task schema applies (known versions: ${known.join(', ')}); the file was not loaded`
          : `unknown schema_version ${JSON.stringify(sv)} (known versions: ${known.join(', ')}); the file was not loaded rather than guessed`,
        `set "schema_version": "${known[known.length - 1] ?? '2.0.0'}" if the file follows that schema, or upgrade orc-state if it was written by a newer version`,
      ),
    );
    return { declaredId, findings };
  }
  // What a file may leave out or add (schema_url, the v2 optional parts, unknown fields): ./task-forms.ts.
  const form = checkTaskForm(obj, sv, { file: rel, locate: read.locate, requirement: 'TASK-DEF-002', ownedRequirements: TASK_REQUIREMENTS });
  if (form.findings.length) findings.push(...form.findings);
  if (!form.ok) return { declaredId, findings };
  const checked = form.value;
  let task = checked as unknown as TaskDefinition;
  const current = known[known.length - 1] ?? '2.0.0';
  if (sv !== current && majorOf(sv) !== majorOf(current)) {
    // Older major: upgrade in memory through the migration chain (for 1.0.0: taskV1ToV2), never on disk.
    // An older minor of the same major (2.0.0 under 2.1.0) only lacks optional fields: used as it is.
    const up = upgradeInMemory('task', checked, sv);
    const currentValidator = getValidator('task', current);
    if (up.to !== current || (currentValidator && !currentValidator(up.value))) {
      findings.push(
        F('TASK-DEF-002', 'error', rel, read.locate(['schema_version']), `schema_version ${sv} file could not be upgraded to ${current} in memory${currentValidator?.errors?.[0] ? ` (${currentValidator.errors[0].instancePath || '/'} ${currentValidator.errors[0].message ?? ''})` : ''}`, `run \`orc-state migrate --to ${current} --dry-run\` to see what the upgrade needs`),
      );
      return { declaredId, findings };
    }
    task = up.value as unknown as TaskDefinition;
    const added = ['context_requirements', 'validation_rules'].filter((k) => !(k in obj) && k in up.value);
    findings.push(
      F('TASK-DEF-002', 'notice', rel, read.locate(['schema_version']), `schema_version ${sv} file upgraded to ${current} in memory (${up.steps.join(', ') || 'no steps'}${added.length ? `; defaults added for ${added.join(' and ')}` : ''})`, `run \`orc-state migrate --to ${current}\` to upgrade the file on disk`),
    );
  }
  // TASK-DEF-001: tasks/{workstream_id}/{task_id}.json (compared in place: names are cut out only for a finding)
  const slash = rel.lastIndexOf('/');
  const dirStart = rel.lastIndexOf('/', slash - 1);
  if (Math.max(dirStart, 0) === tasksDir.length && rel.startsWith(tasksDir)) {
    const id = task.task_id;
    const ws = task.workstream_id;
    const nameMatches = typeof id === 'string' && rel.length === slash + 1 + id.length + 5 && rel.startsWith(id, slash + 1) && rel.endsWith('.json');
    const dirMatches = typeof ws === 'string' && slash - dirStart - 1 === ws.length && rel.startsWith(ws, dirStart + 1);
    if (nameMatches && dirMatches) {
      const loaded =
        findings.length > 0
          ? { task, file: rel, sourceVersion: sv, text: read.text, locate: read.locate }
          : options.definitions === 'on-demand'
            ? new OnDemandTask(undefined, summarise(task), rel, sv, root)
            : options.texts === 'on-demand'
              ? new OnDemandTask(task, undefined, rel, sv, root)
              : { task, file: rel, sourceVersion: sv, text: read.text, locate: read.locate };
      return { declaredId, findings, task: loaded };
    }
    const fileName = rel.slice(slash + 1);
    const dirName = rel.slice(dirStart + 1, slash);
    if (fileName !== `${task.task_id}.json`) {
      findings.push(
        F('TASK-DEF-001', 'error', rel, read.locate(['task_id']), `file name "${fileName}" does not match task_id "${task.task_id}"`, `rename the file to ${tasksDir}/${dirName}/${task.task_id}.json, or set "task_id": "${fileName.replace(/\.json$/, '')}"`),
      );
    }
    if (dirName !== task.workstream_id) {
      findings.push(
        F('TASK-DEF-001', 'error', rel, read.locate(['workstream_id']), `directory "${dirName}" does not match workstream_id "${task.workstream_id}"`, `move the file to ${tasksDir}/${task.workstream_id}/${fileName}, or set "workstream_id": "${dirName}"`),
      );
    }
  }
  return {
    declaredId,
    findings,
    task: { task, file: rel, sourceVersion: sv, text: read.text, locate: read.locate },
  };
}

/** Load and check one task file in isolation (path/id agreement included; no cross-file checks). */
export function loadTaskFile(root: string, relPath: string, options: LoadTasksOptions = {}): { task?: LoadedTask; findings: Finding[] } {
  const tasksDir = (options.tasksDir ?? 'tasks').replace(/\/+$/, '');
  const rel = toPosix(relPath);
  const abs = resolve(root, rel);
  try {
    const realRoot = realpathSync(root);
    const real = realpathSync(abs);
    if (!isInside(realRoot, real)) {
      return { findings: [F('TASK-DEF-001', 'error', rel, { line: 1, column: 1 }, `symbolic link leads outside the repository (to ${real}); it was not read`, 'replace the link with the task file itself, inside the repository')] };
    }
  } catch {
    // a missing file is reported by the reader below
  }
  const r = loadOne(root, rel, tasksDir, options);
  return r.task ? { task: r.task, findings: r.findings } : { findings: r.findings };
}

/** Every task file under tasks/, each read once, plus cross-file checks. */
export function loadTasks(root: string, options: LoadTasksOptions = {}): TaskSet {
  const tasksDir = (options.tasksDir ?? 'tasks').replace(/\/+$/, '');
  const set: TaskSet = { tasks: new Map(), byWorkstream: new Map(), findings: [], filesRead: 0, invalidIds: new Set() };
  const top = join(root, tasksDir);
  if (!existsSync(top)) return set;
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    realRoot = resolve(root);
  }
  const files: string[] = [];
  const levels: number[] = [];
  const visited = new Set<string>();
  const walk = (absDir: string, relDir: string, level: number): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(absDir, { withFileTypes: true });
    } catch (err) {
      set.findings.push(F('TASK-DEF-001', 'error', relDir, { line: 1, column: 1 }, `cannot list the directory (${(err as Error).message})`, 'check its permissions'));
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const ent of entries) {
      if (ent.name.startsWith('.')) continue; // .backups, editor temp dirs, hidden files
      const abs = `${absDir}/${ent.name}`;
      const rel = `${relDir}/${ent.name}`;
      let isDir = ent.isDirectory();
      let isFile = ent.isFile();
      if (ent.isSymbolicLink()) {
        let real: string;
        try {
          real = realpathSync(abs);
        } catch {
          set.findings.push(F('TASK-DEF-001', 'error', rel, { line: 1, column: 1 }, 'broken symbolic link', 'remove the link or point it at an existing file inside the repository'));
          continue;
        }
        if (!isInside(realRoot, real)) {
          if (ent.name.endsWith('.json') || statSync(real).isDirectory()) {
            set.findings.push(F('TASK-DEF-001', 'error', rel, { line: 1, column: 1 }, `symbolic link leads outside the repository (to ${real}); it was not read`, 'replace the link with the task file itself, inside the repository'));
          }
          continue;
        }
        const st = statSync(real);
        isDir = st.isDirectory();
        isFile = st.isFile();
        if (isDir) {
          if (visited.has(real)) continue;
          visited.add(real);
        }
      }
      if (isDir) walk(abs, rel, level + 1);
      else if (isFile && ent.name.endsWith('.json')) {
        files.push(rel);
        levels.push(level);
      }
    }
  };
  const realTop = realpathSync(top);
  if (!isInside(realRoot, realTop)) {
    set.findings.push(F('TASK-DEF-001', 'error', tasksDir, { line: 1, column: 1 }, `${tasksDir}/ is a symbolic link leading outside the repository (to ${realTop}); no task was read`, `keep the task files inside the repository under ${tasksDir}/`));
    return set;
  }
  visited.add(realTop);
  walk(top, tasksDir, 0);

  const readOptions = { requirement: 'TASK-DEF-002', maxBytes: options.maxBytes, maxDepth: options.maxDepth };
  for (let k = 0; k < files.length; k++) {
    const rel = files[k]!;
    const level = levels[k]!;
    set.filesRead++;
    if (level !== 1) {
      set.findings.push(
        F('TASK-DEF-001', 'error', rel, { line: 1, column: 1 }, `task files live exactly at ${tasksDir}/{workstream_id}/{task_id}.json; this file is ${level < 1 ? 'not inside a workstream directory' : 'nested too deep'} and was not loaded`, `move it to ${tasksDir}/<workstream_id>/<task_id>.json`),
      );
      continue;
    }
    const r = loadOne(root, rel, tasksDir, options, readOptions);
    if (r.findings.length) set.findings.push(...r.findings);
    if (!r.task) {
      if (r.declaredId) set.invalidIds.add(r.declaredId);
      continue;
    }
    const id = summaryOf(r.task).task_id;
    const prev = set.tasks.get(id); // the first file with this id keeps it
    if (prev !== undefined) {
      set.findings.push(
        F('TASK-DEF-001', 'error', rel, r.task.locate(['task_id']), `task_id "${id}" is already used by ${prev.file}; task ids must be unique across the repository`, `give one of the two tasks a new id (and rename its file to match)`),
      );
      continue;
    }
    set.tasks.set(id, r.task);
  }
  for (const lt of set.tasks.values()) {
    const ws = summaryOf(lt).workstream_id;
    let list = set.byWorkstream.get(ws);
    if (!list) set.byWorkstream.set(ws, (list = []));
    list.push(lt);
  }
  for (const list of set.byWorkstream.values()) list.sort((a, b) => (summaryOf(a).task_id < summaryOf(b).task_id ? -1 : 1));
  set.findings.push(...crossCheckTasks(root, set.tasks, { knownIds: set.invalidIds }));
  return set;
}

/** The `blocks` each task must have: the ids of the tasks that depend on it, sorted. */
export function expectedBlocks(tasks: ReadonlyMap<string, LoadedTask>): Map<string, string[]> {
  const have = dependents(tasks);
  const out = new Map<string, string[]>();
  for (const id of tasks.keys()) out.set(id, have.get(id) ?? []);
  return out;
}

/** expectedBlocks without the empty lists: only tasks something depends on have an entry. */
function dependents(tasks: ReadonlyMap<string, LoadedTask>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  // Map#forEach and an indexed loop: this runs once per process, mostly before the optimiser has seen it, where
  // for-of over entries and arrays (an iterator and an entry array per step) costs about twice as much.
  tasks.forEach((lt, id) => {
    const deps = summaryOf(lt).dependencies;
    for (let i = 0; i < deps.length; i++) {
      const dep = deps[i]!;
      if (!tasks.has(dep)) continue;
      const list = out.get(dep);
      if (list) list.push(id);
      else out.set(dep, [id]);
    }
  });
  // Lists are built in file order, which is usually id order already: sort only those that are not.
  for (const list of out.values()) if (list.length > 1 && !ascending(list)) list.sort();
  return out;
}

/** Already in Array#sort's default order (UTF-16 code units, as `<` compares strings). */
function ascending(list: readonly string[]): boolean {
  for (let i = 1; i < list.length; i++) if (list[i - 1]! > list[i]!) return false;
  return true;
}

const NO_IDS: readonly string[] = [];

/** Same elements (both lists are duplicate-free after schema validation); fast when the order matches too. */
function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  if (sameList(a, b)) return true;
  const set = new Set(a);
  return b.every((x) => set.has(x));
}

type ContextList = [string, string[] | undefined, boolean];
const NO_LISTS: readonly ContextList[] = [];
const contextLists = (cr: TaskSummary['context_requirements']): ContextList[] => [
  ['required_files', cr?.required_files, true],
  ['optional_files', cr?.optional_files, false],
];

export interface CrossCheckOptions {
  /** Ids that exist in files that did not validate: not reported as unknown. */
  knownIds?: ReadonlySet<string>;
}

export function crossCheckTasks(root: string, tasks: ReadonlyMap<string, LoadedTask>, options: CrossCheckOptions = {}): Finding[] {
  const known = options.knownIds ?? new Set<string>();
  const findings: Finding[] = [];
  const expected = dependents(tasks);
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    realRoot = resolve(root);
  }
  type PathState = 'ok' | 'missing' | 'outside' | 'notdir' | 'notfile';
  const fileCache = new Map<string, PathState>();
  const checkPath = (p: string, wantDir: boolean): PathState => {
    const key = `${wantDir ? 'd' : 'f'}:${p}`;
    let r = fileCache.get(key);
    if (r) return r;
    const abs = resolve(root, p);
    if (isAbsolute(p) || !isInside(resolve(root), abs)) r = 'outside';
    else {
      try {
        const real = realpathSync(abs);
        if (!isInside(realRoot, real)) r = 'outside';
        else {
          const isDir = statSync(real).isDirectory();
          r = wantDir ? (isDir ? 'ok' : 'notdir') : isDir ? 'notfile' : 'ok';
        }
      } catch {
        r = 'missing';
      }
    }
    fileCache.set(key, r);
    return r;
  };
  // Map#forEach rather than for-of over entries: it runs once per process, before the optimiser has seen it.
  tasks.forEach((lt, id) => {
    const t = summaryOf(lt);
    const deps = t.dependencies;
    for (let i = 0; i < deps.length; i++) {
      const dep = deps[i]!;
      if (dep === id) {
        findings.push(F('TASK-DEF-002', 'error', lt.file, lt.locate(['dependencies', i]), `task "${id}" depends on itself`, `remove "${id}" from dependencies`));
      } else if (!tasks.has(dep) && !known.has(dep)) {
        const sameWs = [...tasks.values()].map(summaryOf).filter((o) => o.workstream_id === t.workstream_id && o.task_id !== id).map((o) => o.task_id);
        const guess = closest(dep, sameWs) ?? (tasks.size <= 2000 ? closest(dep, tasks.keys()) : undefined);
        findings.push(
          F('TASK-DEF-002', 'error', lt.file, lt.locate(['dependencies', i]), `dependency "${dep}" names no task in the repository`, guess ? `did you mean "${guess}"? Otherwise create tasks/<workstream>/${dep}.json or remove the entry` : `create tasks/<workstream>/${dep}.json or remove "${dep}" from dependencies`),
        );
      }
    }
    const want = expected.get(id) ?? NO_IDS;
    const have = t.blocks;
    if (!sameMembers(want, have)) {
      const wantSet = new Set(want);
      const haveSet = new Set(have);
      const add = want.filter((x) => !haveSet.has(x));
      const remove = have.filter((x) => !wantSet.has(x) && !known.has(x));
      if (add.length > 0 || remove.length > 0) {
      const parts: string[] = [];
      if (add.length) parts.push(`missing ${add.map((x) => `"${x}"`).join(', ')} (${add.length === 1 ? 'it depends' : 'they depend'} on this task)`);
      if (remove.length) parts.push(`lists ${remove.map((x) => `"${x}"`).join(', ')} (${remove.length === 1 ? 'it does' : 'they do'} not depend on this task)`);
      const fixParts: string[] = [];
      if (add.length) fixParts.push(`add ${add.map((x) => `"${x}"`).join(', ')}`);
      if (remove.length) fixParts.push(`remove ${remove.map((x) => `"${x}"`).join(', ')}`);
      findings.push(
        F('TASK-DEF-002', 'error', lt.file, lt.locate(['blocks']), `\`blocks\` must be the exact inverse of \`dependencies\`: ${parts.join('; ')}`, `${fixParts.join(' and ')} in "blocks" (or run \`orc-state validate --fix\`)`),
      );
      }
    }
    const cr = t.context_requirements;
    for (const [field, list, required] of cr?.required_files?.length || cr?.optional_files?.length ? contextLists(cr) : NO_LISTS) {
      list?.forEach((p, i) => {
        const r = checkPath(p, false);
        if (r === 'outside') {
          findings.push(F('TASK-DEF-002', 'error', lt.file, lt.locate(['context_requirements', field, i]), `${field} entry "${p}" points outside the repository`, 'use a repo-relative path without ".." that stays inside the repository'));
        } else if (r === 'notfile') {
          findings.push(F('TASK-DEF-002', 'error', lt.file, lt.locate(['context_requirements', field, i]), `${field} entry "${p}" is a directory, not a file`, 'list the files themselves (context is passed file by file)'));
        } else if (r === 'missing') {
          findings.push(
            F('TASK-DEF-002', required ? 'error' : 'warning', lt.file, lt.locate(['context_requirements', field, i]), `${field} entry "${p}" does not exist`, required ? `create ${p}, correct the path, or move it to optional_files` : `correct the path or remove it`),
          );
        }
      });
    }
    const wd = t.execution.working_directory;
    if (wd !== undefined && wd !== '.' && wd !== '') {
      const r = checkPath(wd, true);
      if (r === 'outside') findings.push(F('TASK-DEF-002', 'error', lt.file, lt.locate(['execution', 'working_directory']), `working_directory "${wd}" points outside the repository`, 'use a repo-relative directory inside the repository'));
      else if (r === 'missing' || r === 'notdir') findings.push(F('TASK-DEF-002', 'warning', lt.file, lt.locate(['execution', 'working_directory']), `working_directory "${wd}" ${r === 'missing' ? 'does not exist' : 'is not a directory'}`, 'create the directory or correct the path'));
    }
    if (!TASK_ID_PATTERN.test(id) || id.includes('..')) {
      findings.push(F('TASK-DEF-001', 'error', lt.file, lt.locate(['task_id']), `task_id "${id}" is not a safe file name`, 'use letters, digits, ".", "_" and "-" without ".."'));
    }
  });
  return findings;
}
