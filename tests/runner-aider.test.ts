import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TaskDefinition } from '../src/model.js';
import { AiderWorker, buildAiderCommand, parseAiderOutput, splitCommandLine } from '../src/runner/aider.js';
import { rng } from '../src/util/random.js';
import { ShellWorker } from '../src/runner/shell.js';
import { triggerFor, validateWorkerOutput, writeWorkerOutput } from '../src/runner/output.js';
import { WORKER_OUTPUT_FIELDS } from '../src/runner/types.js';

const FAKE = join(import.meta.dirname, 'fixtures/runner/fake-aider.sh');

function task(overrides: Partial<TaskDefinition> = {}): TaskDefinition {
  return {
    schema_version: '2.0.0',
    schema_url: 'https://orc-state.dev/schemas/task/2.0.0.json',
    task_id: 'edit-app',
    workstream_id: 'ws',
    name: 'Edit app',
    description: 'Add x to app.py',
    type: 'aider',
    status: 'pending',
    dependencies: [],
    blocks: [],
    worker_requirements: { capabilities: ['aider'] },
    execution: { command: 'aider --model fake', timeout_seconds: 30, max_retries: 2 },
    context_requirements: {
      max_context_tokens: 8000,
      required_files: ['app.py'],
      optional_files: ['lib/helper.py', 'lib/big.py', 'lib/__pycache__/helper.cpython-312.pyc', 'lib/missing.py'],
      exclude_patterns: ['**/__pycache__/**', '**/*.pyc', '**/node_modules/**'],
    },
    validation_rules: { pre_execution: [], post_execution: ['no_lint_errors'] },
    state: { created_at: '2026-11-01T09:00:00.000Z', retry_count: 0 },
    ...overrides,
  };
}

/** A repo with files of known sizes, and a bin dir holding the fake `aider` first on PATH. */
function setup(options: { git?: boolean } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'orc-aider-'));
  mkdirSync(join(root, 'lib/__pycache__'), { recursive: true });
  writeFileSync(join(root, 'app.py'), 'print("app")\n'.repeat(100)); // 1,300 bytes ≈ 325 tokens
  writeFileSync(join(root, 'lib/helper.py'), 'x'.repeat(4000)); // 1,000 tokens
  writeFileSync(join(root, 'lib/big.py'), 'y'.repeat(40000)); // 10,000 tokens: over budget
  writeFileSync(join(root, 'lib/__pycache__/helper.cpython-312.pyc'), 'pyc');
  if (options.git) {
    const g = (...args: string[]) => execFileSync('git', args, { cwd: root, stdio: 'ignore' });
    g('init', '-q');
    g('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'add', '.');
    g('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'init');
  }
  const bin = mkdtempSync(join(tmpdir(), 'orc-fake-bin-'));
  copyFileSync(FAKE, join(bin, 'aider'));
  execFileSync('chmod', ['+x', join(bin, 'aider')]);
  const log = join(bin, 'args.log');
  const env = (mode: string) => ({ ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_AIDER_MODE: mode, FAKE_AIDER_LOG: log });
  const args = () => readFileSync(log, 'utf8').split('\n').slice(0, -1);
  return { root, env, args, log };
}

describe('AiderWorker (fake aider on PATH)', () => {
  it('passes --yes, --message and only required files plus optional files within budget, never excluded ones', async () => {
    const { root, env, args } = setup();
    const worker = new AiderWorker('w-1');
    const out = await worker.run(task(), { root, env: env('ok') });
    expect(args()).toEqual(['--model', 'fake', '--yes', '--message', 'Add x to app.py', 'app.py', 'lib/helper.py']);
    expect(out.metadata.context?.files).toEqual(['app.py', 'lib/helper.py']);
    expect(out.metadata.context?.skipped.map((s) => [s.file, s.reason.split(' (')[0]])).toEqual([
      ['lib/big.py', 'over the token budget'],
      ['lib/__pycache__/helper.cpython-312.pyc', 'excluded by **/__pycache__/**'],
      ['lib/missing.py', 'does not exist'],
    ]);
    expect(out.status).toBe('success');
    expect(out.error).toBeNull();
    expect(out.metadata.tokens_used).toBe(1750);
    expect(out.commit_message).toBe('feat: add x to app');
    expect(out.files_modified).toEqual(['app.py']);
    expect(out.validation_status).toBe('skipped'); // no_lint_errors cannot be judged for an aider run
    expect(validateWorkerOutput(out).errors).toEqual([]);
    expect(triggerFor(out)).toBe('execution_completed');
    // The contract's top-level fields are exactly the schema's.
    const schema = JSON.parse(readFileSync(join(import.meta.dirname, '../schemas/worker-output.v1.0.0.schema.json'), 'utf8'));
    expect([...schema.required].sort()).toEqual([...WORKER_OUTPUT_FIELDS].sort());
    const written = await writeWorkerOutput(root, out);
    expect(written).toBe('.state/outputs/edit-app.attempt-1.worker-output.json');
    expect(JSON.parse(readFileSync(join(root, written), 'utf8'))).toEqual(out);
  });

  it('fails with error_type insufficient_context when aider reports it (exit 0 or not)', async () => {
    const { root, env } = setup();
    for (const mode of ['insufficient', 'ask-add']) {
      const out = await new AiderWorker('w-1').run(task(), { root, env: env(mode) });
      expect(out.status).toBe('failed');
      expect(out.error?.error_type).toBe('insufficient_context');
      expect(out.error?.retryable).toBe(false);
      expect(validateWorkerOutput(out).valid).toBe(true);
      expect(triggerFor(out)).toBe('execution_failed');
    }
    const out = await new AiderWorker('w-1').run(task(), { root, env: env('insufficient') });
    expect(out.metadata.tokens_used).toBe(920);
  });

  it('does not run aider when a required file is excluded, missing or the budget is too small', async () => {
    const { root, env, log } = setup();
    const cases: Array<[Partial<TaskDefinition['context_requirements']>, string]> = [
      [{ required_files: ['lib/__pycache__/helper.cpython-312.pyc'] }, 'invalid_task'],
      [{ required_files: ['nope.py'] }, 'invalid_task'],
      [{ required_files: ['../outside.py'] }, 'invalid_task'],
      [{ required_files: ['lib/big.py'] }, 'context_overflow'],
    ];
    for (const [req, type] of cases) {
      const t = task();
      t.context_requirements = { ...t.context_requirements, ...req };
      const out = await new AiderWorker('w-1').run(t, { root, env: env('ok') });
      expect(out.error?.error_type, JSON.stringify(req)).toBe(type);
      expect(validateWorkerOutput(out).valid).toBe(true);
    }
    expect(existsSync(log)).toBe(false);
  });

  it('reports a non-zero exit and a refused command line', async () => {
    const { root, env } = setup();
    const failed = await new AiderWorker('w-1').run(task(), { root, env: env('fail'), attempt: 2 });
    expect(failed.error).toMatchObject({ error_type: 'nonzero_exit', exit_code: 3, retryable: true });
    expect(failed.metadata.attempt).toBe(2);
    expect(failed.metadata.output_tail).toContain('model error');
    const sneaky = await new AiderWorker('w-1').run(task({ execution: { command: 'aider --file secrets.env', timeout_seconds: 5, max_retries: 0 } }), { root, env: env('ok') });
    expect(sneaky.error?.error_type).toBe('invalid_task');
    const positional = await new AiderWorker('w-1').run(task({ execution: { command: 'aider lib/big.py', timeout_seconds: 5, max_retries: 0 } }), { root, env: env('ok') });
    expect(positional.error?.message).toMatch(/names the file lib\/big\.py/);
  });

  it('kills the whole process group when timeout_seconds passes', async () => {
    const { root, env, log } = setup();
    const out = await new AiderWorker('w-1').run(task({ execution: { command: 'aider', timeout_seconds: 1, max_retries: 1 } }), { root, env: env('hang'), killGraceMs: 200 });
    expect(out.status).toBe('timeout');
    expect(out.error?.error_type).toBe('timeout');
    expect(triggerFor(out)).toBe('task_timeout');
    const childPid = Number(readFileSync(`${log}.child`, 'utf8'));
    // Gone, or a zombie waiting for a container init that does not reap: either way not running.
    const running = () => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${childPid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    let alive = true;
    for (let i = 0; i < 50 && alive; i++) {
      alive = running();
      if (alive) await new Promise((r) => setTimeout(r, 20));
    }
    expect(alive).toBe(false);
  });

  it('finds modified files and the diff summary with git', async () => {
    const { root, env } = setup({ git: true });
    const out = await new AiderWorker('w-1').run(task(), { root, env: env('ok') });
    expect(out.files_modified).toEqual(['app.py']);
    expect(out.diff_summary).toMatchObject({ files_changed: 1, insertions: 1, deletions: 0 });
  });
});

describe('ShellWorker', () => {
  it('runs the command in its working directory; git_clean gates the run; tests_passing follows the exit code', async () => {
    const { root } = setup({ git: true });
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, 'sub/keep'), '');
    execFileSync('git', ['add', '.'], { cwd: root });
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'x'], { cwd: root });
    const t = task({ type: 'pytest', worker_requirements: { capabilities: ['shell'] }, execution: { command: 'pwd > where.txt; exit 1', working_directory: 'sub', timeout_seconds: 10, max_retries: 0 } });
    t.validation_rules = { pre_execution: ['git_clean'], post_execution: ['tests_passing'] };
    const w = new ShellWorker('sh-1');
    expect(w.canRun(t)).toBe(true);
    const out = await w.run(t, { root });
    expect(readFileSync(join(root, 'sub/where.txt'), 'utf8').trim()).toMatch(/\/sub$/);
    expect(out.error?.error_type).toBe('nonzero_exit');
    expect(out.validation_status).toBe('failed');
    expect(out.files_modified).toEqual(['sub/where.txt']);
    expect(validateWorkerOutput(out).valid).toBe(true);
    // The tree is now dirty: git_clean refuses the next run without running it.
    const again = await w.run({ ...t, execution: { ...t.execution, command: 'touch ran.txt' } }, { root });
    expect(again.error?.error_type).toBe('validation_failed');
    expect(existsSync(join(root, 'sub/ran.txt'))).toBe(false);
  });

  it('refuses a working directory outside the repo', async () => {
    const { root } = setup();
    const out = await new ShellWorker('sh-1').run(task({ execution: { command: 'true', working_directory: '..', timeout_seconds: 5, max_retries: 0 } }), { root });
    expect(out.error?.error_type).toBe('invalid_task');
  });
});

describe('command line and output parsing', () => {
  it('splits every command line exactly as the character-by-character reading of the shell rules does', () => {
    // The reference: one character at a time (what splitCommandLine did before it sliced runs).
    const reference = (command: string): string[] => {
      const words: string[] = [];
      let current = '';
      let inWord = false;
      let quote: '"' | "'" | null = null;
      for (let i = 0; i < command.length; i++) {
        const c = command[i] as string;
        if (quote === "'") {
          if (c === "'") quote = null;
          else current += c;
        } else if (quote === '"') {
          if (c === '"') quote = null;
          else if (c === '\\' && i + 1 < command.length && '"\\$`'.includes(command[i + 1] as string)) current += command[++i];
          else current += c;
        } else if (c === "'" || c === '"') {
          quote = c;
          inWord = true;
        } else if (c === '\\' && i + 1 < command.length) {
          current += command[++i];
          inWord = true;
        } else if (/\s/.test(c)) {
          if (inWord) words.push(current);
          current = '';
          inWord = false;
        } else {
          current += c;
          inWord = true;
        }
      }
      if (inWord) words.push(current);
      return words;
    };
    const alphabet = ['a', 'b', 'Z', '-', '=', ' ', '  ', '\t', '\n', '\u00a0', '\u2003', '\u3000', '\ufeff', "'", '"', '\\', '$', '`', 'é', '\ud83d\ude00'];
    const random = rng(7);
    for (let k = 0; k < 20_000; k++) {
      let line = '';
      const len = Math.floor(random() * 24);
      for (let j = 0; j < len; j++) line += alphabet[Math.floor(random() * alphabet.length)];
      expect(splitCommandLine(line), JSON.stringify(line)).toEqual(reference(line));
    }
  });

  it('splits like a shell and appends message and files', () => {
    expect(splitCommandLine(`aider --model "gpt 4" --edit-format='diff' a\\ b`)).toEqual(['aider', '--model', 'gpt 4', '--edit-format=diff', 'a b']);
    expect(buildAiderCommand(task(), ['x.py'])).toEqual({ file: 'aider', args: ['--model', 'fake', '--yes', '--message', 'Add x to app.py', 'x.py'] });
    expect(buildAiderCommand(task({ execution: { command: "aider --yes --no-auto-commits --message 'Do it.'", timeout_seconds: 1, max_retries: 0 } }), ['a.py'])).toEqual({
      file: 'aider',
      args: ['--yes', '--no-auto-commits', '--message', 'Do it.', 'a.py'],
    });
    expect(buildAiderCommand(task({ execution: { command: 'aider --read x.md', timeout_seconds: 1, max_retries: 0 } }), [])).toHaveProperty('error');
    expect(buildAiderCommand(task({ execution: { command: 'aider secret.py', timeout_seconds: 1, max_retries: 0 } }), [], { isFile: (w) => w === 'secret.py' })).toHaveProperty('error');
  });

  it('parses tokens, commits and insufficient-context reports', () => {
    const p = parseAiderOutput('Tokens: 2.3k sent, 1,100 received.\nTokens: 1k sent, 0 received.\nCommit deadbee fix: things\n');
    expect(p).toMatchObject({ tokensUsed: 4400, commitMessage: 'fix: things', insufficientContext: null });
    expect(parseAiderOutput('Result: INSUFFICIENT_CONTEXT missing schema').insufficientContext).toBe('Result: INSUFFICIENT_CONTEXT missing schema');
    expect(parseAiderOutput('Please add these files to the chat so I can edit them').insufficientContext).not.toBeNull();
    expect(parseAiderOutput('All good, edited the context manager').insufficientContext).toBeNull();
  });
});
