/**
 * A per-user cache of loaded task definitions, so one-shot commands (`orc-state
 * task ...`, `worker ...`, `ready`) on a large repository do not re-read, re-parse and
 * re-validate every task file on each call; and a one-shot transition reads only
 * what it needs (issue 12): the definitions of the workstream directories it touches.
 *
 * Public API (internal):
 *   - loadTasksCached(root) → TaskSet         every file's stat checked; a full TaskSet
 *   - loadPlanTasksCached(root) → TaskSet     the same check; tasks cut to PlanFields (what the graph, plans and ready read)
 *   - loadTasksLazy(root) → TaskSet | null    a TaskSet whose definitions are read per workstream directory on first use
 *     (null: no usable cache, call loadTasksCached)
 *   - lazyDefinitions(taskSet) → { defs, critical } | null   lookup-only views of a lazy set (no full read)
 *   - graphDefinitions(taskSet, workstreams) → TaskSetLike   what the DAG/plan files of `workstreams` need:
 *     their tasks' full definitions, every other task as { task_id, workstream_id, dependencies } (graph shape only)
 *   - definitionsSignature(root), rememberDefinitions(root, set)
 * Layout (`$TMPDIR/orc-state-<uid>/`, src/core/user-cache.ts): an index (signature of every entry
 * under tasks/, each directory's stat, every loaded task's id, workstream, dependencies and file in
 * TaskSet order, the set's findings and invalid ids) and one shard per workstream directory (each
 * entry's stat and loaded definition, who depends on it, whether it is on a cycle), and every task's
 * PlanFields in one file for `ready`, with the graph of them (buildGraph's arrays, so `ready` does not
 * rebuild it); a set under 1,000 tasks keeps its shards in the index and
 * has no PlanFields file (one cache file per small repository).
 * Correctness:
 *   - loadTasksCached: the signature of every entry under tasks/ (relative path, size, mtime, inode)
 *     must equal the index's; any change (or any symbolic link, which A's loader resolves specially)
 *     means a full `loadTasks(root)`, whose result then replaces the cache. Only what loadTasks
 *     produced is ever cached, so validation is never skipped: a changed file is always re-validated.
 *   - loadTasksLazy: tasks/ and every workstream directory must have the stat the index recorded (so
 *     no file was added, removed or renamed; atomic-rename saves count as renames); a shard is used
 *     only when every file in its directory still has the recorded stat (size, mtime, inode), checked
 *     when the shard is first needed. Any difference (and any use that needs the whole set: iterating
 *     it, its findings, byWorkstream) falls back to loadTasksCached, so the answer is loadTasks'.
 *     Limit: a file rewritten in place in a directory that is never consulted is not noticed (it cannot
 *     change the answer to what was asked, except as a duplicate task_id, which loadTasks reports).
 *   - Cached tasks carry a canonical `text` (their JSON) and locations at line 1; the engine needs
 *     neither for committing. Stub tasks of graphDefinitions carry no text.
 * The cache lives outside the repository, so nothing in .state/ or tasks/ changes.
 * Integration points: src/engine/commit.ts (definitions for guards and derive), src/engine/derive.ts
 * (graphDefinitions), src/graph/repo.ts (ready), src/engine/claim.ts, src/server/views.ts (signature).
 * Stability: internal.
 * Dependencies: node:fs, node:crypto, ../repo/load-tasks.js, ../core/user-cache.js.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Finding, TaskDefinition } from '../model.js';
import { loadTasks, type LoadedTask, type TaskSet } from '../repo/load-tasks.js';
import { readCacheFile, repoCacheFile, writeCacheFile } from '../core/user-cache.js';
import { analyze, type GraphHints } from '../graph/files.js';
import type { TaskGraph } from '../graph/graph.js';

const VERSION = 4;

/** One directory entry under tasks/<dir>/ as the walk saw it. */
interface Entry {
  name: string;
  key: string;
}

interface Walk {
  signature: string;
  /** Stat of tasks/ and of each tasks/<dir>/ with its entries (entries only when collected). */
  tasksKey: string;
  dirs: Map<string, { key: string; entries: Entry[] }>;
  /** The tree is tasks/<dir>/<file> only (no nested directories, no files in tasks/ itself): lazy use possible. */
  simple: boolean;
}

/** [task_id, workstream_id, directory, file name], in TaskSet order. */
type SkeletonRow = [string, string, string, string];

interface IndexFile {
  version: number;
  root: string;
  signature: string;
  tasksKey: string;
  dirs: Array<[string, string]> | null;
  skeleton: SkeletonRow[];
  findings: Finding[];
  invalidIds: string[];
  /** The cycle findings of the whole graph (analyze(...).findings), for a derive that builds only part of it. */
  cycleFindings: Finding[];
  /** The shards themselves, for a small set (one cache file instead of one per directory, and no plan file). */
  inline?: Record<string, ShardFile>;
}

/**
 * Below this many tasks the shards live in the index (reading a few hundred definitions costs less than opening
 * more files). $ORC_STATE_DEFS_INLINE_MAX overrides it (internal: tests cover both layouts on small repositories).
 */
const inlineMax = (): number => Number(process.env.ORC_STATE_DEFS_INLINE_MAX ?? 1000);

interface ShardFile {
  version: number;
  signature: string;
  key: string;
  entries: ShardEntry[];
}

interface ShardEntry {
  name: string;
  key: string;
  sourceVersion?: string;
  task?: TaskDefinition;
  /** Ids of the tasks (anywhere) that depend on this one, and whether it lies on a cycle of the whole graph. */
  dependents?: string[];
  cyclic?: true;
}

/** The fields of a definition that the graph, the plans and `ready` read (src/graph: GraphTask, PlanTask, ready.ts). */
export type PlanFields = Pick<TaskDefinition, 'task_id' | 'workstream_id' | 'dependencies' | 'name' | 'type' | 'status' | 'priority' | 'critical' | 'resource_requirements'> & {
  execution?: Partial<Pick<NonNullable<TaskDefinition['execution']>, 'estimated_duration_seconds' | 'timeout_seconds'>>;
};

/** Every task's PlanFields in TaskSet order, with the signature it was made under, and the graph of them. */
interface PlanFile {
  version: number;
  signature: string;
  tasks: Array<[string, PlanFields]>;
  findings: Finding[];
  invalidIds: string[];
  graph: StoredGraph;
}

/** A TaskGraph without its tasks (typed arrays as base64; members and index are rebuilt). */
interface StoredGraph {
  ids: string[];
  workstreams: string[];
  ws: string;
  depStart: string;
  deps: string;
  depPos: string;
  outStart: string;
  outs: string;
  order: string;
  cyclic: string;
  edgeCount: number;
  issues: TaskGraph['issues'];
}

const b64 = (a: Int32Array | Uint8Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
function int32(text: string): Int32Array {
  const buf = Buffer.from(text, 'base64');
  const out = new Int32Array(buf.length >> 2);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

function storeGraph(g: TaskGraph): StoredGraph {
  return { ids: g.ids, workstreams: g.workstreams, ws: b64(g.ws), depStart: b64(g.depStart), deps: b64(g.deps), depPos: b64(g.depPos), outStart: b64(g.outStart), outs: b64(g.outs), order: b64(g.order), cyclic: b64(g.cyclic), edgeCount: g.edgeCount, issues: g.issues };
}

/** The graph back, its node v holding `byId(ids[v])`; null when the stored graph does not fit the tasks. */
function restoreGraph(s: StoredGraph, byId: ReadonlyMap<string, LoadedTask>): TaskGraph<TaskDefinition> | null {
  const n = s.ids.length;
  if (n !== byId.size) return null;
  const tasks: TaskDefinition[] = new Array(n);
  const index = new Map<string, number>();
  for (let v = 0; v < n; v++) {
    const id = s.ids[v] as string;
    const loaded = byId.get(id);
    if (!loaded) return null;
    tasks[v] = loaded.task;
    index.set(id, v);
  }
  const ws = int32(s.ws);
  const counts = new Int32Array(s.workstreams.length);
  for (let v = 0; v < n; v++) counts[ws[v] as number]!++;
  const members = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(s.workstreams.length);
  for (let v = 0; v < n; v++) {
    const k = ws[v] as number;
    (members[k] as Int32Array)[fill[k]!++] = v;
  }
  const cyclic = new Uint8Array(Buffer.from(s.cyclic, 'base64'));
  return { n, ids: s.ids, tasks, index, ws, workstreams: s.workstreams, members, depStart: int32(s.depStart), deps: int32(s.deps), depPos: int32(s.depPos), outStart: int32(s.outStart), outs: int32(s.outs), edgeCount: s.edgeCount, order: int32(s.order), cyclic, issues: s.issues };
}

function planFields(t: TaskDefinition): PlanFields {
  const out: PlanFields = { task_id: t.task_id, workstream_id: t.workstream_id, dependencies: t.dependencies, name: t.name, type: t.type, status: t.status };
  if (t.priority !== undefined) out.priority = t.priority;
  if (t.critical !== undefined) out.critical = t.critical;
  if (t.resource_requirements !== undefined) out.resource_requirements = t.resource_requirements;
  if (t.execution) {
    const e: NonNullable<PlanFields['execution']> = {};
    if (t.execution.estimated_duration_seconds !== undefined) e.estimated_duration_seconds = t.execution.estimated_duration_seconds;
    if (t.execution.timeout_seconds !== undefined) e.timeout_seconds = t.execution.timeout_seconds;
    out.execution = e;
  }
  return out;
}

const fileKey = (st: Stats): string => `${st.size} ${st.mtimeMs} ${st.ino}`;
const dirKey = (st: Stats): string => `${st.ino} ${st.mtimeMs}`;

/**
 * Every entry under tasks/ (as loadTasks walks it), or null when the tree cannot be cached. `collect`: also each
 * directory's entries with their stat (for writing the cache); otherwise only the signature and the directories' stat.
 */
function walk(root: string, collect = false): Walk | null {
  const hash = createHash('sha1');
  let ok = true;
  let simple = true;
  const dirs = new Map<string, { key: string; entries: Entry[] }>();
  const top = join(root, 'tasks');
  let tasksKey = '';
  try {
    tasksKey = dirKey(lstatSync(top));
  } catch {
    return null;
  }
  const visit = (abs: string, rel: string, level: number, into: Entry[] | null): void => {
    let names: string[];
    try {
      names = readdirSync(abs).sort();
    } catch {
      ok = false;
      return;
    }
    // One hash update per directory (10,000 small updates cost more than the text they hash).
    let text = '';
    for (const name of names) {
      if (!ok) return;
      if (name.startsWith('.')) continue;
      const p = `${abs}/${name}`;
      const st = lstatSync(p);
      if (st.isSymbolicLink()) {
        ok = false;
        return;
      }
      if (st.isDirectory()) {
        hash.update(`${text}d ${rel}/${name}\n`);
        text = '';
        if (level === 0) {
          const entries: Entry[] = [];
          dirs.set(name, { key: dirKey(st), entries });
          visit(p, `${rel}/${name}`, 1, entries);
        } else {
          simple = false;
          visit(p, `${rel}/${name}`, level + 1, null);
        }
      } else {
        text += `f ${rel}/${name} ${st.size} ${st.mtimeMs} ${st.ino}\n`;
        if (level !== 1) simple = false;
        if (into && collect) into.push({ name, key: fileKey(st) });
      }
    }
    hash.update(text);
  };
  visit(top, 'tasks', 0, null);
  return ok ? { signature: hash.digest('hex'), tasksKey, dirs, simple } : null;
}

/** Hash of every entry under tasks/ (as loadTasks walks it), or null when the tree cannot be cached. */
export function definitionsSignature(root: string): string | null {
  return walk(root)?.signature ?? null;
}

const indexPath = (root: string): string => repoCacheFile(root, 'definitions');
const planPath = (root: string): string => repoCacheFile(root, 'definitions-plan');
const shardPath = (root: string, dir: string): string => repoCacheFile(root, `definitions-ws-${createHash('sha1').update(dir).digest('hex').slice(0, 12)}`);

function readShard(root: string, index: IndexFile, dir: string): ShardFile | null {
  if (index.inline) return Object.hasOwn(index.inline, dir) ? (index.inline[dir] ?? null) : null;
  return readCacheFile<ShardFile>(shardPath(root, dir));
}

function readIndex(root: string): IndexFile | null {
  const c = readCacheFile<IndexFile>(indexPath(root));
  return c && c.version === VERSION && c.root === root ? c : null;
}

/** A cached definition as a LoadedTask (locations at line 1; the canonical text only if someone asks for it). */
function loadedFrom(task: TaskDefinition, file: string, sourceVersion: string): LoadedTask {
  const loaded = { task, file, sourceVersion, locate: () => ({ line: 1, column: 1 }) } as unknown as LoadedTask;
  let text: string | undefined;
  Object.defineProperty(loaded, 'text', { enumerable: true, get: () => (text ??= JSON.stringify(task)) });
  return loaded;
}

/** The shard's loaded tasks by id (only tasks that made it into the TaskSet are stored). */
function shardTasks(dir: string, shard: ShardFile): Map<string, LoadedTask> {
  const out = new Map<string, LoadedTask>();
  for (const e of shard.entries) if (e.task) out.set(e.task.task_id, loadedFrom(e.task, `tasks/${dir}/${e.name}`, e.sourceVersion ?? e.task.schema_version));
  return out;
}

function assemble(index: IndexFile, byDir: (dir: string) => Map<string, LoadedTask> | null): TaskSet | null {
  const tasks = new Map<string, LoadedTask>();
  for (const [id, , dir] of index.skeleton) {
    const loaded = byDir(dir)?.get(id);
    if (!loaded) return null;
    tasks.set(id, loaded);
  }
  return { tasks, byWorkstream: groupByWorkstream(tasks), findings: index.findings, filesRead: 0, invalidIds: new Set(index.invalidIds) };
}

function save(root: string, w: Walk, set: TaskSet): void {
  const skeleton: SkeletonRow[] = [];
  const byFile = new Map<string, LoadedTask>();
  for (const t of set.tasks.values()) {
    byFile.set(t.file, t);
    const slash = t.file.lastIndexOf('/');
    skeleton.push([t.task.task_id, t.task.workstream_id, t.file.slice('tasks/'.length, slash), t.file.slice(slash + 1)]);
  }
  try {
    // The whole graph once: who depends on whom, who is on a cycle, and its cycle findings (a lazy derive builds only part of it).
    const whole = analyze({ taskSet: set, snapshot: null, resources: new Map(), maxParallel: 1 });
    const { graph } = whole;
    const dependents = new Map<string, string[]>();
    const cyclic = new Set<string>();
    for (let v = 0; v < graph.n; v++) {
      const id = graph.ids[v] as string;
      if (graph.cyclic[v]) cyclic.add(id);
      const start = graph.outStart[v] as number;
      const end = graph.outStart[v + 1] as number;
      if (end > start) dependents.set(id, Array.from(graph.outs.subarray(start, end), (x) => graph.ids[x] as string));
    }
    // Shards first, the index last: a reader that finds the new index finds its shards.
    const inline = set.tasks.size < inlineMax();
    const shards: Record<string, ShardFile> = {};
    {
      for (const [dir, { key, entries }] of w.dirs) {
        const shard: ShardFile = {
          version: VERSION,
          signature: w.signature,
          key,
          entries: entries.map((e): ShardEntry => {
            const t = byFile.get(`tasks/${dir}/${e.name}`);
            if (!t) return { name: e.name, key: e.key };
            const id = t.task.task_id;
            return { name: e.name, key: e.key, sourceVersion: t.sourceVersion, task: t.task, ...(dependents.has(id) ? { dependents: dependents.get(id) } : {}), ...(cyclic.has(id) ? { cyclic: true as const } : {}) };
          }),
        };
        if (inline) shards[dir] = shard;
        else writeCacheFile(shardPath(root, dir), shard);
      }
    }
    const index: IndexFile = {
      version: VERSION,
      root,
      signature: w.signature,
      tasksKey: w.tasksKey,
      dirs: w.simple ? [...w.dirs].map(([dir, d]) => [dir, d.key]) : null,
      skeleton,
      findings: set.findings,
      invalidIds: [...(set.invalidIds ?? [])],
      cycleFindings: whole.findings,
      ...(inline ? { inline: shards } : {}),
    };
    const plan: PlanFile = {
      version: VERSION,
      signature: w.signature,
      tasks: [...set.tasks.values()].map((t) => [t.file, planFields(t.task)]),
      findings: set.findings,
      invalidIds: index.invalidIds,
      graph: storeGraph(graph),
    };
    if (!inline) writeCacheFile(planPath(root), plan);
    writeCacheFile(indexPath(root), index);
  } catch {
    /* a cache is optional */
  }
}

/** loadTasks(root), served from the cache when no file under tasks/ changed since it was filled. */
export function loadTasksCached(root: string): TaskSet {
  const w = walk(root);
  if (w === null) return loadTasks(root);
  const index = readIndex(root);
  if (index && index.signature === w.signature) {
    const shards = new Map<string, Map<string, LoadedTask> | null>();
    const set = assemble(index, (dir) => {
      if (!shards.has(dir)) {
        const s = readShard(root, index, dir);
        shards.set(dir, s && s.version === VERSION && s.signature === w.signature ? shardTasks(dir, s) : null);
      }
      return shards.get(dir) ?? null;
    });
    if (set) return set;
  }
  const set = loadTasks(root);
  // Only cache when nothing changed while we were reading.
  const after = walk(root, true);
  if (after && after.signature === w.signature) save(root, after, set);
  return set;
}

/**
 * For commands that only plan (`ready`): loadTasks(root) with every task cut to its PlanFields, served
 * when no file under tasks/ changed (the same signature check as loadTasksCached, every file's stat);
 * otherwise loadTasksCached(root) in full (which refreshes this cache too). Tasks carry no text and
 * locations at line 1.
 */
export function loadPlanTasksCached(root: string): TaskSet {
  const w = walk(root);
  const c = w ? readCacheFile<PlanFile>(planPath(root)) : null;
  if (!w || !c || c.version !== VERSION || c.signature !== w.signature) return loadTasksCached(root);
  const tasks = new Map<string, LoadedTask>();
  const locate = (): { line: number; column: number } => ({ line: 1, column: 1 });
  for (const [file, task] of c.tasks) tasks.set(task.task_id, { task, file, sourceVersion: '', locate } as unknown as LoadedTask);
  let byWorkstream: Map<string, LoadedTask[]> | undefined;
  const graph = restoreGraph(c.graph, tasks);
  return {
    tasks,
    ...(graph ? { graph } : {}),
    // Grouped only if someone asks (ready does not).
    get byWorkstream(): Map<string, LoadedTask[]> {
      return (byWorkstream ??= groupByWorkstream(tasks));
    },
    findings: c.findings,
    filesRead: 0,
    invalidIds: new Set(c.invalidIds),
  };
}

function groupByWorkstream(tasks: ReadonlyMap<string, LoadedTask>): Map<string, LoadedTask[]> {
  const out = new Map<string, LoadedTask[]>();
  for (const loaded of tasks.values()) {
    const ws = out.get(loaded.task.workstream_id);
    if (ws) ws.push(loaded);
    else out.set(loaded.task.workstream_id, [loaded]);
  }
  for (const list of out.values()) list.sort((a, b) => (a.task.task_id < b.task.task_id ? -1 : 1));
  return out;
}

/** Refresh the cache from a TaskSet just loaded in full (sync). */
export function rememberDefinitions(root: string, set: TaskSet): void {
  const w = walk(root, true);
  if (w !== null) save(root, w, set);
}

/**
 * A TaskSet answering lookups from the shards of the directories asked about; anything that needs
 * the whole set, or any stat that differs from the cache, turns it into loadTasksCached(root).
 */
class LazyTaskSet implements TaskSet {
  readonly filesRead = 0;
  readonly tasks: Map<string, LoadedTask>;
  private whole: TaskSet | null = null;
  private readonly rows = new Map<string, SkeletonRow>();
  private readonly shards = new Map<string, Map<string, LoadedTask>>();
  private readonly entries = new Map<string, ShardEntry>();
  private readonly dirKeys: Map<string, string>;
  /** Some file under tasks/ did not load when the cache was made. */
  private readonly someUnloaded: boolean;

  constructor(
    readonly root: string,
    readonly index: IndexFile,
  ) {
    for (const row of index.skeleton) this.rows.set(row[0], row);
    this.dirKeys = new Map(index.dirs ?? []);
    this.someUnloaded = index.invalidIds.length > 0 || index.findings.some((f) => f.severity === 'error' && f.file.startsWith('tasks/'));
    this.tasks = new LazyTaskMap(this);
  }

  get materialized(): boolean {
    return this.whole !== null;
  }

  /** The full set (loadTasksCached: every file's stat checked). */
  full(): TaskSet {
    return (this.whole ??= loadTasksCached(this.root));
  }

  get byWorkstream(): Map<string, LoadedTask[]> {
    return this.full().byWorkstream;
  }

  get findings(): Finding[] {
    return this.full().findings;
  }

  get invalidIds(): Set<string> {
    return this.full().invalidIds;
  }

  lookup(id: string): LoadedTask | undefined {
    if (this.whole) return this.whole.tasks.get(id);
    const row = this.rows.get(id);
    // Not in the cached set: a file added since would have changed its directory's stat (checked on open); but a
    // file that did not load then (invalid) may have been fixed in place since, so then only a full read can tell.
    if (!row) return this.someUnloaded ? this.full().tasks.get(id) : undefined;
    const tasks = this.shard(row[2]);
    const loaded = tasks?.get(id);
    if (loaded) return loaded;
    return this.full().tasks.get(id);
  }

  /** The shard of tasks/<dir>/ when every file in it still has the cached stat; null after falling back. */
  private shard(dir: string): Map<string, LoadedTask> | null {
    const done = this.shards.get(dir);
    if (done) return done;
    const s = readShard(this.root, this.index, dir);
    if (!s || s.version !== VERSION || s.key !== this.dirKeys.get(dir) || !entriesUnchanged(join(this.root, 'tasks', dir), s)) {
      this.full();
      return null;
    }
    const tasks = shardTasks(dir, s);
    for (const e of s.entries) if (e.task) this.entries.set(e.task.task_id, e);
    this.shards.set(dir, tasks);
    return tasks;
  }

  /** The cached skeleton row of a task (id, workstream, directory, file), without reading its shard. */
  rowOf(id: string): SkeletonRow | undefined {
    return this.rows.get(id);
  }

  /** What the shard of a task looked up before says about it in the whole graph (dependents, cycle). */
  graphFacts(id: string): { dependents: readonly string[]; cyclic: boolean } {
    const e = this.entries.get(id);
    return { dependents: e?.dependents ?? [], cyclic: e?.cyclic === true };
  }
}

function entriesUnchanged(abs: string, shard: ShardFile): boolean {
  for (const e of shard.entries) {
    let st: Stats;
    try {
      st = lstatSync(`${abs}/${e.name}`);
    } catch {
      return false;
    }
    if (fileKey(st) !== e.key) return false;
  }
  return true;
}

/** Lookups go to the lazy set; anything that walks the map walks the full set. */
class LazyTaskMap extends Map<string, LoadedTask> {
  constructor(private readonly src: LazyTaskSet) {
    super();
  }
  override get(id: string): LoadedTask | undefined {
    return this.src.lookup(id);
  }
  override has(id: string): boolean {
    return this.src.lookup(id) !== undefined;
  }
  override set(id: string, value: LoadedTask): this {
    this.src.full().tasks.set(id, value);
    return this;
  }
  override delete(id: string): boolean {
    return this.src.full().tasks.delete(id);
  }
  override clear(): void {
    this.src.full().tasks.clear();
  }
  override forEach(fn: (value: LoadedTask, key: string, map: Map<string, LoadedTask>) => void, thisArg?: unknown): void {
    this.src.full().tasks.forEach(fn, thisArg);
  }
  override entries(): MapIterator<[string, LoadedTask]> {
    return this.src.full().tasks.entries();
  }
  override keys(): MapIterator<string> {
    return this.src.full().tasks.keys();
  }
  override values(): MapIterator<LoadedTask> {
    return this.src.full().tasks.values();
  }
  override [Symbol.iterator](): MapIterator<[string, LoadedTask]> {
    return this.src.full().tasks[Symbol.iterator]();
  }
}
Object.defineProperty(LazyTaskMap.prototype, 'size', {
  get(this: { src: LazyTaskSet }) {
    return this.src.full().tasks.size;
  },
});

/**
 * loadTasks(root) as a set read on demand, one workstream directory at a time, or null when there is
 * no cache to serve it from (or tasks/ or one of its directories gained, lost or renamed an entry).
 */
export function loadTasksLazy(root: string): TaskSet | null {
  const index = readIndex(root);
  if (!index || !index.dirs) return null;
  try {
    if (dirKey(lstatSync(join(root, 'tasks'))) !== index.tasksKey) return null;
    for (const [dir, key] of index.dirs) if (dirKey(lstatSync(join(root, 'tasks', dir))) !== key) return null;
  } catch {
    return null;
  }
  return new LazyTaskSet(root, index);
}

/** Definitions by id and the tasks flagged critical, as lookups into a lazy set (null for any other set). */
export function lazyDefinitions(taskSet: TaskSet): { defs: ReadonlyMap<string, TaskDefinition>; critical: Pick<ReadonlySet<string>, 'has'> } | null {
  if (!(taskSet instanceof LazyTaskSet) || taskSet.materialized) return null;
  const defs = new LazyDefinitionMap(taskSet);
  return { defs, critical: { has: (id: string) => defs.get(id)?.critical === true } };
}

class LazyDefinitionMap extends Map<string, TaskDefinition> {
  constructor(private readonly src: LazyTaskSet) {
    super();
  }
  override get(id: string): TaskDefinition | undefined {
    return this.src.lookup(id)?.task;
  }
  override has(id: string): boolean {
    return this.src.lookup(id) !== undefined;
  }
  override forEach(fn: (value: TaskDefinition, key: string, map: Map<string, TaskDefinition>) => void, thisArg?: unknown): void {
    for (const [id, t] of this.src.full().tasks) fn.call(thisArg, t.task, id, this);
  }
  override *entries(): MapIterator<[string, TaskDefinition]> {
    for (const [id, t] of this.src.full().tasks) yield [id, t.task];
  }
  override *keys(): MapIterator<string> {
    yield* this.src.full().tasks.keys();
  }
  override *values(): MapIterator<TaskDefinition> {
    for (const t of this.src.full().tasks.values()) yield t.task;
  }
  override [Symbol.iterator](): MapIterator<[string, TaskDefinition]> {
    return this.entries();
  }
}
Object.defineProperty(LazyDefinitionMap.prototype, 'size', {
  get(this: { src: LazyTaskSet }) {
    return this.src.full().tasks.size;
  },
});

export interface GraphTaskSet {
  tasks: ReadonlyMap<string, LoadedTask>;
  graphHints: GraphHints;
}

/**
 * What the DAG and plan files of `workstreams` are derived from, without reading every task file:
 * their tasks' definitions (from their directories' shards, stat-checked), and as bare graph nodes
 * ({ task_id, workstream_id, dependencies }) the tasks outside them that they depend on or that depend
 * on them, with the edges into the workstreams. Whether a task lies on a cycle of the whole graph, and
 * the whole graph's cycle findings, come from the index (graphHints). Those files come out as a derive
 * over every definition writes them (tests/engine-definitions-lazy.test.ts). A set that is not lazy is
 * returned as it is; `workstreams` undefined (every file) or a fallback returns the full set.
 */
export function graphDefinitions(taskSet: TaskSet, workstreams: ReadonlySet<string> | undefined): TaskSet | GraphTaskSet {
  if (!(taskSet instanceof LazyTaskSet)) return taskSet;
  if (workstreams === undefined || taskSet.materialized) return taskSet.full();
  const tasks = new Map<string, LoadedTask>();
  const cyclic = new Set<string>();
  for (const [id, ws] of taskSet.index.skeleton) {
    if (!workstreams.has(ws)) continue;
    const loaded = taskSet.lookup(id);
    if (taskSet.materialized) return taskSet.full();
    if (!loaded) continue;
    tasks.set(id, loaded);
    if (taskSet.graphFacts(id).cyclic) cyclic.add(id);
  }
  const line1 = (): { line: number; column: number } => ({ line: 1, column: 1 });
  const stubs = new Map<string, string[]>();
  const stub = (id: string): string[] | undefined => {
    let deps = stubs.get(id);
    if (deps) return deps;
    const row = taskSet.rowOf(id);
    if (!row) return undefined; // not a loaded task: the edge is missing in the whole graph too
    stubs.set(id, (deps = []));
    return deps;
  };
  for (const [id, loaded] of tasks) {
    for (const d of loaded.task.dependencies ?? []) if (typeof d === 'string' && !tasks.has(d)) stub(d);
    for (const dependent of taskSet.graphFacts(id).dependents) if (!tasks.has(dependent)) stub(dependent)?.push(id);
  }
  for (const [id, dependencies] of stubs) {
    const [, ws, dir, name] = taskSet.rowOf(id) as SkeletonRow;
    tasks.set(id, { task: { task_id: id, workstream_id: ws, dependencies } as unknown as TaskDefinition, file: `tasks/${dir}/${name}`, locate: line1 } as unknown as LoadedTask);
  }
  return { tasks, graphHints: { cyclic, findings: taskSet.index.cycleFindings } };
}
