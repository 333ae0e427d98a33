import { describe, expect, it } from 'vitest';
import type { DagFile, ExecutionPlanFile } from '../src/graph/files.js';
import { renderDot, renderMermaid } from '../src/graph/render.js';

// Two workstreams: a1 → a2 → a3 in A (critical path a1, a2, a3), b1 in B depends on a2 (external edge,
// listed in both workstreams' DAG files as the real generator does).
const edge = (from: string, to: string, external?: string) => ({ from, to, type: 'depends_on', ...(external ? { external: true, external_workstream: external } : {}) });
const dag = (ws: string, nodes: string[], edges: ReturnType<typeof edge>[]) =>
  ({ workstream_id: ws, nodes: nodes.map((id) => ({ task_id: id, name: `Task ${id}`, type: 'custom', status: 'pending', level: 0 })), edges }) as unknown as DagFile;
const plan = (ws: string, stages: string[][], critical: string[]) =>
  ({
    workstream_id: ws,
    stages: stages.map((ids, i) => ({ stage: i + 1, parallel_tasks: ids, estimated_duration_seconds: 60 })),
    critical_path_tasks: critical,
    tasks: Object.fromEntries(stages.flat().map((id) => [id, { estimated_duration_seconds: 60 }])),
  }) as unknown as ExecutionPlanFile;

const DAGS = [dag('A', ['a1', 'a2', 'a3'], [edge('a2', 'a1'), edge('a3', 'a2'), edge('b1', 'a2', 'A')]), dag('B', ['b1'], [edge('b1', 'a2', 'A')])];
const PLANS = [plan('A', [['a1'], ['a2'], ['a3']], ['a1', 'a2', 'a3']), plan('B', [['b1']], [])];

describe('plan diagrams', () => {
  it('Mermaid: every dependency edge once, dependency → dependent, critical edges styled', () => {
    const text = renderMermaid(PLANS, DAGS);
    const arrows = text.split('\n').filter((l) => l.includes('-->')).map((l) => l.trim());
    // Nodes are numbered in drawing order: a1 n0, a2 n1, a3 n2, b1 n3.
    expect(arrows).toEqual(['n0 --> n1', 'n1 --> n2', 'n1 --> n3']);
    expect(text).toContain('  class n0,n1,n2 critical\n');
    expect(text).toContain('  linkStyle 0,1 stroke:#d9480f,stroke-width:3px\n');
  });

  it('DOT: the same edges, critical ones red, and edges to tasks not drawn are left out', () => {
    const text = renderDot(PLANS, DAGS);
    const arrows = text.split('\n').filter((l) => l.includes('->')).map((l) => l.trim());
    expect(arrows).toEqual(['"a1" -> "a2" [color="#d9480f", penwidth=3];', '"a2" -> "a3" [color="#d9480f", penwidth=3];', '"a2" -> "b1";']);
    const onlyB = renderDot([PLANS[1]!], DAGS);
    expect(onlyB).not.toContain('->');
    expect(onlyB).toContain('"b1" [label="b1\\nTask b1\\n1m 00s"];');
  });
});
