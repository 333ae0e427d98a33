/**
 * Scaffolding a repository for orc-state (`orc-state init`).
 *
 * Public API (stable): initStore(root, { lockTimeoutMs? }) → Promise<InitResult>.
 * Creates, when missing: tasks/, capabilities/, .state/, .state/archive/,
 * .state/transitions.jsonl (empty) and .state/current.json (an empty snapshot
 * at seq 0, plus derived files), all under the .state lock. Existing files
 * are never overwritten; they are listed as kept.
 * Integration points: CLI init; library users.
 * Dependencies: node:fs, ./commit.js, ../machines/index.js, ../repo/load-tasks.js.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { appendDurable } from '../io/jsonl-log.js';
import { internalStore } from './commit.js';
import { loadTasks } from '../repo/load-tasks.js';
import { rel, statePaths } from './paths.js';

export interface InitResult {
  created: string[];
  kept: string[];
  /** Task definitions found under tasks/ (to register with sync). */
  definitions: number;
}

export async function initStore(root: string, options: { lockTimeoutMs?: number } = {}): Promise<InitResult> {
  const paths = statePaths(root);
  const created: string[] = [];
  const kept: string[] = [];
  for (const dir of [join(root, 'tasks'), join(root, 'capabilities'), paths.stateDir, paths.archiveDir]) {
    if (existsSync(dir)) kept.push(rel(root, dir) + '/');
    else {
      mkdirSync(dir, { recursive: true });
      created.push(rel(root, dir) + '/');
    }
  }
  const store = internalStore(root, { cacheDefinitions: false });
  const taskSet = loadTasks(root);
  await store.locked(async (state) => {
    if (existsSync(paths.log)) kept.push(rel(root, paths.log));
    else {
      await appendDurable(paths.log, '');
      created.push(rel(root, paths.log));
    }
    if (existsSync(paths.current)) kept.push(rel(root, paths.current));
    else {
      if (!state.timestamp) state.timestamp = new Date().toISOString();
      const snapshot = await store.writeSnapshotAndAppend(state, [], []);
      created.push(rel(root, paths.current));
      const derived = await store.deriveSafely(taskSet, snapshot, [], {}, []);
      for (const f of derived?.written ?? []) if (!created.includes(f)) created.push(f);
    }
  }, options.lockTimeoutMs !== undefined ? { lockTimeoutMs: options.lockTimeoutMs } : {});
  return { created, kept, definitions: taskSet.tasks.size };
}
