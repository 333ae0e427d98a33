/**
 * Workstream status derivation (Decision 7) and the workstream -> task index.
 *
 * Public API:
 *   - deriveWorkstreamStatus(state, workstreamId, isCritical, override?) (stable):
 *     the status Decision 7 derives and the SM-DEF-002 trigger explaining it,
 *     or null when no rule matches or the rule yields `planned`.
 *   - workstreamTasks(state, workstreamId) (internal): task ids of a workstream,
 *     from an index cached per tasks map (rebuilt when the map's size changes).
 *   - noteTaskAdded(state, task) (internal): keeps the cache current on creation.
 * Integration points: src/machines/index.ts (planning and guards), the
 * SM-DEF-002 rule (checks snapshot workstreams against their tasks).
 * Dependencies: ../model.js (types), ./types.js.
 */
import type { TaskState, TaskStatus, WorkstreamStatus } from '../model.js';
import type { LiveState } from './types.js';

interface WsIndex {
  size: number;
  members: Map<string, string[]>;
}

const indexCache = new WeakMap<Map<string, TaskState>, WsIndex>();

function buildIndex(tasks: Map<string, TaskState>): WsIndex {
  const members = new Map<string, string[]>();
  for (const t of tasks.values()) {
    let list = members.get(t.workstream_id);
    if (!list) members.set(t.workstream_id, (list = []));
    list.push(t.task_id);
  }
  const idx = { size: tasks.size, members };
  indexCache.set(tasks, idx);
  return idx;
}

export function workstreamTasks(state: LiveState, workstreamId: string): readonly string[] {
  let idx = indexCache.get(state.tasks);
  if (!idx || idx.size !== state.tasks.size) idx = buildIndex(state.tasks);
  return idx.members.get(workstreamId) ?? [];
}

export function noteTaskAdded(state: LiveState, task: TaskState): void {
  const idx = indexCache.get(state.tasks);
  if (!idx) return;
  if (idx.size !== state.tasks.size - 1) {
    indexCache.delete(state.tasks);
    return;
  }
  let list = idx.members.get(task.workstream_id);
  if (!list) idx.members.set(task.workstream_id, (list = []));
  list.push(task.task_id);
  idx.size = state.tasks.size;
}

export interface DerivedStatus {
  status: WorkstreamStatus;
  trigger: string;
}

const ACTIVE: ReadonlySet<TaskStatus> = new Set<TaskStatus>(['running', 'validating', 'retrying', 'queued']);

/**
 * Decision 7, first match wins. `override` supplies task statuses that a
 * planned (not yet applied) event would set, and tasks not yet in the state.
 */
export function deriveWorkstreamStatus(
  state: LiveState,
  workstreamId: string,
  isCritical: (taskId: string) => boolean,
  override?: ReadonlyMap<string, TaskState>,
): DerivedStatus | null {
  const ids = new Set(workstreamTasks(state, workstreamId));
  if (override) for (const [id, t] of override) if (t.workstream_id === workstreamId) ids.add(id);
  if (ids.size === 0) return null; // rule 1: planned; no transition leads back to planned
  let anyCriticalFailed = false;
  let allCompleted = true;
  let anyActive = false;
  let allPendingOrQueued = true;
  for (const id of ids) {
    const status = (override?.get(id) ?? state.tasks.get(id))?.status;
    if (!status) continue;
    if (status === 'failed' && isCritical(id)) anyCriticalFailed = true;
    if (status !== 'completed') allCompleted = false;
    if (ACTIVE.has(status)) anyActive = true;
    if (status !== 'pending' && status !== 'queued') allPendingOrQueued = false;
  }
  if (anyCriticalFailed) return { status: 'failed', trigger: 'critical_task_failed' };
  if (allCompleted) return { status: 'validating', trigger: 'all_tasks_completed' };
  if (anyActive) return { status: 'executing', trigger: 'first_task_started' };
  if (allPendingOrQueued) return { status: 'ready', trigger: 'all_tasks_created' };
  return null;
}
