/**
 * TASK-DEF-001 (MUST): one task per file at tasks/{workstream_id}/{task_id}.json;
 * the file name equals task_id and the directory equals workstream_id; task
 * ids are unique across the whole repo and are safe file names; task files
 * never reach outside the repo through symbolic links.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner; shares the task
 * load through ctx.once('tasks').
 * Dependencies: ../../repo/load-tasks.js, ../types.js.
 */
import { loadTasks } from '../../repo/load-tasks.js';
import type { Rule } from '../types.js';

export const rule: Rule = {
  id: 'TASK-DEF-001',
  level: 'MUST',
  section: 'tasks',
  title: 'One task per file at tasks/{workstream_id}/{task_id}.json',
  tasks: 'summary', // reads only summaryOf(task), file, sourceVersion and locate
  check(ctx) {
    const set = ctx.once('tasks', () => loadTasks(ctx.root, { texts: 'on-demand' }));
    const findings = set.findings.filter((f) => f.requirement === 'TASK-DEF-001');
    if (set.filesRead === 0 && findings.length === 0) return { skip: 'no task files under tasks/' };
    return { findings };
  },
};
