/**
 * Human and diagram renderings of execution plans.
 *
 * Public API:
 *   - renderPlanText(plans, paint, options?): string   (stable) terminal text; critical path marked with `*`
 *   - renderMermaid(plans, dags): string                (stable) GitHub-renderable `flowchart LR`, critical path via classDef
 *   - renderDot(plans, dags): string                    (stable) Graphviz digraph, critical path red and bold
 *   - formatDuration(seconds): string                  (stable) `1h 02m`, `3m 05s`, `42s`
 * Diagrams draw arrows in execution order (dependency → dependent), the
 * reverse of the DAG file's `from depends_on to` edges; stages are nested
 * subgraphs/clusters of their workstream.
 * Integration points: `orc-state plan --format text|mermaid|dot`.
 * Dependencies: ./files.js (types only).
 */
import type { DagFile, ExecutionPlanFile } from './files.js';

type Paint = (style: 'red' | 'green' | 'yellow' | 'cyan' | 'dim' | 'bold', text: string) => string;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  return `${m}m ${String(r).padStart(2, '0')}s`;
}

export interface TextOptions {
  /** Task names by id, for readability. */
  names?: ReadonlyMap<string, string>;
}

export function renderPlanText(plans: readonly ExecutionPlanFile[], paint: Paint, options: TextOptions = {}): string {
  const lines: string[] = [];
  for (const plan of plans) {
    const critical = new Set(plan.critical_path_tasks);
    const count = Object.keys(plan.tasks).length;
    lines.push(
      `${paint('bold', `Workstream ${plan.workstream_id}`)}: ${count} task${count === 1 ? '' : 's'}, ${plan.stages.length} stage${plan.stages.length === 1 ? '' : 's'}, max parallelism ${plan.max_parallelism}`,
    );
    lines.push(
      `  estimated total ${paint('bold', formatDuration(plan.total_estimated_duration))}; critical path ${paint('yellow', formatDuration(plan.critical_path_duration))}: ${plan.critical_path_tasks.join(' -> ') || '(none)'}`,
    );
    for (const ext of plan.external_dependencies) {
      lines.push(paint('dim', `  needs ${ext.depends_on} (workstream ${ext.workstream_id}) before ${ext.task_id}`));
    }
    const idWidth = Math.min(40, Math.max(4, ...Object.keys(plan.tasks).map((id) => id.length)));
    for (const stage of plan.stages) {
      const flag = stage.critical_path ? paint('yellow', ' [critical]') : '';
      const res = Object.entries(stage.resource_requirements)
        .map(([rid, r]) => `${rid} ${r.type === 'exclusive' || r.holders.some((h) => h.claim === 'exclusive') ? 'exclusive' : `${r.units}/${r.capacity < 0 ? '∞' : r.capacity}`}`)
        .join(', ');
      const wait = stage.rate_limit_wait_seconds ? `, +${formatDuration(stage.rate_limit_wait_seconds)} rate limit` : '';
      lines.push(`  ${paint('cyan', `Stage ${stage.stage}`)}${flag}  ${formatDuration(stage.estimated_duration_seconds)}${wait}${res ? paint('dim', `  resources: ${res}`) : ''}`);
      for (const id of stage.parallel_tasks) {
        const info = plan.tasks[id];
        const mark = critical.has(id) ? paint('yellow', '*') : ' ';
        const name = options.names?.get(id);
        const est = info ? `${formatDuration(info.estimated_duration_seconds).padStart(7)}  ${paint('dim', info.estimate_source)}` : '';
        lines.push(`    ${mark} ${id.padEnd(idWidth)}  ${est}${name ? `  ${name}` : ''}`);
      }
    }
    lines.push('');
  }
  lines.push(paint('dim', '* = on the critical path (longest path by estimated duration)'));
  return lines.join('\n');
}

const mermaidText = (s: string): string => s.replace(/"/g, '#quot;').replace(/[<>]/g, (c) => (c === '<' ? '#lt;' : '#gt;'));
const dotText = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/** One `flowchart LR`; node ids are n0, n1… so any task id is safe. */
export function renderMermaid(plans: readonly ExecutionPlanFile[], dags: readonly DagFile[]): string {
  const ids = new Map<string, string>();
  const nodeId = (task: string): string => {
    let id = ids.get(task);
    if (!id) {
      id = `n${ids.size}`;
      ids.set(task, id);
    }
    return id;
  };
  const names = new Map<string, string>();
  for (const dag of dags) for (const node of dag.nodes) names.set(node.task_id, node.name);
  const critical = new Set<string>();
  const criticalEdges = new Set<string>();
  for (const plan of plans) {
    plan.critical_path_tasks.forEach((t, i) => {
      critical.add(t);
      if (i > 0) criticalEdges.add(`${plan.critical_path_tasks[i - 1]}\u0000${t}`);
    });
  }
  const lines = ['flowchart LR'];
  plans.forEach((plan, p) => {
    lines.push(`  subgraph ws${p}["${mermaidText(`workstream ${plan.workstream_id}`)}"]`);
    lines.push('    direction LR');
    for (const stage of plan.stages) {
      lines.push(`    subgraph ws${p}s${stage.stage}["${mermaidText(`stage ${stage.stage} · ${formatDuration(stage.estimated_duration_seconds)}`)}"]`);
      for (const t of stage.parallel_tasks) {
        const est = plan.tasks[t]?.estimated_duration_seconds ?? 0;
        const label = `${t}${names.get(t) ? `: ${names.get(t)}` : ''} (${formatDuration(est)})`;
        lines.push(`      ${nodeId(t)}["${mermaidText(label)}"]`);
      }
      lines.push('    end');
    }
    lines.push('  end');
  });
  const edgeLines: string[] = [];
  const seenEdges = new Set<string>();
  const criticalIdx: number[] = [];
  for (const dag of dags) {
    for (const e of dag.edges) {
      if (!ids.has(e.from) || !ids.has(e.to)) continue;
      // Draw each edge once (external edges appear in both workstreams' files).
      const key = `${e.to}\u0000${e.from}`;
      if (seenEdges.has(key)) continue;
      seenEdges.add(key);
      if (criticalEdges.has(key)) criticalIdx.push(edgeLines.length);
      edgeLines.push(key);
    }
  }
  for (const key of edgeLines) {
    const [to, from] = key.split('\u0000') as [string, string];
    lines.push(`  ${nodeId(to)} --> ${nodeId(from)}`);
  }
  lines.push('  classDef critical fill:#ffe8cc,stroke:#d9480f,stroke-width:3px,color:#000');
  const crit = [...critical].filter((t) => ids.has(t)).map(nodeId);
  if (crit.length > 0) lines.push(`  class ${crit.join(',')} critical`);
  if (criticalIdx.length > 0) lines.push(`  linkStyle ${criticalIdx.join(',')} stroke:#d9480f,stroke-width:3px`);
  return `${lines.join('\n')}\n`;
}

export function renderDot(plans: readonly ExecutionPlanFile[], dags: readonly DagFile[]): string {
  const names = new Map<string, string>();
  for (const dag of dags) for (const node of dag.nodes) names.set(node.task_id, node.name);
  const critical = new Set<string>();
  const criticalEdges = new Set<string>();
  for (const plan of plans) {
    plan.critical_path_tasks.forEach((t, i) => {
      critical.add(t);
      if (i > 0) criticalEdges.add(`${plan.critical_path_tasks[i - 1]}\u0000${t}`);
    });
  }
  const known = new Set<string>();
  const lines = ['digraph plan {', '  rankdir=LR;', '  node [shape=box, style="rounded"];'];
  plans.forEach((plan, p) => {
    lines.push(`  subgraph "cluster_ws${p}" {`, `    label="${dotText(`workstream ${plan.workstream_id}`)}";`);
    for (const stage of plan.stages) {
      lines.push(`    subgraph "cluster_ws${p}_s${stage.stage}" {`, `      label="${dotText(`stage ${stage.stage} (${formatDuration(stage.estimated_duration_seconds)})`)}";`, '      style=dashed;');
      for (const t of stage.parallel_tasks) {
        known.add(t);
        const est = plan.tasks[t]?.estimated_duration_seconds ?? 0;
        const label = [t, names.get(t), formatDuration(est)].filter((x): x is string => Boolean(x)).map(dotText).join('\\n');
        const style = critical.has(t) ? ', color="#d9480f", penwidth=3' : '';
        lines.push(`      "${dotText(t)}" [label="${label}"${style}];`);
      }
      lines.push('    }');
    }
    lines.push('  }');
  });
  const drawn = new Set<string>();
  for (const dag of dags) {
    for (const e of dag.edges) {
      if (!known.has(e.from) || !known.has(e.to)) continue;
      const key = `${e.to}\u0000${e.from}`;
      if (drawn.has(key)) continue;
      drawn.add(key);
      const style = criticalEdges.has(key) ? ' [color="#d9480f", penwidth=3]' : '';
      lines.push(`  "${dotText(e.to)}" -> "${dotText(e.from)}"${style};`);
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
