/**
 * CAP-REG-001 (MUST): the capability registry (capabilities/registry.psd1, or
 * registry.yaml/.yml/.json) parses — the PowerShell data-file subset is parsed
 * in TypeScript — and each entry has CapabilityId, Name, Description,
 * Provider, Requirements and Operations, ids unique; every capability a task
 * names in worker_requirements.capabilities exists.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner; shares loads
 * through ctx.once('tasks') and ctx.once('capabilities').
 * Dependencies: ../../registry/index.js, ../../repo/load-tasks.js, ../../repo/task-summary.js, ../types.js.
 */
import { checkTaskCapabilities, loadCapabilities } from '../../registry/index.js';
import { loadTasks } from '../../repo/load-tasks.js';
import { someSummary } from '../../repo/task-summary.js';
import type { Rule } from '../types.js';

export const rule: Rule = {
  id: 'CAP-REG-001',
  level: 'MUST',
  section: 'registry',
  title: 'Capability registry parses and names every required capability',
  tasks: 'summary', // reads only summaryOf(task), file, sourceVersion and locate
  check(ctx) {
    const caps = ctx.once('capabilities', () => loadCapabilities(ctx.root));
    const set = ctx.once('tasks', () => loadTasks(ctx.root, { texts: 'on-demand' }));
    const needed = someSummary(set.tasks.values(), (s) => (s.worker_requirements?.capabilities?.length ?? 0) > 0);
    if (caps.file === null && !needed) return { skip: 'no capability registry (capabilities/registry.psd1) and no task requires a capability' };
    const taskFindings = ctx.once('capabilities:tasks', () => checkTaskCapabilities(set.tasks.values(), caps));
    return {
      findings: [...caps.findings, ...taskFindings].filter((f) => f.requirement === 'CAP-REG-001'),
    };
  },
};
