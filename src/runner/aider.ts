/**
 * The Aider worker: one implementation behind the generic Worker interface
 * (AIDER-INT-001), built on the shell worker's process handling.
 *
 * Public API:
 *   - AiderWorker (class, implements Worker)                                  (stable)
 *   - buildAiderCommand(task, files) → { file, args } | { error }               (stable)
 *       `execution.command` gives the executable, options and optionally the
 *       instruction (`aider --model x --message '...'`; default `aider` and the
 *       task description); the adapter adds `--yes` when missing, one
 *       `--message`, and exactly the selected context files (AIDER-INT-002).
 *       A command that names files itself (`--file`, `--read`, or a word that
 *       is an existing file, checked with `isFile`) is refused: context comes
 *       only from context_requirements.
 *   - parseAiderOutput(text) → { tokensUsed, commitMessage, appliedFiles, insufficientContext }  (stable)
 *       tokens from `Tokens: 1.2k sent, 300 received` lines (summed); the commit
 *       from `Commit <sha> <message>`; insufficient context from an explicit
 *       "insufficient context" report, a request to add files to the chat
 *       (`Add src/x.py to the chat?`, "please add these files to the chat"), or
 *       "I need to see the contents of ...".
 *   - splitCommandLine(command) → string[] (POSIX-shell-like words: quotes and backslashes) (internal)
 * Behaviour: required files missing, outside the repo or matching the task's
 * own exclude_patterns fail with error_type invalid_task; required files over
 * max_context_tokens fail with context_overflow; neither runs aider. A run
 * whose output reports insufficient context fails with
 * error_type "insufficient_context" even when aider exits 0.
 * Integration points: the engine's worker pool; tests use a fake `aider` on PATH.
 * Dependencies: node:path, ./shell.js, ./context.js, ./types.js, ../model.js.
 */
import { statSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import type { TaskDefinition } from '../model.js';
import { selectContext } from './context.js';
import { evaluatePreValidation, finishOutput, hasCapabilities, processError, resolveWorkingDirectory, runTaskProcess, settleOutput } from './shell.js';
import type { RunContext, Worker, WorkerOutput } from './types.js';

const FORBIDDEN_OPTIONS = new Set(['--file', '--read']);

/** Characters JavaScript's \s matches (what splits words outside quotes). */
function isSpace(c: number): boolean {
  return (
    c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/**
 * Split a command line into words the way a POSIX shell would (no expansion): single quotes keep
 * everything, double quotes let a backslash escape " \ $ and `, an unquoted backslash escapes any
 * character, whitespace outside quotes separates words. Runs of ordinary characters are sliced, not
 * appended one by one (the gate splits every aider task's command).
 */
export function splitCommandLine(command: string): string[] {
  const words: string[] = [];
  const n = command.length;
  let current = '';
  let inWord = false;
  let i = 0;
  while (i < n) {
    const c = command.charCodeAt(i);
    if (c === 39 /* ' */) {
      const close = command.indexOf("'", i + 1);
      const stop = close < 0 ? n : close;
      current += command.slice(i + 1, stop);
      inWord = true;
      i = stop + 1;
    } else if (c === 34 /* " */) {
      i++;
      let from = i;
      while (i < n) {
        const d = command.charCodeAt(i);
        if (d === 34) break;
        if (d === 92 /* \ */ && i + 1 < n && '"\\$`'.includes(command[i + 1] as string)) {
          current += command.slice(from, i) + command[i + 1];
          i += 2;
          from = i;
        } else i++;
      }
      current += command.slice(from, i);
      inWord = true;
      i++; // the closing quote (past the end when unterminated)
    } else if (c === 92 && i + 1 < n) {
      current += command[i + 1];
      inWord = true;
      i += 2;
    } else if (isSpace(c)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
      i++;
    } else {
      let j = i + 1;
      while (j < n) {
        const d = command.charCodeAt(j);
        if (d === 39 || d === 34 || d === 92 || isSpace(d)) break;
        j++;
      }
      current += command.slice(i, j);
      inWord = true;
      i = j;
    }
  }
  if (inWord) words.push(current);
  return words;
}

export function buildAiderCommand(
  task: TaskDefinition,
  files: readonly string[],
  options: { isFile?: (word: string) => boolean } = {},
): { file: string; args: string[] } | { error: string } {
  const words = splitCommandLine(task.execution.command ?? '');
  const exe = words[0] ?? 'aider';
  let message: string | null = null;
  let messageFile = false;
  const args: string[] = [];
  for (let i = 1; i < words.length; i++) {
    const w = words[i] as string;
    const name = w.split('=')[0] as string;
    if (w === '--message' || w === '-m') {
      message = words[++i] ?? '';
      continue;
    }
    if (w.startsWith('--message=')) {
      message = w.slice('--message='.length);
      continue;
    }
    if (name === '--message-file' || name === '-f') messageFile = true;
    if (FORBIDDEN_OPTIONS.has(name)) {
      return { error: `execution.command must not pass ${name}: the adapter passes only context_requirements files (list the file there instead)` };
    }
    if (!w.startsWith('-') && options.isFile?.(w)) {
      return { error: `execution.command names the file ${w}: the adapter passes only context_requirements files (list it there instead)` };
    }
    args.push(w);
  }
  if (!args.includes('--yes') && !args.includes('--yes-always')) args.push('--yes');
  if (!messageFile) args.push('--message', message ?? (task.description.trim() !== '' ? task.description : task.name));
  args.push(...files);
  return { file: exe, args };
}

function amount(num: string, unit: string): number {
  const n = Number(num.replace(/,/g, ''));
  const mult = unit.toLowerCase() === 'k' ? 1e3 : unit.toLowerCase() === 'm' ? 1e6 : 1;
  return Math.round(n * mult);
}

const INSUFFICIENT = [
  /insufficient[ _-]context/i,
  /please add (?:these|the following|those|them|this|that)?\s*files? to the chat/i,
  /^Add [^\n]+ to the chat\?/m,
  /I (?:would )?need to see the (?:full )?(?:contents?|code) of/i,
];

export function parseAiderOutput(text: string): { tokensUsed: number | null; commitMessage: string | null; appliedFiles: string[]; insufficientContext: string | null } {
  let tokens: number | null = null;
  for (const m of text.matchAll(/Tokens:\s*([\d.,]+)\s*([kKmM]?)\s*sent,\s*([\d.,]+)\s*([kKmM]?)\s*received/g)) {
    tokens = (tokens ?? 0) + amount(m[1] as string, m[2] as string) + amount(m[3] as string, m[4] as string);
  }
  const commits = [...text.matchAll(/^Commit ([0-9a-f]{7,40}) (.+)$/gm)];
  const commitMessage = commits.length > 0 ? ((commits[commits.length - 1] as RegExpMatchArray)[2] as string).trim() : null;
  const appliedFiles = [...text.matchAll(/^Applied edit to (.+)$/gm)].map((m) => (m[1] as string).trim());
  let insufficientContext: string | null = null;
  for (const re of INSUFFICIENT) {
    const m = re.exec(text);
    if (m) {
      const lineStart = text.lastIndexOf('\n', m.index) + 1;
      const lineEnd = text.indexOf('\n', m.index);
      insufficientContext = text.slice(lineStart, lineEnd === -1 ? undefined : lineEnd).trim();
      break;
    }
  }
  return { tokensUsed: tokens, commitMessage, appliedFiles, insufficientContext };
}

export class AiderWorker implements Worker {
  readonly type = 'aider';
  constructor(
    readonly id: string,
    readonly capabilities: readonly string[] = ['aider', 'aider.edit'],
  ) {}

  canRun(task: TaskDefinition): boolean {
    return hasCapabilities(this.capabilities, task);
  }

  async run(task: TaskDefinition, ctx: RunContext): Promise<WorkerOutput> {
    const startedAt = new Date();
    const root = resolve(ctx.root);
    const base = { task, worker: { id: this.id, type: this.type }, ctx, startedAt };
    const none = { passed: [], failed: [], skipped: [] };
    const since = () => Date.now() - startedAt.getTime();
    const wd = resolveWorkingDirectory(root, task);
    if ('error' in wd) return finishOutput({ ...base, durationMs: since(), error: { error_type: 'invalid_task', message: wd.error }, validation: none });
    const selection = selectContext(root, task, { promptBytes: Buffer.byteLength(`${task.execution.command} ${task.description}`) });
    const context = { files: selection.files, estimated_tokens: selection.estimated_tokens, max_context_tokens: selection.max_context_tokens, skipped: selection.skipped };
    const problem = selection.problems.find((p) => p.error_type === 'invalid_task') ?? selection.problems[0];
    if (problem) {
      return finishOutput({ ...base, durationMs: since(), error: { error_type: problem.error_type, message: problem.message }, validation: none, context });
    }
    // Files are given relative to the working directory aider runs in.
    const fromWd = selection.files.map((f) => relative(wd.dir, resolve(root, f)).split(sep).join('/'));
    const command = buildAiderCommand(task, fromWd, {
      isFile: (w) => {
        try {
          return statSync(resolve(wd.dir, w)).isFile();
        } catch {
          return false;
        }
      },
    });
    if ('error' in command) return finishOutput({ ...base, durationMs: since(), error: { error_type: 'invalid_task', message: command.error }, validation: none, context });
    const validation = evaluatePreValidation(root, task);
    if (validation.failed.length > 0) {
      return finishOutput({
        ...base,
        durationMs: since(),
        error: { error_type: 'validation_failed', message: `pre-execution validation failed: ${validation.failed.join(', ')} (aider was not run)` },
        validation,
        context,
      });
    }
    const { p, changes } = await runTaskProcess(root, task, ctx, { file: command.file, args: command.args }, wd.dir);
    const parsed = parseAiderOutput(`${p.stdout}\n${p.stderr}`);
    for (const f of parsed.appliedFiles) {
      const rel = relative(root, resolve(wd.dir, f)).split(sep).join('/');
      if (!rel.startsWith('..') && !changes.files.includes(rel)) changes.files.push(rel);
    }
    changes.files.sort();
    let error = processError(p, task);
    if (!error && parsed.insufficientContext) {
      error = { error_type: 'insufficient_context', message: `aider reported insufficient context: "${parsed.insufficientContext}"; add the files it needs to context_requirements`, exit_code: p.exitCode };
    } else if (error?.error_type === 'nonzero_exit' && parsed.insufficientContext) {
      error = { ...error, error_type: 'insufficient_context', message: `aider reported insufficient context: "${parsed.insufficientContext}"` };
    }
    return settleOutput(root, base, { p, changes, validation, error, command: [command.file, ...command.args], dir: wd.dir }, { tokensUsed: parsed.tokensUsed, commitMessage: parsed.commitMessage, context });
  }
}
