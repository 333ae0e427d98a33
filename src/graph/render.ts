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
/** What both diagrams mark: task names, critical-path tasks and critical edges (keys `dependency\0dependent`). */
function diagramFacts(plans: readonly ExecutionPlanFile[], dags: readonly DagFile[]): { names: Map<string, string>; critical: Set<string>; criticalEdges: Set<string> } {
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
  return { names, critical, criticalEdges };
}

/**
 * Every DAG edge between two drawn tasks, once (external edges appear in both
 * workstreams' files), as an arrow in execution order: dependency → dependent.
 */
function executionEdges(dags: readonly DagFile[], drawn: ReadonlySet<string> | ReadonlyMap<string, unknown>, criticalEdges: ReadonlySet<string>): Array<{ dependency: string; dependent: string; critical: boolean }> {
  const out: Array<{ dependency: string; dependent: string; critical: boolean }> = [];
  const seen = new Set<string>();
  for (const dag of dags) {
    for (const e of dag.edges) {
      if (!drawn.has(e.from) || !drawn.has(e.to)) continue;
      const key = `${e.to}\u0000${e.from}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ dependency: e.to, dependent: e.from, critical: criticalEdges.has(key) });
    }
  }
  return out;
}

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
  const { names, critical, criticalEdges } = diagramFacts(plans, dags);
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
  const criticalIdx: number[] = [];
  executionEdges(dags, ids, criticalEdges).forEach((e, i) => {
    if (e.critical) criticalIdx.push(i);
    lines.push(`  ${nodeId(e.dependency)} --> ${nodeId(e.dependent)}`);
  });
  lines.push('  classDef critical fill:#ffe8cc,stroke:#d9480f,stroke-width:3px,color:#000');
  const crit = [...critical].filter((t) => ids.has(t)).map(nodeId);
  if (crit.length > 0) lines.push(`  class ${crit.join(',')} critical`);
  if (criticalIdx.length > 0) lines.push(`  linkStyle ${criticalIdx.join(',')} stroke:#d9480f,stroke-width:3px`);
  return `${lines.join('\n')}\n`;
}

export function renderDot(plans: readonly ExecutionPlanFile[], dags: readonly DagFile[]): string {
  const { names, critical, criticalEdges } = diagramFacts(plans, dags);
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
  for (const e of executionEdges(dags, known, criticalEdges)) {
    const style = e.critical ? ' [color="#d9480f", penwidth=3]' : '';
    lines.push(`  "${dotText(e.dependency)}" -> "${dotText(e.dependent)}"${style};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
