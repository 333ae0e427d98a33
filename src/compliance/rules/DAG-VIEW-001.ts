/**
 * DAG-VIEW-001 (MUST): `.state/dag_{workstream_id}.json` exists for every
 * workstream, is fresh (its nodes and edges match the graph built from
 * tasks/ now) and the graph is acyclic (a cycle is reported with its full
 * path and the file:line:column of each dependency entry on it).
 * Fixable: under --fix every DAG and plan file is regenerated (under the
 * .state lock); cycles are never "fixed" automatically.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner; memo keys
 * 'tasks', 'resources', 'snapshot' and the run history from the shared pass
 * over the event log (via src/graph/checks.ts; Rule.prepare registers it).
 * Dependencies: ../../graph/checks.js, ../types.js.
 */
import { checkDagFreshness, graphRuleInputs, prepareGraphInputs, regenerate } from '../../graph/checks.js';
import { existsSync } from 'node:fs';
import type { Rule } from '../types.js';

export const rule: Rule = {
  id: 'DAG-VIEW-001',
  level: 'MUST',
  section: 'dag',
  title: 'A fresh, acyclic DAG file per workstream',
  fixable: true,
  prepare: prepareGraphInputs,
  async check(ctx) {
    const inputs = await graphRuleInputs(ctx);
    if ('skip' in inputs) return inputs;
    if (!existsSync(inputs.stateDir)) return { skip: 'no .state/ directory yet (run `orc-state init`; STATE-OBS-001 reports it)' };
    const { findings, repairable } = checkDagFreshness(inputs);
    if (!ctx.fix || repairable === 0) return { findings };
    const repaired = await regenerate(inputs);
    // What a regeneration cannot repair (cycles, unusable ids) stays reported.
    const left = findings.filter((f) => f.severity !== 'notice' && /cycle/.test(f.message));
    return { findings: [...left, ...repaired] };
  },
};
