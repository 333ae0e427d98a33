/**
 * DAG-VIEW-003 (MUST): `.state/execution_plan_{workstream_id}.json` exists
 * for every workstream that can be planned, validates against
 * schemas/execution-plan.v1.0.0.schema.json, puts every current task of the
 * workstream in exactly one stage, never a task in (or before) the stage of
 * one of its dependencies, and its critical path is a real path whose
 * duration is the sum of the plan's estimates and is a longest path by them.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner (src/graph/checks.ts does the work).
 * Dependencies: ../../graph/checks.js, ../types.js.
 */
import { checkPlanFiles, graphRuleInputs, prepareGraphInputs } from '../../graph/checks.js';
import { existsSync } from 'node:fs';
import type { Rule } from '../types.js';

export const rule: Rule = {
  id: 'DAG-VIEW-003',
  level: 'MUST',
  section: 'dag',
  title: 'Execution plans: stages, dependencies respected, longest critical path',
  prepare: prepareGraphInputs,
  async check(ctx) {
    const inputs = await graphRuleInputs(ctx);
    if ('skip' in inputs) return inputs;
    if (!existsSync(inputs.stateDir)) return { skip: 'no .state/ directory yet (run `orc-state init`; STATE-OBS-001 reports it)' };
    const { findings, checked } = checkPlanFiles(inputs);
    if (checked === 0) return { skip: 'no execution plan to check (no plannable workstream and no plan file)' };
    return { findings };
  },
};
