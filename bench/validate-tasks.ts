/**
 * Benchmark: validating task definitions (loadTasks + the TASK-DEF-001/002 rules)
 * against the floor (read + JSON.parse of the same files) and against ajv-cli.
 *
 * Usage: npm run bench:validate-tasks [-- COUNT]    (default 10000 tasks in COUNT/100 workstreams)
 *   node dist/bench/validate-tasks.js COUNT [--keep]
 * Prints, from one run on one generated repo:
 *   in-process: floor read+parse, the same keeping what it parsed, loadTasks + TASK-DEF
 *   rules (first run and median of 5), wall and CPU time
 *   whole process: floor `node -e` child, our child (same loader), `orc-state validate`
 *   CLI for the tasks rules, ajv-cli validating the same files against the same schema;
 *   and the per-file cost of each step (JSON.parse, structure check, token scan, momoa).
 * Public API: none (a script). Stability: internal.
 * Dependencies: node:child_process, node:fs, ../src/repo/load-tasks.js,
 * ../src/compliance/rules/TASK-DEF-00{1,2}.js, ../src/compliance/context.js, ../src/util/random.js,
 * ajv-cli (dev dependency).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadTasks } from '../src/repo/load-tasks.js';
import { rule as TASK_DEF_001 } from '../src/compliance/rules/TASK-DEF-001.js';
import { rule as TASK_DEF_002 } from '../src/compliance/rules/TASK-DEF-002.js';
import type { RuleOutcome } from '../src/compliance/types.js';
import { createContext } from '../src/compliance/context.js';
import { packageRoot } from '../src/paths.js';
import { quickStructureCheck, scanStructure } from '../src/io/json-scan.js';
import { locateInText } from '../src/io/located-json.js';
import { rng } from '../src/util/random.js';

const TYPES = ['aider', 'pytest', 'lint', 'custom'] as const;
/** The capability a generated task of each type requires (a worker with all of them can run any generated task). */
export const CAPABILITY_OF: Record<(typeof TYPES)[number], string> = { aider: 'aider.edit', pytest: 'python.pytest', lint: 'node.typescript', custom: 'shell.exec' };

/**
 * A repo of `count` tasks in count/100 workstreams: each task depends on up to 3 earlier tasks of its workstream,
 * ~3% also on a task of an earlier workstream. `ids` lists the task ids in creation order, so every task comes
 * after all of its dependencies (bench/compliance drives them through their lifecycle in that order).
 */
export function generateRepo(root: string, count: number): { files: number; bytes: number; ids: string[] } {
  const random = rng(42);
  const wsCount = Math.max(1, Math.round(count / 100));
  const perWs = Math.ceil(count / wsCount);
  mkdirSync(join(root, 'src'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(root, 'src', `module_${i}.py`), `# module ${i}\n`);
  const ids: string[][] = [];
  const deps = new Map<string, string[]>();
  let made = 0;
  for (let w = 0; w < wsCount && made < count; w++) {
    const wsIds: string[] = [];
    for (let k = 0; k < perWs && made < count; k++, made++) {
      const id = `ws${String(w).padStart(3, '0')}-t${String(k).padStart(4, '0')}`;
      const d = new Set<string>();
      const n = k === 0 ? 0 : Math.floor(random() * 4);
      for (let j = 0; j < n; j++) d.add(wsIds[Math.max(0, k - 1 - Math.floor(random() * 10))]!);
      if (w > 0 && random() < 0.03) {
        const other = ids[Math.floor(random() * w)]!;
        d.add(other[Math.floor(random() * other.length)]!);
      }
      deps.set(id, [...d].sort());
      wsIds.push(id);
    }
    ids.push(wsIds);
  }
  const blocks = new Map<string, string[]>([...deps.keys()].map((id) => [id, []]));
  for (const [id, ds] of deps) for (const d of ds) blocks.get(d)!.push(id);
  let bytes = 0;
  ids.forEach((wsIds, w) => {
    const ws = `ws-${String(w).padStart(3, '0')}`;
    mkdirSync(join(root, 'tasks', ws), { recursive: true });
    for (const id of wsIds) {
      const type = TYPES[Math.floor(random() * TYPES.length)]!;
      // Every attempt fits its timeout (AIDER-INT-001), so the repo passes the whole gate (bench/compliance).
      const estimated = 30 + Math.floor(random() * 600);
      const task = {
        $schema: '../../schemas/task.v2.0.0.schema.json',
        schema_version: '2.0.0',
        schema_url: 'https://orc-state.dev/schemas/task/2.0.0.json',
        task_id: id,
        workstream_id: ws,
        name: `Generated ${type} task ${id}`,
        description: `Benchmark task ${id}: ${type === 'aider' ? 'edit the module named in its context' : 'run a check on the workstream output'}.`,
        type,
        status: 'pending',
        ...(random() < 0.05 ? { critical: true } : {}),
        priority: Math.floor(random() * 10),
        dependencies: deps.get(id)!,
        blocks: blocks.get(id)!.sort(),
        worker_requirements: { capabilities: [CAPABILITY_OF[type]], min_version: '1.0.0' },
        execution: {
          command: type === 'aider' ? `aider --yes --message 'Refactor src/module_${id.length % 20}.py'` : type === 'pytest' ? `python -m pytest tests/${ws} -q` : type === 'lint' ? 'npx tsc --noEmit -p tsconfig.json' : `./scripts/${id}.sh`,
          working_directory: '.',
          timeout_seconds: estimated + 60 + Math.floor(random() * 1200),
          max_retries: Math.floor(random() * 3),
          retry_delay_seconds: 10,
          estimated_duration_seconds: estimated,
        },
        context_requirements: {
          max_context_tokens: 8000,
          required_files: type === 'aider' ? [`src/module_${Math.floor(random() * 20)}.py`] : [],
          optional_files: [],
          exclude_patterns: ['**/__pycache__/**', '**/*.pyc', '**/node_modules/**'],
        },
        validation_rules: type === 'aider' ? { pre_execution: ['git_clean'], post_execution: ['no_lint_errors'] } : { pre_execution: [], post_execution: type === 'pytest' ? ['tests_passing'] : [] },
        ...(random() < 0.2 ? { resource_requirements: { 'ci-runners': 'shared' } } : {}),
        state: { created_at: '2026-11-20T09:00:00Z', started_at: null, completed_at: null, assigned_worker: null, retry_count: 0, last_error: null },
      };
      const text = `${JSON.stringify(task, null, 2)}\n`;
      bytes += Buffer.byteLength(text);
      writeFileSync(join(root, 'tasks', ws, `${id}.json`), text);
    }
  });
  return { files: made, bytes, ids: ids.flat() };
}

/** The floor: list tasks/ and JSON.parse every file (also used verbatim as the `node -e` child). */
export const FLOOR_SRC = `
const fs = require('fs'), path = require('path');
const root = process.argv[1];
let n = 0;
const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) {
  if (e.name.startsWith('.')) continue;
  const p = path.join(d, e.name);
  if (e.isDirectory()) walk(p); else if (e.name.endsWith('.json')) { JSON.parse(fs.readFileSync(p, 'utf8')); n++; } } };
walk(path.join(root, 'tasks'));
if (n === 0) process.exit(3);
`;
const floorInProcess = new Function('require', 'process', FLOOR_SRC) as (req: NodeRequire, proc: { argv: string[]; exit(c: number): never }) => void;

/** The floor plus keeping every text and parsed value, as any loader that returns the tasks must (shows the GC cost of retention). */
function floorKeeping(root: string): unknown[] {
  const kept: unknown[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.json')) {
        const text = readFileSync(p, 'utf8');
        kept.push(text, JSON.parse(text));
      }
    }
  };
  walk(join(root, 'tasks'));
  return kept;
}


async function validateOnce(root: string): Promise<{ tasks: number; findings: number }> {
  const ctx = createContext(root);
  let findings = 0;
  for (const r of [TASK_DEF_001, TASK_DEF_002]) {
    const o: RuleOutcome = await r.check(ctx);
    if ('findings' in o) findings += o.findings.length;
  }
  const set = ctx.once('tasks', () => loadTasks(root));
  return { tasks: set.tasks.size, findings };
}

function timeProcess(cmd: string, args: string[], cwd: string): { ms: number; status: number | null } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - t0;
  if (r.status !== 0 && r.status !== 1) process.stderr.write(`  (${cmd} exited ${r.status}: ${String(r.stderr).slice(0, 300)})\n`);
  return { ms, status: r.status };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number, files: number): string => `${ms.toFixed(0).padStart(6)} ms  ${Math.round((files / ms) * 1000).toLocaleString('en-US').padStart(9)} files/s`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const r = await validateOnce(args[1]!);
    process.exit(r.tasks > 0 && r.findings === 0 ? 0 : 1);
  }
  const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 10000);
  const keep = args.includes('--keep');
  const dir = mkdtempSync(join(tmpdir(), 'orc-bench-validate-'));
  const root = join(dir, 'repo');
  const pkg = packageRoot();
  try {
    const t0 = performance.now();
    const { files, bytes } = generateRepo(root, count);
    console.log(`generated ${files} task files (${(bytes / 1e6).toFixed(1)} MB) in ${Math.round(count / 100) || 1} workstreams under ${root} (${(performance.now() - t0).toFixed(0)} ms)`);
    // warm the page cache so no variant pays cold-disk reads
    floorInProcess(createRequire(import.meta.url), { argv: ['', root], exit: (c: number) => { throw new Error(`floor exit ${c}`); } } as never);

    console.log('\nin-process (same Node process, files already in the page cache)');
    const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;
    const floorRuns: number[] = [];
    const floorCpu: number[] = [];
    for (let i = 0; i < 5; i++) {
      const c = process.cpuUsage();
      const s = performance.now();
      floorInProcess(createRequire(import.meta.url), { argv: ['', root], exit: (c: number) => { throw new Error(`floor exit ${c}`); } } as never);
      floorRuns.push(performance.now() - s);
      floorCpu.push(cpuMs(process.cpuUsage(c)));
    }
    const keepRuns: number[] = [];
    const keepCpu: number[] = [];
    for (let i = 0; i < 5; i++) {
      const c = process.cpuUsage();
      const s = performance.now();
      floorKeeping(root);
      keepRuns.push(performance.now() - s);
      keepCpu.push(cpuMs(process.cpuUsage(c)));
    }
    const ours: number[] = [];
    const oursCpu: number[] = [];
    let result = { tasks: 0, findings: 0 };
    for (let i = 0; i < 5; i++) {
      const c = process.cpuUsage();
      const s = performance.now();
      result = await validateOnce(root);
      ours.push(performance.now() - s);
      oursCpu.push(cpuMs(process.cpuUsage(c)));
    }
    if (result.tasks !== files || result.findings !== 0) throw new Error(`validation found ${result.findings} findings / ${result.tasks} tasks: the generated repo should be clean`);
    console.log(`  floor: read + JSON.parse            median ${fmt(median(floorRuns), files)}   (CPU ${median(floorCpu).toFixed(0)} ms)`);
    console.log(`  floor keeping texts + values        median ${fmt(median(keepRuns), files)}   (CPU ${median(keepCpu).toFixed(0)} ms)`);
    console.log(`  loadTasks + TASK-DEF-001/002, 1st run     ${fmt(ours[0]!, files)}   (includes schema compile and JIT warm-up)`);
    console.log(`  loadTasks + TASK-DEF-001/002      median ${fmt(median(ours), files)}   = ${(median(ours) / median(floorRuns)).toFixed(2)}x the floor (CPU ${median(oursCpu).toFixed(0)} ms = ${(median(oursCpu) / median(floorCpu)).toFixed(2)}x; ${(median(oursCpu) / median(keepCpu)).toFixed(2)}x the keeping floor)`);

    // What each per-file step costs, on the texts the loader kept (why momoa trees are built lazily).
    const loaded = [...loadTasks(root).tasks.values()];
    const timeIt = (fn: () => void): number => {
      const s = performance.now();
      fn();
      return performance.now() - s;
    };
    const parseMs = timeIt(() => loaded.forEach((lt) => JSON.parse(lt.text)));
    const quickMs = timeIt(() => loaded.forEach((lt) => quickStructureCheck(lt.text, lt.task, 64)));
    const scanMs = timeIt(() => loaded.forEach((lt) => scanStructure(lt.text, 64)));
    const momoaMs = timeIt(() => loaded.forEach((lt) => locateInText(lt.text, ['execution', 'timeout_seconds'])));
    console.log(`  per-step on ${loaded.length} texts: JSON.parse ${parseMs.toFixed(0)} ms; structure check (duplicates, __proto__, depth) ${quickMs.toFixed(0)} ms; full token scan ${scanMs.toFixed(0)} ms; momoa tree + locate ${momoaMs.toFixed(0)} ms (built only for files with a finding)`);

    console.log('\nwhole process (start-up included; median of 3)');
    const proc = (cmd: string, a: string[]) => median([0, 1, 2].map(() => timeProcess(cmd, a, pkg).ms));
    const floorProc = proc(process.execPath, ['-e', FLOOR_SRC, root]);
    const here = fileURLToPath(import.meta.url);
    const oursProc = proc(process.execPath, [here, '--child', root]);
    const cliProc = proc(process.execPath, [join(pkg, 'bin/orc-state.js'), 'validate', '--root', root, '--requirement', 'TASK-DEF-001,TASK-DEF-002', '--format', 'json']);
    const kw = join(dir, 'ajv-keywords.cjs');
    const formatsPath = createRequire(import.meta.url).resolve('ajv-formats');
    writeFileSync(kw, `module.exports = (ajv) => { require(${JSON.stringify(formatsPath)})(ajv); ajv.addKeyword({ keyword: 'x-requirement', schemaType: 'string' }); };\n`);
    const ajvBin = join(pkg, 'node_modules/.bin/ajv');
    const ajvArgs = ['validate', '--spec=draft2020', '--all-errors', '--allow-union-types', '-c', kw, '-s', join(pkg, 'schemas/task.v2.0.0.schema.json'), '-d', `${root}/tasks/**/*.json`];
    const ajvCheck = timeProcess(ajvBin, ajvArgs, pkg);
    const ajvProc = median([ajvCheck.ms, timeProcess(ajvBin, ajvArgs, pkg).ms, timeProcess(ajvBin, ajvArgs, pkg).ms]);
    console.log(`  floor: node -e read + JSON.parse          ${fmt(floorProc, files)}`);
    console.log(`  ours: node loadTasks + TASK-DEF rules     ${fmt(oursProc, files)}   = ${(oursProc / floorProc).toFixed(2)}x the floor`);
    console.log(`  orc-state validate (CLI, 2 rules, json)   ${fmt(cliProc, files)}   = ${(cliProc / floorProc).toFixed(2)}x the floor`);
    console.log(`  ajv-cli validate (schema only)            ${fmt(ajvProc, files)}   = ${(ajvProc / floorProc).toFixed(2)}x the floor${ajvCheck.status === 0 ? '' : ` (exit ${ajvCheck.status})`}`);
    console.log(`\nours vs ajv-cli: ${(ajvProc / oursProc).toFixed(2)}x faster (CLI: ${(ajvProc / cliProc).toFixed(2)}x); goal: within 2x of the floor and faster than ajv-cli`);
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
