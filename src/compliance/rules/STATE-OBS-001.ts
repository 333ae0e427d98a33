/**
 * STATE-OBS-001 (MUST): `.state/current.json` holds the complete current
 * state of every workstream, task and worker. Checks: the file exists (when
 * the repo has task definitions or a log), parses and validates against
 * schemas/snapshot.v2.0.0 (every error located); every task defined under
 * tasks/ appears in it; no task in it lacks a definition unless it is marked
 * `orphaned`; a task file whose `status` was edited away from the value the
 * engine registered and now disagrees with the snapshot is a warning
 * (Decision 1: the file holds the initial value, .state/ is authoritative,
 * the two are never merged). Fixable: `--fix` runs `orc-state sync`
 * (registers definitions not yet in the state through the commit path,
 * marks orphans).
 *
 * Public API (stable): rule.
 * Integration points: compliance runner (discovered); memoised loads 'snapshot', 'tasks'; the
 * registered statuses from its visitor of the shared pass over the log (src/engine/event-pass.ts).
 * Dependencies: ../../engine/rule-loaders.js, ../../engine/event-pass.js, ../../engine/commit.js (syncDefinitions).
 */
import { existsSync } from 'node:fs';
import type { Finding, TaskState } from '../../model.js';
import type { TaskSet } from '../../repo/load-tasks.js';
import { statePaths } from '../../engine/paths.js';
import { locator, snapshotOf, tasksOf } from '../../engine/rule-loaders.js';
import { eventPass, wantEvents, type EventVisitor } from '../../engine/event-pass.js';
import type { Rule } from '../types.js';

const ID = 'STATE-OBS-001';

/** Task id → the status its task_created event registered (the last such event wins). */
function registeredStatuses(): EventVisitor<Map<string, string>> {
  const registered = new Map<string, string>();
  return {
    event(event) {
      if (event.entity_type === 'task' && event.trigger === 'task_created' && event.to_state) registered.set(event.entity_id, event.to_state);
    },
    end: () => registered,
  };
}

export const rule: Rule = {
  id: ID,
  level: 'MUST',
  section: 'state',
  title: '.state/current.json holds the complete current state',
  fixable: true,
  prepare(ctx) {
    wantEvents(ctx, ID, registeredStatuses);
  },
  async check(ctx) {
    const snap = snapshotOf(ctx);
    const tasks = tasksOf(ctx);
    const hasLog = existsSync(statePaths(ctx.root).log);
    if (!snap.exists) {
      if (tasks.tasks.size === 0 && !hasLog) return { skip: 'no task definitions and no .state/ to inspect' };
      if (tasks.tasks.size === 0 && snap.placeholder) return { skip: "current.json is the guide's Quick Start placeholder (an empty store) and there are no task definitions yet" };
      if (ctx.fix && tasks.tasks.size > 0) {
        const r = await syncUnderFix(ctx.root);
        return { findings: [{ requirement: ID, severity: 'notice', file: snap.file, line: 1, column: 1, message: `created current.json by registering ${r.createdTasks.length} task(s) (seq ${r.snapshot.last_seq})`, fix: 'none needed' }] };
      }
      return {
        findings: [
          snap.placeholder
            ? { requirement: ID, severity: 'error', file: snap.file, line: 1, column: 1, message: `${snap.file} is the guide's Quick Start placeholder: no state yet, although ${tasks.tasks.size} task definition(s) exist`, fix: 'run `orc-state init` (it upgrades current.json in place, keeping the original in .state/backups/, and registers the task files) or `orc-state validate --fix`' }
            : { requirement: ID, severity: 'error', file: snap.file, line: 1, column: 1, message: `${snap.file} is missing (${tasks.tasks.size} task definition(s) exist)`, fix: 'run `orc-state init` then `orc-state sync` (or `orc-state validate --fix`)' },
        ],
      };
    }
    const findings: Finding[] = [...snap.findings];
    const s = snap.snapshot;
    if (!s) return { findings };
    const at = locator(snap.text);
    const inState = new Map(s.tasks.map((t, i) => [t.task_id, { t, i }]));
    const missing: string[] = [];
    for (const [id, loaded] of tasks.tasks) {
      if (inState.has(id)) continue;
      missing.push(id);
      findings.push({ requirement: ID, severity: 'error', file: loaded.file, line: 1, column: 1, message: `task ${id} is defined here but absent from ${snap.file}`, fix: 'run `orc-state sync` to register it (or `orc-state validate --fix`)' });
    }
    let orphans = 0;
    for (const [id, { t, i }] of inState) {
      if (tasks.tasks.has(id) || tasks.invalidIds?.has(id) || t.orphaned === true) continue;
      orphans++;
      const where = at(['tasks', i]);
      findings.push({ requirement: ID, severity: 'error', file: snap.file, line: where.line, column: where.column, message: `task ${id} is in the state but has no definition under tasks/ and is not marked orphaned`, fix: `restore tasks/${t.workstream_id}/${id}.json, or run \`orc-state sync\` to mark it orphaned` });
    }
    findings.push(...(await statusDisagreements(ctx, s.tasks, tasks)));
    if (ctx.fix && (missing.length || orphans) && snap.findings.length === 0) {
      const r = await syncUnderFix(ctx.root);
      return {
        findings: [
          { requirement: ID, severity: 'notice', file: snap.file, line: 1, column: 1, message: `orc-state sync: registered ${r.createdTasks.length} task(s), marked ${r.orphaned.length} orphaned (seq ${r.snapshot.last_seq})`, fix: 'none needed' },
        ],
      };
    }
    return { findings };
  },
};

/**
 * Decision 1: a task file's `status` is the initial value the engine used when
 * it registered the task (the `to_state` of its task_created event). A file
 * edited to another status that the snapshot does not share is reported, so a
 * person who edits the file to change the runtime state learns that it did not.
 */
async function statusDisagreements(ctx: Parameters<Rule['check']>[0], stateTasks: TaskState[], tasks: TaskSet): Promise<Finding[]> {
  const snapshotStatus = new Map(stateTasks.map((t) => [t.task_id, t.status]));
  const suspects = [...tasks.tasks.values()].filter((lt) => {
    const now = snapshotStatus.get(lt.task.task_id);
    return now !== undefined && now !== lt.task.status;
  });
  if (suspects.length === 0) return [];
  const registered = await eventPass(ctx, ID, registeredStatuses);
  const findings: Finding[] = [];
  for (const lt of suspects) {
    const id = lt.task.task_id;
    const initial = registered.get(id);
    // Without the creation event (pruned history) the initial value is unknown: say nothing rather than guess.
    if (initial === undefined || initial === lt.task.status) continue;
    const where = lt.locate(['status']);
    findings.push({
      requirement: ID,
      severity: 'warning',
      file: lt.file,
      line: where.line,
      column: where.column,
      message: `"status" is "${lt.task.status}" here, but the engine registered the task as "${initial}" and its state is now "${snapshotStatus.get(id)}": editing the task file does not change the runtime state (.state/ is authoritative)`,
      fix: `set "status" back to "${initial}", and change the state with \`orc-state task ${id} <trigger>\` (see \`orc-state why ${id}\`)`,
    });
  }
  return findings;
}

/** The commit path is imported only under --fix: a read-only gate run does not load the engine's writers. */
async function syncUnderFix(root: string) {
  const { syncDefinitions } = await import('../../engine/commit.js');
  return syncDefinitions(root);
}
