/**
 * TASK-DEF-002 (MUST): every task file validates against the task schema of
 * its schema_version (2.0.0; 1.0.0 is upgraded in memory with a notice; any
 * other version is refused), each error located as file:line:column;
 * dependencies name existing tasks; `blocks` is the exact inverse of
 * `dependencies` (repaired by the gate's generic --fix); required_files exist
 * and every context file stays inside the repo. Also covers unreadable task
 * files: bad JSON, BOM, non-UTF-8, size and depth limits, duplicate and
 * prototype keys.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner; shares the task
 * load through ctx.once('tasks'); the blocks repair lives in src/compliance/fix (D).
 * Dependencies: ../../repo/load-tasks.js, ../types.js.
 */
import { loadTasks } from '../../repo/load-tasks.js';
import type { Rule } from '../types.js';

export const rule: Rule = {
  id: 'TASK-DEF-002',
  level: 'MUST',
  section: 'tasks',
  title: 'Task files validate against the task schema v2.0.0',
  tasks: 'summary', // reads only summaryOf(task), file, sourceVersion and locate
  fixable: true,
  check(ctx) {
    const set = ctx.once('tasks', () => loadTasks(ctx.root, { texts: 'on-demand' }));
    const findings = set.findings.filter((f) => f.requirement === 'TASK-DEF-002');
    if (set.filesRead === 0 && findings.length === 0) return { skip: 'no task files under tasks/' };
    return { findings };
  },
};
