/**
 * The dependency graph over every task definition, cross-workstream edges
 * included, in flat integer arrays so every algorithm is iterative and linear.
 *
 * Public API:
 *   - buildGraph(tasks): TaskGraph                    (stable)
 *   - TaskGraph, GraphTask, GraphIssue, CycleIssue      (stable types)
 *   - formatCycle(issue): string                       (stable; `a -> b -> c -> a`)
 *   - workstreamOrder(graph, members): WorkstreamOrder (stable; Kahn + levels on one workstream's induced subgraph)
 * Edge direction: an edge `i -> d` means "task i depends on task d" (the
 * order in which a person reads `dependencies`); execution runs the other way.
 * Cycle paths are written in that direction, starting at the smallest id, and
 * each edge carries the position of the dependency array entry that makes it
 * (`LoadedTask.locate(['dependencies', pos])` gives file:line:column).
 * Algorithms: Kahn's algorithm (FIFO, seeded in id order) for the global
 * order and levels; an iterative Tarjan SCC over the nodes Kahn could not
 * order, then a BFS inside each strongly connected set for one full cycle.
 * No recursion anywhere: a 100,000-task chain is fine. graphlib is not used
 * here because its tarjan/topsort recurse (LIBRARY_NOTES) and its object-keyed
 * storage is several times slower than typed arrays at 100,000 tasks.
 * Integration points: src/graph/plan.ts, src/graph/files.ts, the DAG-VIEW and
 * CONC-REG-002 rules, `orc-state plan|ready|watch`.
 * Dependencies: none (pure).
 */

/** The part of a task definition the graph needs; TaskDefinition satisfies it. */
export interface GraphTask {
  task_id: string;
  workstream_id: string;
  dependencies: readonly unknown[];
}

export interface EdgeRef {
  /** The task whose `dependencies` array holds the entry. */
  task: string;
  /** Index of the entry in that array. */
  position: number;
  /** The task it names. */
  target: string;
}

export interface CycleIssue {
  kind: 'cycle';
  /** Task ids in dependency direction; the first id is repeated at the end. */
  path: string[];
  /** One entry per edge of the path; the last one closes the cycle. */
  edges: EdgeRef[];
  /** Size of the strongly connected set holding this cycle (>= path length - 1). */
  componentSize: number;
}

export type GraphIssue =
  | CycleIssue
  | { kind: 'self'; task: string; position: number }
  | { kind: 'missing'; task: string; position: number; target: string };

export interface TaskGraph<T extends GraphTask = GraphTask> {
  n: number;
  /** Task ids ascending (UTF-16 code unit order); index = node number. */
  ids: string[];
  tasks: T[];
  index: Map<string, number>;
  /** Node number → workstream number; `workstreams` ascending. */
  ws: Int32Array;
  workstreams: string[];
  /** Members of each workstream (node numbers ascending, i.e. by id). */
  members: Int32Array[];
  /** Dependencies of i: deps[depStart[i] .. depStart[i+1]) (distinct, existing, no self). */
  depStart: Int32Array;
  deps: Int32Array;
  /** Position in `dependencies` of each edge's entry. */
  depPos: Int32Array;
  /** Dependents of i: outs[outStart[i] .. outStart[i+1]). */
  outStart: Int32Array;
  outs: Int32Array;
  edgeCount: number;
  /** A topological order (dependencies first) of every node outside cycles and their downstream. */
  order: Int32Array;
  /** 1 for a node on a cycle (including a self-dependency). */
  cyclic: Uint8Array;
  issues: GraphIssue[];
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Build the graph. Invalid shapes (non-array dependencies, non-string entries) are skipped, not thrown. */
export function buildGraph<T extends GraphTask>(input: Iterable<T>): TaskGraph<T> {
  const byId = new Map<string, T>();
  for (const task of input) {
    if (typeof task?.task_id !== 'string') continue;
    if (!byId.has(task.task_id)) byId.set(task.task_id, task);
  }
  const ids = [...byId.keys()].sort(compareStrings);
  const n = ids.length;
  const index = new Map<string, number>();
  const tasks: T[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const id = ids[i] as string;
    index.set(id, i);
    tasks[i] = byId.get(id) as T;
  }

  // Workstreams.
  const wsNames = [...new Set(tasks.map((t) => String(t.workstream_id)))].sort(compareStrings);
  const wsIndex = new Map<string, number>();
  wsNames.forEach((name, k) => wsIndex.set(name, k));
  const ws = new Int32Array(n);
  const wsCount = new Int32Array(wsNames.length);
  for (let i = 0; i < n; i++) {
    const k = wsIndex.get(String((tasks[i] as T).workstream_id)) as number;
    ws[i] = k;
    wsCount[k]!++;
  }
  const members: Int32Array[] = wsNames.map((_, k) => new Int32Array(wsCount[k] as number));
  const fill = new Int32Array(wsNames.length);
  for (let i = 0; i < n; i++) {
    const k = ws[i] as number;
    (members[k] as Int32Array)[fill[k]!++] = i;
  }

  // Dependency edges (CSR).
  const issues: GraphIssue[] = [];
  const depStart = new Int32Array(n + 1);
  let depList: number[] = [];
  let posList: number[] = [];
  const seen = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    depStart[i] = depList.length;
    const task = tasks[i] as T;
    const list = Array.isArray(task.dependencies) ? task.dependencies : [];
    for (let p = 0; p < list.length; p++) {
      const target = list[p];
      if (typeof target !== 'string') continue;
      const d = index.get(target);
      if (d === undefined) {
        issues.push({ kind: 'missing', task: task.task_id, position: p, target });
        continue;
      }
      if (d === i) {
        issues.push({ kind: 'self', task: task.task_id, position: p });
        continue;
      }
      if (seen[d] === i) continue; // duplicate entry: one edge
      seen[d] = i;
      depList.push(d);
      posList.push(p);
    }
  }
  depStart[n] = depList.length;
  const deps = Int32Array.from(depList);
  const depPos = Int32Array.from(posList);
  depList = [];
  posList = [];
  const m = deps.length;

  // Reverse edges (dependents).
  const outStart = new Int32Array(n + 1);
  for (let e = 0; e < m; e++) outStart[(deps[e] as number) + 1]!++;
  for (let i = 0; i < n; i++) outStart[i + 1]! += outStart[i] as number;
  const outs = new Int32Array(m);
  const cursor = outStart.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let e = depStart[i] as number, end = depStart[i + 1] as number; e < end; e++) {
      const d = deps[e] as number;
      outs[cursor[d]!++] = i;
    }
  }

  // Kahn (FIFO, seeded in id order).
  const indeg = new Int32Array(n);
  for (let i = 0; i < n; i++) indeg[i] = (depStart[i + 1] as number) - (depStart[i] as number);
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let i = 0; i < n; i++) if (indeg[i] === 0) queue[tail++] = i;
  while (head < tail) {
    const v = queue[head++] as number;
    for (let e = outStart[v] as number, end = outStart[v + 1] as number; e < end; e++) {
      const w = outs[e] as number;
      if (--indeg[w]! === 0) queue[tail++] = w;
    }
  }
  const order = queue.subarray(0, tail);

  const cyclic = new Uint8Array(n);
  for (const issue of issues) if (issue.kind === 'self') cyclic[index.get(issue.task) as number] = 1;
  if (tail < n) {
    const cycles = findCycles(n, ids, depStart, deps, depPos, indeg, cyclic);
    issues.push(...cycles);
  }
  return {
    n,
    ids,
    tasks,
    index,
    ws,
    workstreams: wsNames,
    members,
    depStart,
    deps,
    depPos,
    outStart,
    outs,
    edgeCount: m,
    order,
    cyclic,
    issues,
  };
}

/**
 * Iterative Tarjan over the nodes Kahn left (indeg > 0), then one shortest
 * cycle through the smallest id of each strongly connected set.
 */
function findCycles(
  n: number,
  ids: string[],
  depStart: Int32Array,
  deps: Int32Array,
  depPos: Int32Array,
  indeg: Int32Array,
  cyclic: Uint8Array,
): CycleIssue[] {
  const remaining = (v: number): boolean => (indeg[v] as number) > 0;
  const idx = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack = new Int32Array(n);
  let sp = 0;
  const frames = new Int32Array(n);
  const edgePtr = new Int32Array(n);
  let counter = 0;
  const components: number[][] = [];
  for (let root = 0; root < n; root++) {
    if (!remaining(root) || idx[root] !== -1) continue;
    let fp = 0;
    frames[fp++] = root;
    idx[root] = low[root] = counter++;
    stack[sp++] = root;
    onStack[root] = 1;
    edgePtr[root] = depStart[root] as number;
    while (fp > 0) {
      const v = frames[fp - 1] as number;
      const end = depStart[v + 1] as number;
      let descended = false;
      while ((edgePtr[v] as number) < end) {
        const w = deps[edgePtr[v]!++] as number;
        if (!remaining(w)) continue;
        if (idx[w] === -1) {
          idx[w] = low[w] = counter++;
          stack[sp++] = w;
          onStack[w] = 1;
          edgePtr[w] = depStart[w] as number;
          frames[fp++] = w;
          descended = true;
          break;
        } else if (onStack[w]) {
          if ((idx[w] as number) < (low[v] as number)) low[v] = idx[w] as number;
        }
      }
      if (descended) continue;
      fp--;
      if (low[v] === idx[v]) {
        const comp: number[] = [];
        let w: number;
        do {
          w = stack[--sp] as number;
          onStack[w] = 0;
          comp.push(w);
        } while (w !== v);
        if (comp.length > 1) components.push(comp);
      }
      if (fp > 0) {
        const parent = frames[fp - 1] as number;
        if ((low[v] as number) < (low[parent] as number)) low[parent] = low[v] as number;
      }
    }
  }

  const compOf = new Int32Array(n).fill(-1);
  const parentNode = new Int32Array(n).fill(-1);
  const parentEdge = new Int32Array(n).fill(-1);
  const result: CycleIssue[] = [];
  components.forEach((comp, c) => {
    for (const v of comp) {
      compOf[v] = c;
      cyclic[v] = 1;
    }
  });
  components.forEach((comp, c) => {
    const start = minOf(comp);
    // BFS along dependency edges inside the component until an edge returns to start.
    const queue: number[] = [start];
    parentNode[start] = start;
    let closing = -1;
    let closingNode = -1;
    for (let h = 0; h < queue.length && closing === -1; h++) {
      const v = queue[h] as number;
      for (let e = depStart[v] as number, end = depStart[v + 1] as number; e < end; e++) {
        const w = deps[e] as number;
        if (compOf[w] !== c) continue;
        if (w === start) {
          closing = e;
          closingNode = v;
          break;
        }
        if (parentNode[w] === -1) {
          parentNode[w] = v;
          parentEdge[w] = e;
          queue.push(w);
        }
      }
    }
    if (closing === -1) return; // cannot happen for a strongly connected set
    const pathNodes: number[] = [];
    const pathEdges: number[] = [closing];
    for (let v = closingNode; v !== start; v = parentNode[v] as number) {
      pathNodes.push(v);
      pathEdges.push(parentEdge[v] as number);
    }
    pathNodes.push(start);
    pathNodes.reverse();
    pathEdges.reverse();
    const path = pathNodes.map((v) => ids[v] as string);
    path.push(ids[start] as string);
    const edges: EdgeRef[] = pathEdges.map((e, k) => ({
      task: path[k] as string,
      position: depPos[e] as number,
      target: path[k + 1] as string,
    }));
    result.push({ kind: 'cycle', path, edges, componentSize: comp.length });
    for (const v of queue) parentNode[v] = -1;
  });
  result.sort((a, b) => compareStrings(a.path[0] as string, b.path[0] as string));
  return result;
}

function minOf(values: number[]): number {
  let best = values[0] as number;
  for (const v of values) if (v < best) best = v;
  return best;
}

export function formatCycle(issue: CycleIssue): string {
  return issue.path.join(' -> ');
}

export interface WorkstreamOrder {
  /** Members in topological order sorted by (level, id); empty when the workstream has a cycle. */
  order: Int32Array;
  /** Longest-path level inside the workstream (0 = no dependency inside it), indexed by node number. */
  level: Int32Array;
  levels: number;
  /** True when every member could be ordered. */
  acyclic: boolean;
}

/**
 * Order one workstream's induced subgraph (edges whose both ends are members).
 * `scratch` is an n-sized Int32Array reused across calls (pass graph-sized, filled with anything).
 */
export function workstreamOrder(graph: TaskGraph, k: number, scratch?: { indeg: Int32Array; level: Int32Array }): WorkstreamOrder {
  const members = graph.members[k] as Int32Array;
  const { ws, depStart, deps, outStart, outs } = graph;
  const indeg = scratch?.indeg ?? new Int32Array(graph.n);
  const level = scratch?.level ?? new Int32Array(graph.n);
  const count = members.length;
  const queue = new Int32Array(count);
  let tail = 0;
  for (let j = 0; j < count; j++) {
    const v = members[j] as number;
    let d = 0;
    for (let e = depStart[v] as number, end = depStart[v + 1] as number; e < end; e++) if (ws[deps[e] as number] === k) d++;
    indeg[v] = d;
    level[v] = 0;
    if (d === 0) queue[tail++] = v;
  }
  let head = 0;
  let maxLevel = 0;
  while (head < tail) {
    const v = queue[head++] as number;
    const lv = level[v] as number;
    if (lv > maxLevel) maxLevel = lv;
    for (let e = outStart[v] as number, end = outStart[v + 1] as number; e < end; e++) {
      const w = outs[e] as number;
      if (ws[w] !== k) continue;
      if ((level[w] as number) < lv + 1) level[w] = lv + 1;
      if (--indeg[w]! === 0) queue[tail++] = w;
    }
  }
  if (tail < count) return { order: new Int32Array(0), level, levels: 0, acyclic: false };
  // Bucket by level; members are visited in id order, so each bucket is sorted by id.
  const levels = count === 0 ? 0 : maxLevel + 1;
  const start = new Int32Array(levels + 1);
  for (let j = 0; j < count; j++) start[(level[members[j] as number] as number) + 1]!++;
  for (let l = 0; l < levels; l++) start[l + 1]! += start[l] as number;
  const order = new Int32Array(count);
  for (let j = 0; j < count; j++) {
    const v = members[j] as number;
    order[start[level[v] as number]!++] = v;
  }
  return { order, level, levels, acyclic: true };
}
