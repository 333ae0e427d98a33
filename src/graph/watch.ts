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
import type { Finding, Snapshot } from '../model.js';
import { CONFIG_FILE, loadConfig, type LoadedConfig } from '../config.js';
import { computeMetrics, writeMetrics } from '../derive/metrics.js';
import { recentEvents } from '../engine/derive.js';
import { readSnapshot } from '../engine/snapshot.js';
import { withLock } from '../io/lock.js';
import { checkTaskCapabilities, checkTaskResources, loadCapabilities, loadResources, type CapabilityRegistry, type ResourceRegistry } from '../registry/index.js';
import { crossCheckTasks, loadTaskFile, loadTasks, type LoadedTask } from '../repo/load-tasks.js';
import { analyze, buildExecutionPlan, historyFor, writeAnalysisFiles, type Analysis } from './files.js';

export interface WatchOptions {
  /** Per-file debounce (default: config watch_debounce_ms, 150). */
  debounceMs?: number;
  /** Delay before the one retry of a file that did not parse or vanished (default 100). */
  retryMs?: number;
  /** Metrics refresh period; 0 disables (default: config metrics_interval_seconds × 1000). */
  metricsIntervalMs?: number;
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
  const stateDir = join(root, '.state');
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
  let crossFindings: Finding[] = [];
  let registryFindings: Finding[] = [];
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

  const registryChecks = (): void => {
    const list = [...tasks.values()];
    registryFindings = [...capabilities.findings, ...resources.findings, ...checkTaskCapabilities(list, capabilities), ...checkTaskResources(list, resources), ...config.findings];
  };

  const allFindings = (): Map<string, Finding> => {
    const out = new Map<string, Finding>();
    const add = (f: Finding): void => void out.set(findingKey(f), f);
    for (const list of fileFindings.values()) list.forEach(add);
    crossFindings.forEach(add);
    registryFindings.forEach(add);
    analysis?.findings.forEach(add);
    for (const list of planFindings.values()) list.forEach(add);
    return out;
  };

  const derive = async (affected: Set<string> | null, changedIds: Iterable<string> = []): Promise<{ written: string[]; removed: string[] }> => {
    const snap = readSnapshotCached();
    const history = await historyFor(root, snap);
    analysis = analyze({
      taskSet: { tasks },
      snapshot: snap,
      resources: resources.resources,
      history,
      maxParallel: options.maxParallel ?? config.max_parallelism,
    });
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
    if (!write || !existsSync(stateDir)) return { written: [], removed: [] };
    const current = analysis;
    return withLock(stateDir, {}, () => writeAnalysisFiles(root, current, affected ? { workstreams: affected } : {}));
  };

  const diff = (files: string[], written: string[], removed: string[], workstreams: string[], started: number): WatchUpdate => {
    const next = allFindings();
    const added: Finding[] = [];
    const cleared: Finding[] = [];
    for (const [k, f] of next) if (!current.has(k)) added.push(f);
    for (const [k, f] of current) if (!next.has(k)) cleared.push(f);
    current = next;
    return { files, added, cleared, written, removed, workstreams, elapsedMs: performance.now() - started };
  };

  // ---- change processing -------------------------------------------------
  const timers = new Map<string, NodeJS.Timeout>();
  const pending = new Map<string, number>();
  let processing: Promise<void> = Promise.resolve();
  let closed = false;

  const wsOfId = (id: string): string | undefined => tasks.get(id)?.task.workstream_id;

  /** Workstreams touched by a task id: its own, its dependencies', its dependents'. */
  const touched = (id: string, into: Set<string>): void => {
    const t = tasks.get(id);
    if (t) {
      into.add(t.task.workstream_id);
      for (const d of t.task.dependencies ?? []) {
        const ws = wsOfId(d);
        if (ws) into.add(ws);
      }
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
    const changedIds = new Set<string>();
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
      if (oldId !== undefined) {
        changedIds.add(oldId);
        touched(oldId, affected);
        if (tasks.get(oldId)?.file === rel) tasks.delete(oldId);
        idOfFile.delete(rel);
      }
      const r = await readTask(rel);
      const own = [...r.findings];
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
        } else {
          tasks.set(id, r.task);
          idOfFile.set(rel, id);
          changedIds.add(id);
          touched(id, affected);
          knownIds.delete(id);
        }
      }
      if (own.length > 0 && !r.gone) fileFindings.set(rel, own);
      else fileFindings.delete(rel);
    }
    if (registriesChanged) {
      loadRegistries();
      affected = null; // resources or parallelism changed: every plan may change
    }
    crossFindings = crossCheckTasks(root, tasks, { knownIds });
    registryChecks();
    let written: string[] = [];
    let removed: string[] = [];
    try {
      ({ written, removed } = await derive(affected, changedIds));
    } catch (error) {
      emitter.emit('error', error);
    }
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
  let metricsTimer: NodeJS.Timeout | undefined;
  const ready = (async () => {
    const started = performance.now();
    const set = loadTasks(root);
    knownIds = new Set(set.invalidIds);
    for (const [id, t] of set.tasks) {
      tasks.set(id, t);
      idOfFile.set(t.file, id);
    }
    loadRegistries();
    crossFindings = crossCheckTasks(root, tasks, { knownIds });
    const crossKeys = new Set(crossFindings.map(findingKey));
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
      metricsTimer = setInterval(() => {
        processing = processing.then(() => refreshMetrics());
      }, interval);
      metricsTimer.unref?.();
    }
  })();

  const refreshMetrics = async (): Promise<void> => {
    if (closed || !existsSync(stateDir)) return;
    try {
      const snap = readSnapshotCached();
      if (!snap) return;
      const now = new Date();
      await withLock(stateDir, {}, () => writeMetrics(stateDir, computeMetrics(snap, recentEvents(root, now), now)));
      emitter.emit('metrics', '.state/metrics.json');
    } catch (error) {
      emitter.emit('error', error);
    }
  };

  const api: Watcher = {
    ready,
    async close() {
      closed = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      if (metricsTimer) clearInterval(metricsTimer);
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
