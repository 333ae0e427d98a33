/**
 * Adopting a repository for orc-state (`orc-state init`).
 *
 * Public API (stable): initStore(root, { lockTimeoutMs? }) → Promise<InitResult>;
 *   editorSchemaPath(root) → "./…/schemas/task.vX.schema.json" or null (package outside the repo).
 * Creates, when missing: tasks/, capabilities/, .state/, .state/archive/,
 * .state/transitions.jsonl (empty) and .state/current.json (an empty snapshot
 * at seq 0, plus derived files), all under the .state lock. Existing files
 * are never overwritten; they are listed as kept. Then:
 *   - the guide's Quick Start layout (.state/{backups,archive,logs}, an empty
 *     or guide-style current.json with empty workstreams/tasks/workers and an
 *     empty transitions.jsonl) is an empty store: current.json is upgraded in
 *     place (the original is kept in .state/backups/, see the commit path);
 *   - task files already under tasks/ are registered (the same batch as
 *     `orc-state sync`), so no separate sync is needed; files that do not load
 *     are reported with their findings and left unregistered;
 *   - editor wiring: .vscode/settings.json maps tasks/**\/*.json to the task
 *     schema by a path that resolves in this repository (./schemas/… here,
 *     ./node_modules/orc-state/schemas/… where orc-state is installed as a
 *     package); an existing settings file is never edited (the entry to add
 *     is returned instead);
 *   - `next`: the commands to run next.
 * Integration points: CLI init; library users.
 * Dependencies: node:fs, node:path, ./commit.js, ./snapshot.js, ./paths.js,
 * ../io/jsonl-log.js, ../io/atomic-write.js, ../repo/load-tasks.js, ../schema/registry.js, ../paths.js.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Finding } from '../model.js';
import { appendDurable } from '../io/jsonl-log.js';
import { writeFileDurable } from '../io/atomic-write.js';
import { internalStore, syncDefinitions, type CommitNotice } from './commit.js';
import { loadTasks } from '../repo/load-tasks.js';
import { knownVersions, schemaFile } from '../schema/registry.js';
import { packageRoot } from '../paths.js';
import { placeholderSnapshot } from './snapshot.js';
import { rel, statePaths } from './paths.js';

export interface EditorWiring {
  file: string;
  status: 'created' | 'kept' | 'skipped';
  /** The schema path written (or to add), relative to the repository root. */
  schema?: string;
  /** When the file was kept without the mapping, or skipped: why, and what to add. */
  hint?: string;
}

export interface InitResult {
  created: string[];
  kept: string[];
  /** Files replaced in place (the guide's placeholder current.json), with where the original is kept. */
  upgraded: Array<{ file: string; backup: string }>;
  /** Task definitions found under tasks/ that loaded. */
  definitions: number;
  /** Registered by this init (task_created / workstream_created). */
  registered: { tasks: string[]; workstreams: string[] };
  /** Task files that could not be loaded or registered (error findings). */
  skipped: Finding[];
  notices: CommitNotice[];
  editor: EditorWiring;
  /** Commands to run next, most useful first. */
  next: string[];
}

const SETTINGS = '.vscode/settings.json';

/** A repo-relative './…' path to the task schema shipped with this orc-state, or null when the package lives outside the repository. */
export function editorSchemaPath(root: string): string | null {
  const latest = knownVersions('task').at(-1) ?? '2.0.0';
  const abs = join(packageRoot(), 'schemas', schemaFile('task', latest));
  const r = relative(root, abs);
  if (r === '' || r.startsWith('..') || isAbsolute(r)) return null;
  return `./${r.split(sep).join('/')}`;
}

async function wireEditor(root: string): Promise<EditorWiring> {
  const schema = editorSchemaPath(root);
  const abs = join(root, SETTINGS);
  if (schema === null) {
    return { file: SETTINGS, status: 'skipped', hint: 'orc-state runs from outside this repository (global install or npx cache): install it here (`npm install --save-dev orc-state`) and run `orc-state init` again to map tasks/**/*.json to its task schema' };
  }
  const entry = { fileMatch: ['tasks/**/*.json', '!tasks/.backups/**'], url: schema };
  if (existsSync(abs)) {
    let text = '';
    try {
      text = readFileSync(abs, 'utf8');
    } catch {
      // unreadable: keep it, say what to add
    }
    const mapped = text.includes('tasks/**/*.json') && text.includes('task.v');
    return mapped ? { file: SETTINGS, status: 'kept', schema } : { file: SETTINGS, status: 'kept', schema, hint: `add to "json.schemas" in ${SETTINGS}: ${JSON.stringify(entry)}` };
  }
  mkdirSync(join(root, '.vscode'), { recursive: true });
  await writeFileDurable(abs, `${JSON.stringify({ 'json.schemas': [entry], 'files.associations': { '*.psd1': 'powershell' } }, null, 2)}\n`);
  return { file: SETTINGS, status: 'created', schema };
}

export async function initStore(root: string, options: { lockTimeoutMs?: number } = {}): Promise<InitResult> {
  const paths = statePaths(root);
  const created: string[] = [];
  const kept: string[] = [];
  const upgraded: InitResult['upgraded'] = [];
  for (const dir of [join(root, 'tasks'), join(root, 'capabilities'), paths.stateDir, paths.archiveDir]) {
    if (existsSync(dir)) kept.push(rel(root, dir) + '/');
    else {
      mkdirSync(dir, { recursive: true });
      created.push(rel(root, dir) + '/');
    }
  }
  const lockOpts = options.lockTimeoutMs !== undefined ? { lockTimeoutMs: options.lockTimeoutMs } : {};
  const notices: CommitNotice[] = [];
  const store = internalStore(root, { cacheDefinitions: false });
  const taskSet = loadTasks(root);
  await store.locked(
    async (state, lockNotices) => {
      notices.push(...lockNotices);
      const placeholder = placeholderSnapshot(root) !== null;
      if (existsSync(paths.log)) kept.push(rel(root, paths.log));
      else {
        await appendDurable(paths.log, '');
        created.push(rel(root, paths.log));
      }
      if (existsSync(paths.current) && !placeholder) kept.push(rel(root, paths.current));
      else {
        if (!state.timestamp) state.timestamp = new Date().toISOString();
        const snapshot = await store.writeSnapshotAndAppend(state, [], []);
        if (placeholder) upgraded.push({ file: rel(root, paths.current), backup: rel(root, join(paths.backupsDir, 'current.json.quickstart')) });
        else created.push(rel(root, paths.current));
        const derived = await store.deriveSafely(taskSet, snapshot, [], {}, []);
        for (const f of derived?.written ?? []) if (!created.includes(f)) created.push(f);
      }
    },
    lockOpts,
  );
  // Adopt the task files already there: one sync batch (task_created / workstream_created).
  let registered: InitResult['registered'] = { tasks: [], workstreams: [] };
  let skipped: Finding[] = taskSet.findings.filter((f) => f.severity === 'error');
  if (taskSet.filesRead > 0) {
    const r = await syncDefinitions(root, lockOpts);
    registered = { tasks: r.createdTasks, workstreams: r.createdWorkstreams };
    skipped = r.skipped;
    notices.push(...r.notices);
  }
  const editor = await wireEditor(root);
  const next: string[] = [];
  if (skipped.length > 0) next.push(`orc-state validate   (${skipped.length} problem(s) kept task files from being registered; each is reported with file:line:column and a fix)`);
  if (taskSet.tasks.size === 0 && skipped.length === 0) next.push('add tasks/<workstream_id>/<task_id>.json (one task per file), then run orc-state sync');
  if (taskSet.tasks.size > 0) next.push('orc-state status   (what is registered)', 'orc-state ready    (what can start now)', 'orc-state validate --compliance   (the gate, as CI runs it)');
  else next.push('orc-state validate --compliance   (the gate, as CI runs it)');
  return { created, kept, upgraded, definitions: taskSet.tasks.size, registered, skipped, notices, editor, next };
}
