/**
 * Hostile-input audit of every CLI command: broken roots, broken .state/,
 * broken task files and bad flag values. The big matrix calls `main(argv)` from
 * src/cli/main.ts in-process (stdout/stderr captured, process.exitCode reset) to
 * stay fast; a sample of probes, `watch` (started, then SIGTERM) and the
 * hard-exit paths spawn the real `node bin/orc-state.js`. Each probe asserts: an exit code from the contract (0/1/2/3, as expected for the probe),
 * no stack frames and no "internal error" on stderr, a single parseable JSON document
 * on stdout with --json, and (for read-only commands) a byte-identical repo.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PROJECT = path.resolve(__dirname, '..');
const BIN = path.join(PROJECT, 'bin', 'orc-state.js');
const TASK_ID = 'ah-lint-baseline';
const TASK_FILE = 'tasks/api-hardening/ah-lint-baseline.json';

interface Probe {
  name: string;
  /** variant of the repo; a fresh copy is made per probe */
  repo: Variant;
  args: string[];
  /** acceptable exit codes */
  codes: number[];
  readOnly?: boolean;
  /** --json given and a single JSON document expected on stdout */
  json?: boolean;
  /** spawn the real binary (always for watch) instead of calling main() in-process */
  spawn?: boolean;
  /** for watch: SIGTERM once stdout shows the ready line (or after 20 s) */
  terminate?: boolean;
  /** close the read end of stdout at once (`orc-state ... | head`): the CLI must not die of EPIPE */
  closeStdout?: boolean;
  /** extra check on the result */
  check?: (r: Result) => void;
}

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  before: string | null;
  after: string | null;
}

type Variant =
  | 'good'
  | 'missing-root'
  | 'root-is-file'
  | 'empty'
  | 'no-state'
  | 'no-tasks'
  | 'current-malformed'
  | 'current-wrong-shape'
  | 'current-array'
  | 'current-bom'
  | 'current-dir'
  | 'log-corrupt-middle'
  | 'log-torn-tail'
  | 'log-bad-last-line'
  | 'task-proto'
  | 'task-2mb'
  | 'task-deep'
  | 'state-is-file'
  | 'log-is-dir'
  | 'tasks-is-file'
  | 'task-is-dir'
  | 'task-not-utf8'
  | 'registry-broken'
  | 'lock-garbage';

let tmp: string;
let base: string;

function copyDir(src: string, dst: string): void {
  fs.cpSync(src, dst, { recursive: true });
}

function makeRepo(variant: Variant, n: number): string {
  const dir = path.join(tmp, `${n}-${variant}`);
  if (variant === 'missing-root') return path.join(tmp, `${n}-does-not-exist`);
  if (variant === 'root-is-file') {
    fs.writeFileSync(dir, 'not a directory\n');
    return dir;
  }
  fs.mkdirSync(dir, { recursive: true });
  if (variant === 'empty') return dir;
  copyDir(base, dir);
  const state = path.join(dir, '.state');
  const current = path.join(state, 'current.json');
  const log = path.join(state, 'transitions.jsonl');
  const task = path.join(dir, TASK_FILE);
  switch (variant) {
    case 'no-state':
      fs.rmSync(state, { recursive: true });
      break;
    case 'no-tasks':
      fs.rmSync(path.join(dir, 'tasks'), { recursive: true });
      break;
    case 'current-malformed':
      fs.writeFileSync(current, fs.readFileSync(current, 'utf8').slice(0, 200));
      break;
    case 'current-wrong-shape':
      fs.writeFileSync(current, JSON.stringify({ schema_version: '2.0.0', last_seq: 'seven', tasks: {}, workers: 5 }));
      break;
    case 'current-array':
      fs.writeFileSync(current, '[1, 2, 3]\n');
      break;
    case 'current-bom':
      fs.writeFileSync(current, `\uFEFF${fs.readFileSync(current, 'utf8')}`);
      break;
    case 'current-dir':
      fs.rmSync(current);
      fs.mkdirSync(current);
      break;
    case 'log-corrupt-middle': {
      const lines = fs.readFileSync(log, 'utf8').split('\n');
      lines[Math.floor(lines.length / 2)] = '{"seq": 12, "event": "task_st';
      fs.writeFileSync(log, lines.join('\n'));
      break;
    }
    case 'log-bad-last-line':
      fs.appendFileSync(log, 'null\n');
      break;
    case 'log-torn-tail':
      fs.appendFileSync(log, '{"schema_version":"2.0.0","seq":999,"event_id":"x","timest');
      break;
    case 'task-proto': {
      const text = fs.readFileSync(task, 'utf8');
      fs.writeFileSync(task, text.replace('"name":', '"__proto__": { "polluted": true },\n  "name":'));
      break;
    }
    case 'task-2mb': {
      const value = JSON.parse(fs.readFileSync(task, 'utf8'));
      value.description = 'x'.repeat(2 * 1024 * 1024);
      fs.writeFileSync(task, JSON.stringify(value, null, 2));
      break;
    }
    case 'task-deep': {
      const depth = 10_000;
      const text = fs.readFileSync(task, 'utf8');
      fs.writeFileSync(task, text.replace('"name":', `"deep": ${'['.repeat(depth)}${']'.repeat(depth)},\n  "name":`));
      break;
    }
    case 'state-is-file':
      fs.rmSync(state, { recursive: true });
      fs.writeFileSync(state, 'not a directory\n');
      break;
    case 'log-is-dir':
      fs.rmSync(log);
      fs.mkdirSync(log);
      break;
    case 'tasks-is-file':
      fs.rmSync(path.join(dir, 'tasks'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'tasks'), 'not a directory\n');
      break;
    case 'task-is-dir':
      fs.mkdirSync(path.join(dir, 'tasks/api-hardening/ah-a-directory.json'));
      break;
    case 'task-not-utf8':
      fs.writeFileSync(path.join(dir, 'tasks/api-hardening/ah-latin1.json'), Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
      break;
    case 'registry-broken':
      fs.writeFileSync(path.join(dir, 'capabilities/registry.psd1'), '@{ Capabilities = @( @{ Id = ');
      break;
    case 'lock-garbage':
      fs.writeFileSync(path.join(state, 'orc-state.lock'), '{"pid": "garbage"');
      break;
    default:
      break;
  }
  return dir;
}

function digest(dir: string): string | null {
  if (!fs.existsSync(dir)) return null;
  const h = createHash('sha256');
  const walk = (p: string, rel: string): void => {
    const st = fs.lstatSync(p);
    if (st.isDirectory()) {
      h.update(`d ${rel}\n`);
      for (const name of fs.readdirSync(p).sort()) walk(path.join(p, name), `${rel}/${name}`);
    } else {
      h.update(`f ${rel} ${st.size}\n`);
      h.update(fs.readFileSync(p));
    }
  };
  walk(dir, '.');
  return h.digest('hex');
}

let mainFn: ((argv: string[]) => Promise<number>) | undefined;

/** Calls main() in-process with stdout/stderr captured. Probes run one at a time (they share process streams). */
async function runInProcess(probe: Probe, n: number): Promise<Result> {
  const root = makeRepo(probe.repo, n);
  const before = digest(root);
  const args = probe.args.map((a) => (a === '$ROOT' ? root : a));
  let stdout = '';
  let stderr = '';
  const outWrite = process.stdout.write;
  const errWrite = process.stderr.write;
  const capture = (sink: 'out' | 'err') =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (sink === 'out') stdout += text;
      else stderr += text;
      const cb = rest.find((x) => typeof x === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof process.stdout.write;
  process.exitCode = undefined;
  process.stdout.write = capture('out');
  process.stderr.write = capture('err');
  let code: number | null = null;
  try {
    code = await mainFn!(['node', 'orc-state', ...args]);
  } catch (error) {
    stderr += `main() rejected (internal error): ${(error as Error)?.stack ?? String(error)}`;
  } finally {
    process.stdout.write = outWrite;
    process.stderr.write = errWrite;
    process.exitCode = undefined;
  }
  return { code, signal: null, stdout, stderr, before, after: digest(root) };
}

function run(probe: Probe, n: number): Promise<Result> {
  const root = makeRepo(probe.repo, n);
  const before = digest(root);
  const args = probe.args.map((a) => (a === '$ROOT' ? root : a));
  const env = { ...process.env, NO_COLOR: '1', ORC_STATE_DEBUG: '' };
  delete env.ORC_STATE_DEBUG;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    if (probe.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timer: NodeJS.Timeout | undefined;
    if (probe.terminate) {
      // exactly one SIGTERM (a second one is a forced stop by convention)
      let sent = false;
      const term = (): void => {
        if (!sent) child.kill('SIGTERM');
        sent = true;
      };
      timer = setTimeout(term, 20_000);
      child.stdout.on('data', () => {
        if (/"type":\s*"ready"/.test(stdout)) term();
      });
    }
    const hard = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      clearTimeout(hard);
      resolve({ code, signal, stdout, stderr, before, after: digest(root) });
    });
  });
}

const R = ['--root', '$ROOT'];
const READ_ONLY: Array<{ cmd: string[]; codes: number[] }> = [
  { cmd: ['status'], codes: [0, 1, 2] },
  { cmd: ['replay'], codes: [0, 1, 2] },
  { cmd: ['why', TASK_ID], codes: [0, 1, 2] },
  { cmd: ['doctor'], codes: [0, 1, 2] },
  { cmd: ['ready'], codes: [0, 1, 2] },
  { cmd: ['plan', '--no-write'], codes: [0, 1, 2] },
  { cmd: ['validate'], codes: [0, 1, 2] },
  { cmd: ['validate', '--section', 'state'], codes: [0, 1, 2] },
  { cmd: ['migrate', '--to', '2.0.0', '--dry-run'], codes: [0, 1, 2] },
];
const WRITING: Array<{ cmd: string[]; codes: number[] }> = [
  { cmd: ['init'], codes: [0, 1, 2] },
  { cmd: ['sync'], codes: [0, 1, 2] },
  { cmd: ['task', TASK_ID, 'scheduler_assigned'], codes: [0, 1, 2] },
  { cmd: ['worker', 'w-hostile', 'worker_registered', '--capabilities', 'node.typescript'], codes: [0, 1, 2] },
  { cmd: ['log', 'rotate'], codes: [0, 1, 2] },
  { cmd: ['log', 'prune', '--older-than-days', '365'], codes: [0, 1, 2] },
  { cmd: ['plan'], codes: [0, 1, 2] },
  { cmd: ['migrate', '--to', '2.0.0'], codes: [0, 1, 2] },
  { cmd: ['doctor', '--repair'], codes: [0, 1, 2] },
];

const ROOT_VARIANTS: Variant[] = ['missing-root', 'root-is-file', 'empty', 'no-state', 'no-tasks'];
const STATE_VARIANTS: Variant[] = ['current-malformed', 'current-wrong-shape', 'current-array', 'current-bom', 'current-dir', 'log-corrupt-middle', 'log-torn-tail', 'log-bad-last-line'];
const TASK_VARIANTS: Variant[] = ['task-proto', 'task-2mb', 'task-deep'];

function probes(): Probe[] {
  const list: Probe[] = [];
  const add = (repo: Variant, c: { cmd: string[]; codes: number[] }, readOnly: boolean) =>
    list.push({ name: `${c.cmd.join(' ')} --json @ ${repo}`, repo, args: [...c.cmd, ...R, '--json'], codes: c.codes, readOnly, json: true });
  for (const repo of [...ROOT_VARIANTS, ...STATE_VARIANTS, ...TASK_VARIANTS]) {
    for (const c of READ_ONLY) add(repo, c, true);
    for (const c of WRITING) {
      // nonexistent or file roots must not be created/overwritten by a writer either (init may create a missing root, like git init)
      add(repo, c, repo === 'root-is-file' || (repo === 'missing-root' && c.cmd[0] !== 'init'));
    }
  }
  // layout impostors and odd files: the commands that read them
  const LAYOUT: Variant[] = ['state-is-file', 'log-is-dir', 'tasks-is-file', 'task-is-dir', 'task-not-utf8', 'registry-broken', 'lock-garbage'];
  const LAYOUT_CMDS = [...READ_ONLY, ...WRITING.filter((c) => ['sync', 'task', 'init', 'log'].includes(c.cmd[0]))];
  for (const repo of LAYOUT) for (const c of LAYOUT_CMDS) add(repo, c, READ_ONLY.includes(c) || repo === 'state-is-file' || repo === 'log-is-dir');
  // human output (no --json) on the nastiest variants
  for (const repo of ['missing-root', 'current-malformed', 'current-dir', 'log-corrupt-middle', 'task-deep'] as Variant[]) {
    for (const c of [...READ_ONLY, { cmd: ['sync'], codes: [0, 1, 2] }]) {
      list.push({ name: `${c.cmd.join(' ')} @ ${repo}`, repo, args: [...c.cmd, ...R], codes: c.codes, readOnly: c.cmd[0] !== 'sync' });
    }
  }
  // unknown ids and triggers
  const u = (name: string, args: string[], codes: number[], readOnly = false) =>
    list.push({ name, repo: 'good', args: [...args, ...R, '--json'], codes, readOnly, json: true });
  u('task unknown id', ['task', 'no-such-task', 'scheduler_assigned'], [1, 2], true);
  u('task unknown trigger', ['task', TASK_ID, 'explode'], [1, 2], true);
  u('worker unknown trigger', ['worker', 'w-nope', 'explode'], [1, 2], true);
  u('why unknown id', ['why', 'no-such-task'], [1, 2], true);
  u('plan unknown workstream', ['plan', 'no-such-ws', '--no-write'], [1, 2], true);
  u('ready unknown workstream', ['ready', '--workstream', 'no-such-ws'], [0, 1, 2], true);
  u('status unknown workstream', ['status', '--workstream', 'no-such-ws'], [0, 1, 2], true);
  u('validate unknown requirement', ['validate', '--requirement', 'NOPE-999'], [2], true);
  u('validate unknown section', ['validate', '--section', 'nope'], [2], true);
  // bad flag values
  u('replay --seq abc', ['replay', '--seq', 'abc'], [2], true);
  u('replay --seq -1', ['replay', '--seq', '-1'], [2], true);
  u('replay --at not-a-date', ['replay', '--at', 'not-a-date'], [2], true);
  u('replay --at 2026-02-30', ['replay', '--at', '2026-02-30'], [2], true);
  u('replay --at 2026-11-21T25:00Z', ['replay', '--at', '2026-11-21T25:00Z'], [2], true);
  u('replay --at and --seq', ['replay', '--at', '2026-01-01T00:00:00Z', '--seq', '1'], [0, 2], true);
  u('plan --max-parallel 0', ['plan', '--max-parallel', '0'], [2], true);
  u('plan --max-parallel abc', ['plan', '--max-parallel', 'abc'], [2], true);
  u('watch --max-parallel 0', ['watch', '--max-parallel', '0'], [2], true);
  u('watch --debounce x', ['watch', '--debounce', 'x'], [2], true);
  u('sync --lock-timeout -5', ['sync', '--lock-timeout', '-5'], [2], true);
  u('task --lock-timeout -5', ['task', TASK_ID, 'scheduler_assigned', '--lock-timeout', '-5'], [2], true);
  u('task --lock-timeout 1e30', ['task', TASK_ID, 'scheduler_assigned', '--lock-timeout', '99999999999999999999'], [2], true);
  u('task --exit-code x', ['task', TASK_ID, 'scheduler_assigned', '--exit-code', 'x'], [2], true);
  u('status --lock-timeout -5', ['status', '--lock-timeout', '-5'], [0, 2], true);
  u('validate --format nope', ['validate', '--format', 'nope'], [2], true);
  u('validate --json --format sarif', ['validate', '--format', 'sarif'], [2], true);
  u('validate --json --format text', ['validate', '--format', 'text'], [2], true);
  u('validate --json --format json', ['validate', '--format', 'json'], [0, 1], true);
  u('validate --max-warnings x', ['validate', '--max-warnings', 'x'], [2], true);
  u('plan --format nope', ['plan', '--format', 'nope'], [2], true);
  u('migrate --kind nope', ['migrate', '--kind', 'nope', '--to', '2.0.0'], [2], true);
  u('migrate --to 9.9.9', ['migrate', '--to', '9.9.9'], [1, 2], true);
  u('migrate --from x --to y', ['migrate', '--from', 'x', '--to', 'y'], [1, 2], true);
  u('migrate --dir outside the root', ['migrate', '--dir', '../..', '--to', '2.0.0'], [2], true);
  u('migrate --dir absolute elsewhere', ['migrate', '--dir', os.tmpdir(), '--to', '2.0.0', '--dry-run'], [2], true);
  u('migrate --rollback without backups', ['migrate', '--rollback'], [1, 2], true);
  u('log prune --older-than-days 5', ['log', 'prune', '--older-than-days', '5'], [2], true);
  u('log prune --older-than-days x', ['log', 'prune', '--older-than-days', 'x'], [2], true);
  u('unknown option', ['status', '--bogus'], [2], true);
  u('unknown command', ['frobnicate'], [2], true);
  u('missing argument', ['task', TASK_ID], [2], true);
  u('log without subcommand', ['log'], [0, 1, 2], true);
  // watch: start, SIGTERM once ready, clean exit (always a real process)
  for (const repo of ['good', 'missing-root', 'current-malformed', 'task-deep'] as Variant[]) {
    list.push({
      name: `watch --no-write (SIGTERM) @ ${repo}`,
      repo,
      args: ['watch', '--no-write', ...R, '--json'],
      codes: repo === 'missing-root' ? [2] : [0],
      readOnly: true,
      spawn: true,
      terminate: true,
      check: (r) => {
        const lines = r.stdout.split('\n').filter(Boolean);
        expect(lines.length).toBeGreaterThan(0);
        for (const line of lines) expect(() => JSON.parse(line), `watch JSON line: ${line}`).not.toThrow();
      },
    });
  }
  // a task file that exists but does not load is reported by sync (located), and its task is not called orphaned
  for (const repo of TASK_VARIANTS.filter((v) => v !== 'task-2mb')) {
    list.push({
      name: `sync names the broken task file @ ${repo}`,
      repo,
      args: ['sync', ...R, '--json'],
      codes: [1],
      json: true,
      check: (r) => {
        const doc = JSON.parse(r.stdout) as { orphaned: string[]; skipped: Array<{ file: string; line: number; column: number; fix: string }> };
        expect(doc.orphaned).not.toContain(TASK_ID);
        expect(doc.skipped.map((f) => f.file)).toContain(TASK_FILE);
        for (const f of doc.skipped) {
          expect(f.line).toBeGreaterThan(0);
          expect(f.column).toBeGreaterThan(0);
          expect(f.fix).toBeTruthy();
        }
      },
    });
  }
  // a reader that goes away (| head): no EPIPE stack trace
  for (const args of [['replay'], ['replay', '--json'], ['status'], ['validate'], ['plan', '--no-write', '--format', 'dot']]) {
    list.push({ name: `${args.join(' ')} | closed stdout`, repo: 'good', args: [...args, ...R], codes: [0, 1], readOnly: true, spawn: true, closeStdout: true });
  }
  // a sample through the real binary, so bin/ + dist/ are covered too
  const SPAWNED = new Set([
    'status --json @ current-malformed',
    'sync --json @ root-is-file',
    'init --json @ root-is-file',
    'doctor @ log-corrupt-middle',
    'validate --json @ task-deep',
    'task unknown trigger',
    'replay --seq abc',
    'unknown option',
    'plan --format nope',
    'status --json @ current-dir',
  ]);
  // a stale-looking lock costs each writer ~2 s of waiting: run those in real processes, in parallel
  for (const p of list) if (SPAWNED.has(p.name) || (p.repo === 'lock-garbage' && !p.readOnly)) p.spawn = true;
  expect([...SPAWNED].filter((n) => !list.some((p) => p.name === n))).toEqual([]);
  return list;
}

const PROBES = probes();
const results = new Map<string, Result>();

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orc-hostile-'));
  base = path.join(tmp, 'base');
  fs.mkdirSync(base);
  for (const d of ['tasks', 'capabilities', '.state', 'schemas']) copyDir(path.join(PROJECT, d), path.join(base, d));
  const { main } = await import('../src/cli/main.js');
  mainFn = main;
  const spawned = PROBES.map((p, i) => [p, i] as const).filter(([p]) => p.spawn);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < spawned.length) {
      const [p, i] = spawned[next++];
      results.set(p.name, await run(p, i));
    }
  };
  // build dist/ for the spawned probes while the in-process matrix runs
  const spawning = new Promise<void>((resolve, reject) =>
    execFile('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: PROJECT }, (error, stdout) => {
      // tsc exits non-zero when any file in the tree has a type error, but still emits: only a missing build is fatal
      if (error && !fs.existsSync(path.join(PROJECT, 'dist/src/cli/main.js'))) reject(new Error(`tsc failed: ${stdout}`));
      else resolve();
    }),
  ).then(() => Promise.all(Array.from({ length: 3 }, worker)));
  const took: Array<[number, string]> = [];
  for (const [i, p] of PROBES.entries()) {
    if (p.spawn) continue;
    const t0 = performance.now();
    results.set(p.name, await runInProcess(p, i));
    took.push([performance.now() - t0, p.name]);
  }
  if (process.env.HOSTILE_TIMINGS) console.log(took.sort((a, b) => b[0] - a[0]).slice(0, 40).map(([ms, n]) => `${ms.toFixed(0)} ms ${n}`).join('\n'));
  await spawning;
}, 300_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('hostile inputs never crash the CLI', () => {
  it.each(PROBES.map((p) => [p.name, p] as const))('%s', (_name, probe) => {
    const r = results.get(probe.name)!;
    const ctx = `${probe.name}\nexit ${r.code} signal ${r.signal}\nstderr: ${r.stderr.slice(0, 2000)}\nstdout: ${r.stdout.slice(0, 600)}`;
    expect(r.stderr, ctx).not.toMatch(/^\s+at .+[:(]/m);
    expect(r.stderr, ctx).not.toMatch(/internal error/i);
    expect(r.signal, ctx).toBeNull();
    expect(probe.codes, ctx).toContain(r.code);
    if (probe.json) {
      expect(r.stdout.trim(), ctx).not.toBe('');
      expect(() => JSON.parse(r.stdout), ctx).not.toThrow();
      const doc = JSON.parse(r.stdout) as { ok?: boolean; error?: { code: string; message: string; fix: string | null; location: { file: string; line?: number; column?: number } | null } };
      if (doc.error) {
        // an error a person can act on: a message and a fix; a damaged file is named with line:column
        expect(doc.ok, ctx).toBe(false);
        expect(r.code, ctx).not.toBe(0);
        expect(doc.error.message, ctx).toBeTruthy();
        expect(doc.error.fix, ctx).toBeTruthy();
        if (doc.error.code === 'STATE_CORRUPT' || doc.error.code === 'INVALID_INPUT') {
          expect(doc.error.location?.file, ctx).toBeTruthy();
          expect(doc.error.location?.line, ctx).toBeGreaterThan(0);
          expect(doc.error.location?.column, ctx).toBeGreaterThan(0);
        }
      }
    }
    if (probe.readOnly) expect(r.after, `${ctx}\nrepo changed`).toBe(r.before);
    probe.check?.(r);
  });
});

describe('CLI start-up stays cheap', () => {
  // Command modules register definitions only; implementations are imported inside each action.
  const loadedPackages = (imports: string[]): string[] => {
    const script = `
      import { createRequire } from 'node:module';
      ${imports.map((m) => `await import(${JSON.stringify(m)});`).join('\n')}
      const { buildProgram } = await import('./dist/src/cli/program.js');
      const { createOutput } = await import('./dist/src/cli/output.js');
      await buildProgram(createOutput());
      const names = Object.keys(createRequire(import.meta.url).cache)
        .filter((k) => k.includes('node_modules'))
        .map((k) => k.replace(/.*node_modules[\\\\/]/, '').split(/[\\\\/]/)[0]);
      console.log(JSON.stringify([...new Set(names)].sort()));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: PROJECT, encoding: 'utf8' });
    return JSON.parse(out) as string[];
  };

  it('building the program loads no package but commander (no ajv, xstate, yaml ...)', () => {
    expect(loadedPackages([]).filter((p) => p !== 'commander')).toEqual([]);
    // the probe can see heavy packages when they are loaded
    expect(loadedPackages(['./dist/src/engine/commit.js'])).toContain('xstate');
  });

  it('a command line naming a command loads only its module; each module registers exactly the names the table gives', async () => {
    const { Command } = await import('commander');
    const { COMMANDS, buildProgram } = await import('../src/cli/program.js');
    const { createOutput } = await import('../src/cli/output.js');
    const all = (await buildProgram(createOutput())).commands.map((c) => c.name());
    expect(all).toEqual(COMMANDS.flatMap((c) => [...c.names]));
    for (const entry of COMMANDS) {
      const m = await entry.load();
      const p = new Command('probe');
      for (const register of entry.registers ? entry.registers(m) : [m.register]) register(p, createOutput());
      expect(p.commands.map((c) => c.name()), entry.names.join(',')).toEqual([...entry.names]);
      const only = await buildProgram(createOutput(), ['node', 'orc-state', entry.names[0]!]);
      expect(only.commands.map((c) => c.name())).toEqual([...entry.names]);
    }
  });

  it('the retention minimum shown by `log prune --help` matches the engine', async () => {
    const { MIN_RETENTION_DAYS } = await import('../src/engine/rotate.js');
    const { buildProgram } = await import('../src/cli/program.js');
    const { createOutput } = await import('../src/cli/output.js');
    const program = await buildProgram(createOutput(), ['node', 'orc-state', 'log']);
    const prune = program.commands.find((c) => c.name() === 'log')?.commands.find((c) => c.name() === 'prune');
    expect(prune?.description()).toContain(`N >= ${MIN_RETENTION_DAYS})`);
  });
});
