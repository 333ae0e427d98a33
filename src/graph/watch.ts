/**
 * Keep findings and the derived DAG/plan files fresh while people edit
 * tasks: the engine of `orc-state watch`.
 *
 * Public API:
 *   - startWatch(root, options?): Watcher                  (stable)
 *   - Watcher { ready, close(), on('update' | 'error', fn), findings() } (stable)
 *   - WatchUpdate, WatchOptions, findingKey(f)             (stable)
 *   - isIgnoredPath(relPath)                               (stable) editor temp files, dot dirs, tasks/.backups/
 * Behaviour: chokidar watches the repo root directory (never a glob) and
 * `ignored` prunes by path only (no stats) everything but tasks/,
 * capabilities/ and orc-state.config.json, plus dot dirs, tasks/.backups/
 * and editor temp files. Each path
 * is debounced (default 150 ms); changes are processed one batch at a time.
 * A task file is re-read alone (A's loadTaskFile); a parse error or a
 * missing file right after an event is retried once after `retryMs` (editors
 * save by rename, or write in two steps), so a half-written file never leaves
 * a finding that sticks. Then cross-file checks run again, the graph is
 * rebuilt (linear) and only the affected workstreams' DAG/plan files are
 * rewritten: the changed task's old and new workstream, the workstreams of
 * its old and new dependencies and of its dependents. Registry or config
 * changes re-derive everything. Writes happen only when `.state/` exists,
 * under the .state lock. `.state/metrics.json` is refreshed every
 * `metricsIntervalMs` (default: config metrics_interval_seconds, 60 s; OBS-001).
 * Integration points: `orc-state watch`; tests drive it in-process.
 * Dependencies: chokidar, node:events, ../repo/load-tasks.js, ../registry/index.js,
 * ../config.js, ../engine/snapshot.js, ../engine/derive.js (recentEvents),
 * ../derive/metrics.js, ../io/lock.js, ./files.js.
 */
import { EventEmitter } from 'node:events';
import { existsSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Finding, Snapshot, TaskDefinition } from '../model.js';
import { CONFIG_FILE, loadConfig, type LoadedConfig } from '../config.js';
import { METRICS_FILE } from '../derive/metrics.js';
import { startMetricsTimer, type MetricsTimer, type TimerClock } from '../derive/timer.js';
import { readSnapshot } from '../engine/snapshot.js';
import { withLock } from '../io/lock.js';
import { checkTaskCapabilities, checkTaskResources, loadCapabilities, loadResources, type CapabilityRegistry, type ResourceRegistry } from '../registry/index.js';
import { crossCheckTasks, loadTaskFile, loadTasks, type LoadedTask } from '../repo/load-tasks.js';
import { analyze, buildExecutionPlan, historyFor, reanalyze, writeAnalysisFiles, type Analysis } from './files.js';
import { stateDirOf, stateRel } from '../core/state-paths.js';

export interface WatchOptions {
  /** Per-file debounce (default: config watch_debounce_ms, 150). */
  debounceMs?: number;
  /** Delay before the one retry of a file that did not parse or vanished (default 100). */
  retryMs?: number;
  /** Metrics refresh period; 0 disables (default: config metrics_interval_seconds × 1000). */
  metricsIntervalMs?: number;
  /** The clock of the metrics timer (default: the system clock); tests pass one they advance by hand. */
  clock?: TimerClock;
  maxParallel?: number;
  /** Write DAG/plan files (default true; only when .state/ exists). */
  write?: boolean;
}

export interface WatchUpdate {
  /** Repo-relative paths that triggered this update ('' for the initial load). */
  files: string[];
  added: Finding[];
  cleared: Finding[];
  written: string[];
  removed: string[];
  workstreams: string[];
  /** Milliseconds from the first event of the batch (after debounce) to files written. */
  elapsedMs: number;
  /** Where the time went (ms): reading files, graph + plans, writing files, cross-file checks. */
  phases: { read: number; derive: number; write: number; checks: number };
}

export interface Watcher {
  ready: Promise<void>;
  close(): Promise<void>;
  on(event: 'update', listener: (update: WatchUpdate) => void): Watcher;
  on(event: 'error', listener: (error: unknown) => void): Watcher;
  on(event: 'metrics', listener: (written: string) => void): Watcher;
  /** The findings as they stand now. */
  findings(): Finding[];
  /** The initial update (every finding counts as added). */
  initial(): WatchUpdate | undefined;
}

export const findingKey = (f: Finding): string => `${f.requirement}\u0000${f.severity}\u0000${f.file}\u0000${f.line}\u0000${f.column}\u0000${f.message}`;

const TEMP_NAME = [/\.swp$/, /\.swx$/, /~$/, /___jb_(tmp|old)___$/, /\.json\.\d+$/, /\.tmp$/, /^\.#/, /\.crswap$/, /^#.*#$/];

/** Paths the watcher never looks at (repo-relative, '/' separators). */
export function isIgnoredPath(rel: string): boolean {
  if (rel === '' || rel === '.') return false;
  const parts = rel.split('/');
  if (parts[0] === 'tasks' && parts[1] === '.backups') return true;
  const name = parts[parts.length - 1] as string;
  if (parts.some((p, i) => i > 0 && p.startsWith('.'))) return true;
  if (parts.length === 1 && name.startsWith('.')) return true;
  return TEMP_NAME.some((re) => re.test(name));
}

const toPosix = (p: string): string => (sep === '/' ? p : p.split(sep).join('/'));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function startWatch(root: string, options: WatchOptions = {}): Watcher {
  const emitter = new EventEmitter();
  const stateDir = stateDirOf(root);
  let config: LoadedConfig = loadConfig(root);
  const debounceMs = options.debounceMs ?? config.watch_debounce_ms;
  const retryMs = options.retryMs ?? 100;
  const write = options.write !== false;

  // Model: tasks by id, which file defines which id, per-file findings.
  const tasks = new Map<string, LoadedTask>();
  const idOfFile = new Map<string, string>();
  const fileFindings = new Map<string, Finding[]>();
  let knownIds = new Set<string>();
  let capabilities: CapabilityRegistry = { file: null, capabilities: new Map(), findings: [] };
  let resources: ResourceRegistry = { file: null, resources: new Map(), findings: [] };
  /** Cross-file findings by task file (recomputed only for the tasks a change can affect). */
  const crossByFile = new Map<string, Finding[]>();
  /** Capability/resource-name findings by task file. */
  const regByFile = new Map<string, Finding[]>();
  let registryOwnFindings: Finding[] = [];
  const planFindings = new Map<string, Finding[]>();
  let analysis: Analysis | undefined;
  let current = new Map<string, Finding>();
  let initialUpdate: WatchUpdate | undefined;
  let snapshotKey = '';
  let snapshot: Snapshot | null = null;

  const readSnapshotCached = (): Snapshot | null => {
    let key = '';
    try {
      const st = statSync(join(stateDir, 'current.json'));
      key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      key = 'none';
    }
    if (key !== snapshotKey) {
      snapshotKey = key;
      try {
        snapshot = key === 'none' ? null : readSnapshot(root);
      } catch {
        snapshot = null; // STATE-OBS rules report a corrupt snapshot; statuses fall back to definitions
      }
    }
    return snapshot;
  };

  const loadRegistries = (): void => {
    capabilities = loadCapabilities(root);
    resources = loadResources(root);
  };

  const groupByFile = (findings: Finding[], into: Map<string, Finding[]>, files: Iterable<string>): void => {
    for (const f of files) into.delete(f);
    for (const f of findings) into.set(f.file, [...(into.get(f.file) ?? []), f]);
  };

  /** Capability and resource names of these tasks (all when `only` is absent). */
  const registryChecks = (only?: LoadedTask[]): void => {
    const list = only ?? [...tasks.values()];
    registryOwnFindings = [...capabilities.findings, ...resources.findings, ...config.findings];
    if (!only) regByFile.clear();
    groupByFile([...checkTaskCapabilities(list, capabilities), ...checkTaskResources(list, resources, knownIds)], regByFile, list.map((t) => t.file));
  };

  /**
   * Cross-file checks (A's crossCheckTasks) for the tasks in `seeds` only, exactly as a full
   * check would report them: the subset also holds their dependents and the tasks their
   * `blocks` name, and every other existing id is passed as known.
   */
  const crossCheckSome = (seeds: Set<string>): void => {
    const g = analysis?.graph;
    const subset = new Map<string, LoadedTask>();
    const addId = (id: string): void => {
      const t = tasks.get(id);
      if (t) subset.set(id, t);
    };
    for (const id of seeds) {
      addId(id);
      const t = tasks.get(id);
      for (const b of t?.task.blocks ?? []) addId(b);
      const v = g?.index.get(id);
      if (g && v !== undefined) for (let e = g.outStart[v] as number, end = g.outStart[v + 1] as number; e < end; e++) addId(g.ids[g.outs[e] as number] as string);
    }
    const known = { has: (id: string) => (tasks.has(id) && !subset.has(id)) || knownIds.has(id) } as ReadonlySet<string>;
    const findings = crossCheckTasks(root, subset, { knownIds: known });
    const files = new Set<string>();
    for (const id of seeds) {
      const t = tasks.get(id);
      if (t) files.add(t.file);
    }
    groupByFile(
      findings.filter((f) => files.has(f.file)),
      crossByFile,
      files,
    );
  };

  const allFindings = (): Map<string, Finding> => {
    const out = new Map<string, Finding>();
    const add = (f: Finding): void => void out.set(findingKey(f), f);
    for (const list of fileFindings.values()) list.forEach(add);
    for (const list of crossByFile.values()) list.forEach(add);
    for (const list of regByFile.values()) list.forEach(add);
    registryOwnFindings.forEach(add);
    analysis?.findings.forEach(add);
    for (const list of planFindings.values()) list.forEach(add);
    return out;
  };

  let phases = { read: 0, derive: 0, write: 0, checks: 0 };
  const derive = async (
    affected: Set<string> | null,
    changedIds: Iterable<string> = [],
    changed: Array<{ before?: TaskDefinition; after?: TaskDefinition }> | null = null,
  ): Promise<{ written: string[]; removed: string[] }> => {
    let mark = performance.now();
    const snap = readSnapshotCached();
    const history = await historyFor(root, snap);
    const input = {
      taskSet: { tasks },
      snapshot: snap,
      resources: resources.resources,
      history,
      maxParallel: options.maxParallel ?? config.max_parallelism,
    };
    const previousGraph = analysis?.graph;
    analysis = changed ? reanalyze(analysis, input, changed) : analyze(input);
    const graph = analysis.graph;
    if (affected) {
      // Tasks that (now) depend on a changed id, e.g. a dependency that just appeared.
      for (const id of changedIds) {
        const v = graph.index.get(id);
        if (v === undefined) continue;
        affected.add(graph.workstreams[graph.ws[v] as number] as string);
        for (let e = graph.outStart[v] as number, end = graph.outStart[v + 1] as number; e < end; e++) affected.add(graph.workstreams[graph.ws[graph.outs[e] as number] as number] as string);
      }
    }
    const now = new Date().toISOString();
    // Plan findings per workstream: recompute only the affected ones.
    for (const ws of [...planFindings.keys()]) if (!graph.workstreams.includes(ws)) planFindings.delete(ws);
    graph.workstreams.forEach((ws, k) => {
      if (affected && !affected.has(ws) && planFindings.has(ws)) return;
      planFindings.set(ws, buildExecutionPlan(analysis as Analysis, k, now).findings);
    });
    phases.derive += performance.now() - mark;
    mark = performance.now();
    try {
      if (!write || !existsSync(stateDir)) return { written: [], removed: [] };
      const current = analysis;
      // Same graph and same node fields (name, type, status): the DAG files cannot have changed.
      const dagUnchanged =
        changed !== null &&
        affected !== null &&
        current.graph === previousGraph &&
        changed.every((c) => c.before !== undefined && c.after !== undefined && c.before.name === c.after.name && c.before.type === c.after.type && c.before.status === c.after.status);
      return await withLock(stateDir, {}, () => writeAnalysisFiles(root, current, { ...(affected ? { workstreams: affected } : {}), ...(dagUnchanged ? { dag: false } : {}) }));
    } finally {
      phases.write += performance.now() - mark;
    }
  };

  const diff = (files: string[], written: string[], removed: string[], workstreams: string[], started: number): WatchUpdate => {
    const next = allFindings();
    const added: Finding[] = [];
    const cleared: Finding[] = [];
    for (const [k, f] of next) if (!current.has(k)) added.push(f);
    for (const [k, f] of current) if (!next.has(k)) cleared.push(f);
    current = next;
    const round = (x: number): number => Math.round(x * 10) / 10;
    const result = { files, added, cleared, written, removed, workstreams, elapsedMs: performance.now() - started, phases: { read: round(phases.read), derive: round(phases.derive), write: round(phases.write), checks: round(phases.checks) } };
    phases = { read: 0, derive: 0, write: 0, checks: 0 };
    return result;
  };

  // ---- change processing -------------------------------------------------
  const timers = new Map<string, NodeJS.Timeout>();
  const pending = new Map<string, number>();
  let processing: Promise<void> = Promise.resolve();
  let closed = false;

  const wsOfId = (id: string): string | undefined => tasks.get(id)?.task.workstream_id;

  /** Workstreams whose DAG/plan files show something of task `id` (its own, and, via external edges, its neighbours'). */
  const neighbourWorkstreams = (id: string, into: Set<string>): void => {
    const t = tasks.get(id);
    if (t) for (const d of t.task.dependencies ?? []) {
      const ws = wsOfId(d);
      if (ws) into.add(ws);
    }
    const g = analysis?.graph;
    const v = g?.index.get(id);
    if (g && v !== undefined) {
      for (let e = g.outStart[v] as number, end = g.outStart[v + 1] as number; e < end; e++) into.add(g.workstreams[g.ws[g.outs[e] as number] as number] as string);
    }
  };

  const readTask = async (rel: string): Promise<{ task?: LoadedTask; findings: Finding[]; gone: boolean }> => {
    for (let attempt = 0; ; attempt++) {
      const gone = !existsSync(join(root, rel));
      const r = gone ? { findings: [] as Finding[] } : loadTaskFile(root, rel);
      const transient = gone || (!r.task && r.findings.some((f) => f.severity === 'error'));
      if (!transient || attempt >= 1) return { ...r, gone };
      await sleep(retryMs);
    }
  };

  const processBatch = async (batch: Map<string, number>): Promise<void> => {
    const files = [...batch.keys()].sort();
    const started = Math.min(...batch.values());
    let affected: Set<string> | null = new Set<string>();
    /** Ids added, removed, renamed or moved to another workstream: their dependents' files change too. */
    const identityChanged = new Set<string>();
    /** Tasks whose cross-file findings may change. */
    const seeds = new Set<string>();
    const changedTasks: LoadedTask[] = [];
    const changedPairs: Array<{ before?: TaskDefinition; after?: TaskDefinition }> = [];
    let registriesChanged = false;
    for (const rel of files) {
      if (rel.startsWith('capabilities/')) {
        registriesChanged = true;
        continue;
      }
      if (rel === CONFIG_FILE) {
        config = loadConfig(root);
        registriesChanged = true;
        continue;
      }
      if (!rel.startsWith('tasks/') || !rel.endsWith('.json')) continue;
      const oldId = idOfFile.get(rel);
      const old = oldId !== undefined && tasks.get(oldId)?.file === rel ? tasks.get(oldId) : undefined;
      const oldDeps = new Set(old?.task.dependencies ?? []);
      if (old && oldId !== undefined) {
        affected.add(old.task.workstream_id);
        seeds.add(oldId);
        for (const d of oldDeps) seeds.add(d);
      }
      const readStart = performance.now();
      const r = await readTask(rel);
      phases.read += performance.now() - readStart;
      const own = [...r.findings];
      let next: LoadedTask | undefined;
      if (r.task) {
        const id = r.task.task.task_id;
        const other = tasks.get(id);
        if (other && other.file !== rel) {
          const at = r.task.locate(['task_id']);
          own.push({
            requirement: 'TASK-DEF-001',
            severity: 'error',
            file: rel,
            line: at.line,
            column: at.column,
            message: `task id "${id}" is already defined by ${other.file}; this file is ignored`,
            fix: 'give one of the two tasks another id (file name and task_id), or delete the duplicate',
          });
        } else next = r.task;
      }
      const sameIdentity = old !== undefined && next !== undefined && old.task.task_id === next.task.task_id && old.task.workstream_id === next.task.workstream_id;
      if (old && oldId !== undefined && !sameIdentity) {
        // Removed, renamed or moved: every workstream showing it changes.
        neighbourWorkstreams(oldId, affected);
        identityChanged.add(oldId);
      }
      if (old && oldId !== undefined) {
        tasks.delete(oldId);
        idOfFile.delete(rel);
        crossByFile.delete(rel);
        regByFile.delete(rel);
      }
      if (next) {
        const id = next.task.task_id;
        tasks.set(id, next);
        idOfFile.set(rel, id);
        knownIds.delete(id);
        changedTasks.push(next);
        affected.add(next.task.workstream_id);
        seeds.add(id);
        const newDeps = new Set(next.task.dependencies ?? []);
        for (const d of newDeps) seeds.add(d);
        if (!sameIdentity) {
          identityChanged.add(id);
          neighbourWorkstreams(id, affected);
        } else {
          // Same id and workstream: only dependencies that came or went touch other files.
          for (const d of newDeps) if (!oldDeps.has(d)) affected.add(wsOfId(d) ?? next.task.workstream_id);
          for (const d of oldDeps) if (!newDeps.has(d)) {
            const ws = wsOfId(d);
            if (ws) affected.add(ws);
          }
        }
      }
      if (own.length > 0 && !r.gone) fileFindings.set(rel, own);
      else fileFindings.delete(rel);
      changedPairs.push({ ...(old ? { before: old.task } : {}), ...(next ? { after: next.task } : {}) });
    }
    if (registriesChanged) {
      loadRegistries();
      affected = null; // resources or parallelism changed: every plan may change
    }
    let written: string[] = [];
    let removed: string[] = [];
    try {
      ({ written, removed } = await derive(affected, identityChanged, registriesChanged ? null : changedPairs));
    } catch (error) {
      emitter.emit('error', error);
    }
    // Cross-file findings: the changed tasks, their old and new dependencies, and whoever names a changed id.
    const g = analysis?.graph;
    for (const id of identityChanged) {
      const v = g?.index.get(id);
      if (g && v !== undefined) for (let e = g.outStart[v] as number, end = g.outStart[v + 1] as number; e < end; e++) seeds.add(g.ids[g.outs[e] as number] as string);
      for (const issue of g?.issues ?? []) if (issue.kind === 'missing' && issue.target === id) seeds.add(issue.task);
    }
    // Files of tasks named as missing dependencies before this change may be fixed now.
    for (const [file, list] of crossByFile) {
      if (list.some((f) => [...identityChanged].some((id) => f.message.includes(`"${id}"`)))) {
        const id = idOfFile.get(file);
        if (id) seeds.add(id);
      }
    }
    const checksStart = performance.now();
    if (registriesChanged) registryChecks();
    else registryChecks(changedTasks);
    crossCheckSome(seeds);
    phases.checks += performance.now() - checksStart;
    const update = diff(files, written, removed, affected ? [...affected].sort() : analysis ? [...analysis.graph.workstreams] : [], started);
    emitter.emit('update', update);
  };

  const kick = (): void => {
    processing = processing.then(async () => {
      if (closed || pending.size === 0) return;
      const batch = new Map(pending);
      pending.clear();
      try {
        await processBatch(batch);
      } catch (error) {
        emitter.emit('error', error);
      }
    });
  };

  const schedule = (absPath: string): void => {
    if (closed) return;
    const rel = toPosix(relative(root, absPath));
    if (isIgnoredPath(rel)) return;
    const relevant = (rel.startsWith('tasks/') && rel.endsWith('.json')) || rel.startsWith('capabilities/') || rel === CONFIG_FILE;
    if (!relevant) return;
    const prev = timers.get(rel);
    if (prev) clearTimeout(prev);
    timers.set(
      rel,
      setTimeout(() => {
        timers.delete(rel);
        if (!pending.has(rel)) pending.set(rel, performance.now());
        kick();
      }, debounceMs),
    );
  };

  // ---- initial load and watcher ---------------------------------------------
  let watcher: FSWatcher | undefined;
  let metricsTimer: MetricsTimer | undefined;
  const ready = (async () => {
    const started = performance.now();
    const set = loadTasks(root);
    knownIds = new Set(set.invalidIds);
    for (const [id, t] of set.tasks) {
      tasks.set(id, t);
      idOfFile.set(t.file, id);
    }
    loadRegistries();
    const cross = crossCheckTasks(root, tasks, { knownIds });
    groupByFile(cross, crossByFile, []);
    const crossKeys = new Set(cross.map(findingKey));
    for (const f of set.findings) {
      if (crossKeys.has(findingKey(f))) continue;
      fileFindings.set(f.file, [...(fileFindings.get(f.file) ?? []), f]);
    }
    registryChecks();
    const { written, removed } = await derive(null);
    initialUpdate = diff([''], written, removed, analysis ? [...analysis.graph.workstreams] : [], started);

    // One watch on the root; `ignored` prunes everything but tasks/, capabilities/ and the config file.
    const w = watch(root, {
      ignoreInitial: true,
      persistent: true,
      // Directories are never ignored by name here (chokidar asks once without stats); only files by suffix.
      ignored: (path: string) => {
        const rel = toPosix(relative(root, path));
        if (rel === '') return false;
        const top = rel.split('/')[0] as string;
        if (top !== 'tasks' && top !== 'capabilities' && rel !== CONFIG_FILE) return true;
        return isIgnoredPath(rel);
      },
      depth: 99,
    });
    watcher = w;
    w.on('add', schedule).on('change', schedule).on('unlink', schedule);
    // chokidar drops a 'change' whose stat looks unchanged (5 ms throttle, mtime/atime test); the raw
    // inotify event is the safety net: re-reading an unchanged file is harmless.
    w.on('raw', (_event, evPath: string, details: unknown) => {
      const watched = (details as { watchedPath?: string } | undefined)?.watchedPath;
      if (!watched || !evPath) return;
      schedule(basename(watched) === evPath ? watched : join(watched, evPath));
    });
    w.on('error', (error) => emitter.emit('error', error));
    await new Promise<void>((resolve) => w.once('ready', () => resolve()));
    const interval = options.metricsIntervalMs ?? config.metrics_interval_seconds * 1000;
    if (interval > 0) {
      // The shared timer (src/derive/timer.ts): at least every 60 s, never overlapping, seq-guarded writes.
      metricsTimer = startMetricsTimer(root, {
        intervalMs: interval,
        ...(options.clock ? { clock: options.clock } : {}),
        onRefresh: () => emitter.emit('metrics', stateRel(METRICS_FILE)),
        onError: (error) => emitter.emit('error', error),
      });
    }
  })();

  const api: Watcher = {
    ready,
    async close() {
      closed = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      await metricsTimer?.stop();
      await ready.catch(() => undefined);
      await processing.catch(() => undefined);
      await watcher?.close();
    },
    on(event: string, listener: (...args: never[]) => void) {
      emitter.on(event, listener as (...args: unknown[]) => void);
      return api;
    },
    findings: () => [...current.values()],
    initial: () => initialUpdate,
  } as Watcher;
  return api;
}
