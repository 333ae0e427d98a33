/**
 * DAG-VIEW-002 (MUST): each `.state/dag_*.json` validates against
 * schemas/dag.v1.0.0.schema.json (workstream_id, generated_at, nodes
 * {task_id, name, type, status}, edges {from, to, type depends_on},
 * topological_order, schema_version/schema_url) and its topological_order is
 * a valid order of exactly its nodes (each dependency inside the workstream
 * first).
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner (src/graph/checks.ts does the work).
 * Dependencies: ../../graph/checks.js, ../types.js.
 */
import { checkDagFiles, graphRuleInputs, prepareGraphInputs } from '../../graph/checks.js';
import type { Rule } from '../types.js';

export const rule: Rule = {
  id: 'DAG-VIEW-002',
  level: 'MUST',
  section: 'dag',
  title: 'DAG files follow the DAG schema with a valid topological order',
  prepare: prepareGraphInputs,
  async check(ctx) {
    const inputs = await graphRuleInputs(ctx);
    if ('skip' in inputs) return inputs;
    const { findings, checked } = checkDagFiles(inputs);
    if (checked === 0) return { skip: 'no .state/dag_*.json files (DAG-VIEW-001 reports missing ones)' };
    return { findings };
  },
};
