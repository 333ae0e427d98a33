/**
 * CONC-REG-002 (MUST): resource claims are accounted for. A claim that can
 * never be met (an amount above the resource's capacity, MaxHolders 0, a
 * malformed claim) deadlocks the task and all its dependents and is reported
 * at the claim; no stage of an execution plan co-schedules two holders of an
 * exclusive resource, draws more than a resource's capacity, or draws a
 * rate-limited resource faster than its RefillRate allows; the current
 * holders (running/validating tasks in .state/current.json) never exceed
 * what a resource allows. Unknown resource ids are CONC-REG-001's finding.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner (src/graph/checks.ts does the work).
 * Dependencies: ../../graph/checks.js, ../types.js.
 */
import { checkResources, graphRuleInputs, prepareGraphInputs } from '../../graph/checks.js';
import type { Rule } from '../types.js';

export const rule: Rule = {
  id: 'CONC-REG-002',
  level: 'MUST',
  section: 'dag',
  title: 'Plans honour resource claims; impossible claims are reported',
  prepare: prepareGraphInputs,
  async check(ctx) {
    const inputs = await graphRuleInputs(ctx);
    if ('skip' in inputs) return inputs;
    const { findings, inspected } = checkResources(inputs);
    if (inspected === 0) return { skip: 'no task claims a resource and no plan or running task holds one' };
    return { findings };
  },
};
