/**
 * AIDER-INT-002 (MUST): the aider adapter passes only the task's context
 * files. Checked on every `aider` task with the same selection code the
 * adapter runs (src/runner/context.ts), so gate and runner agree:
 *  - no required file matches the task's own exclude_patterns (the adapter
 *    would refuse to run);
 *  - the required files fit max_context_tokens (estimate: bytes / 4);
 *  - execution.command names no file itself (`--file`, `--read`, or a word that is
 *    an existing file): context comes only from context_requirements.
 * Optional files that are excluded or over budget are fine (the adapter skips
 * them); missing required files and paths outside the repo are TASK-DEF-002's.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner; shares ctx.once('tasks').
 * Dependencies: node:fs, node:path, ../../repo/load-tasks.js, ../../runner/aider.js, ../../runner/context.js, ../types.js.
 */
import { statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Finding } from '../../model.js';
import { loadTasks } from '../../repo/load-tasks.js';
import { buildAiderCommand } from '../../runner/aider.js';
import { fileFacts, selectContext } from '../../runner/context.js';
import type { Rule } from '../types.js';

const RID = 'AIDER-INT-002';

export const rule: Rule = {
  id: RID,
  level: 'MUST',
  section: 'machines',
  title: "The adapter passes only the task's context files",
  check(ctx) {
    const set = ctx.once('tasks', () => loadTasks(ctx.root, { texts: 'on-demand' }));
    const aiderTasks = [...set.tasks.values()].filter((t) => t.task.type === 'aider');
    if (aiderTasks.length === 0) return { skip: 'no task of type "aider" to check' };
    const findings: Finding[] = [];
    const facts = fileFacts(); // the gate reads; the tree does not change during the run
    for (const lt of aiderTasks) {
      const t = lt.task;
      const push = (path: Array<string | number>, message: string, fix: string) => {
        const loc = lt.locate(path);
        findings.push({ requirement: RID, severity: 'error', file: lt.file, line: loc.line, column: loc.column, message, fix });
      };
      if (!t.context_requirements) continue; // schema validation (TASK-DEF-002) reports the missing block
      const selection = selectContext(ctx.root, t, { promptBytes: Buffer.byteLength(`${t.execution?.command ?? ''} ${t.description ?? ''}`), facts });
      for (const p of selection.problems) {
        if (p.error_type === 'context_overflow') {
          push(p.path, `task ${t.task_id}: ${p.message}; the adapter would refuse to run it`, `raise context_requirements.max_context_tokens to at least ${selection.estimated_tokens}, or move files from required_files to optional_files`);
        } else if (/matches its own exclude pattern/.test(p.message)) {
          push(p.path, `task ${t.task_id}: ${p.message}; the adapter never passes excluded files, so it would refuse to run`, 'remove the file from required_files or narrow exclude_patterns');
        }
      }
      const wd = resolve(ctx.root, t.execution?.working_directory ?? '.');
      const command = buildAiderCommand(t, [], {
        isFile: (w) => {
          const abs = resolve(wd, w);
          const rel = relative(ctx.root, abs);
          if (rel.startsWith('..') || isAbsolute(rel)) return false;
          try {
            return statSync(abs).isFile();
          } catch {
            return false;
          }
        },
      });
      if ('error' in command) push(['execution', 'command'], `task ${t.task_id}: ${command.error}`, 'keep only the executable, options and --message in execution.command; list files in context_requirements');
    }
    return { findings };
  },
};
