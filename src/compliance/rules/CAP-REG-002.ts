/**
 * CAP-REG-002 (MUST): each capability has Version (semver), Stability
 * (experimental/stable/deprecated), SinceVersion (semver) and DeprecatedBy
 * ($null or an existing, different capability; a capability with DeprecatedBy
 * is marked deprecated); tasks that require a deprecated capability get a warning.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner; shares loads
 * through ctx.once('tasks') and ctx.once('capabilities').
 * Dependencies: ../../registry/index.js, ../../repo/load-tasks.js, ../types.js.
 */
import { checkTaskCapabilities, loadCapabilities } from '../../registry/index.js';
import { loadTasks } from '../../repo/load-tasks.js';
import type { Rule } from '../types.js';

export const rule: Rule = {
  id: 'CAP-REG-002',
  level: 'MUST',
  section: 'registry',
  title: 'Capabilities carry version, deprecation and stability fields',
  tasks: 'summary', // reads only summaryOf(task), file, sourceVersion and locate
  check(ctx) {
    const caps = ctx.once('capabilities', () => loadCapabilities(ctx.root));
    if (caps.file === null) return { skip: 'no capability registry (capabilities/registry.psd1, .yaml or .json)' };
    const set = ctx.once('tasks', () => loadTasks(ctx.root, { texts: 'on-demand' }));
    const taskFindings = ctx.once('capabilities:tasks', () => checkTaskCapabilities(set.tasks.values(), caps));
    return {
      findings: [...caps.findings, ...taskFindings].filter((f) => f.requirement === 'CAP-REG-002'),
    };
  },
};
