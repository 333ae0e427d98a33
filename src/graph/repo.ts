/**
 * Everything the graph commands read from a repository, read once.
 *
 * Public API:
 *   - loadGraphInputs(root, options?): Promise<GraphInputs>   (stable; options.taskSet: definitions already loaded; options.cachedDefinitions for ready)
 *   - GraphInputs                                            (stable type)
 * Reads: tasks/ (A's loadTasks), the resource registry (loadResources, through the per-user ../registry/cache.js),
 * orc-state.config.json (loadConfig), `.state/current.json` (B2's
 * readSnapshot; a corrupt snapshot is reported as a note and statuses fall
 * back to the definitions), and past run durations from the event log.
 * Integration points: `orc-state plan|ready`, watch's first load.
 * Dependencies: ../repo/load-tasks.js, ../engine/definitions-cache.js, ../registry/cache.js, ../config.js,
 * ../engine/snapshot.js, ../derive/status-view.js, ./files.js, ./estimates.js.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { OrcError } from '../errors.js';
import type { Snapshot } from '../model.js';
import { loadConfig, type LoadedConfig } from '../config.js';
import { readSnapshot } from '../engine/snapshot.js';
import { readStatusView } from '../derive/status-view.js';
import { loadTasks, type TaskSet } from '../repo/load-tasks.js';
import { loadPlanTasksCached } from '../engine/definitions-cache.js';
import type { ResourceRegistry } from '../registry/index.js';
import { loadResourcesCached } from '../registry/cache.js';
import type { RunHistory } from './estimates.js';
import { analyze, historyFor, type Analysis } from './files.js';

export interface GraphInputs {
  root: string;
  taskSet: TaskSet;
  registry: ResourceRegistry;
  config: LoadedConfig;
  snapshot: Snapshot | null;
  /** Why the snapshot could not be used, when it could not. */
  snapshotProblem: string | null;
  history: RunHistory;
  maxParallel: number;
  analysis: Analysis;
}

export async function loadGraphInputs(
  root: string,
  /**
   * taskSet: definitions already loaded; cachedDefinitions: definitions from the per-user cache (re-validated whenever a
   * task file changed; locations at line 1; each task cut to the fields the graph, plans and ready read: PlanFields), for
   * commands that print no task-file locations and read nothing else of a definition (ready). statusesOnly: the snapshot
   * is only read for task statuses and last_seq (from .state/by_status.json when it is fresh: ../derive/status-view.js).
   */
  options: { maxParallel?: number; taskSet?: TaskSet; cachedDefinitions?: boolean; statusesOnly?: boolean } = {},
): Promise<GraphInputs> {
  if (!existsSync(root)) throw new OrcError('UNREADABLE_INPUT', `repository root ${root} does not exist`, { fix: 'pass an existing directory with --root' });
  if (!existsSync(join(root, 'tasks'))) {
    throw new OrcError('NOT_FOUND', `no tasks/ directory in ${root}`, {
      location: { file: 'tasks' },
      fix: 'run the command from the repository root (or pass --root), or create tasks/{workstream_id}/{task_id}.json files',
    });
  }
  const taskSet = options.taskSet ?? (options.cachedDefinitions ? loadPlanTasksCached(root) : loadTasks(root));
  const registry = loadResourcesCached(root);
  const config = loadConfig(root);
  let snapshot: Snapshot | null = null;
  let snapshotProblem: string | null = null;
  try {
    snapshot = (options.statusesOnly ? readStatusView(root) : null) ?? readSnapshot(root);
  } catch (error) {
    snapshotProblem = error instanceof Error ? error.message : String(error);
  }
  const history = await historyFor(root, snapshot);
  const maxParallel = options.maxParallel ?? config.max_parallelism;
  const analysis = analyze({ taskSet, snapshot, resources: registry.resources, history, maxParallel });
  return { root, taskSet, registry, config, snapshot, snapshotProblem, history, maxParallel, analysis };
}
