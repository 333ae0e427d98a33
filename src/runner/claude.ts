/**
 * The Claude Code CLI worker: one implementation behind the generic Worker
 * interface (AIDER-INT-001), run headless as
 * `claude -p <prompt> --output-format stream-json --verbose [--max-budget-usd X]`.
 *
 * Public API:
 *   - ClaudeWorker (class, implements Worker)                                   (stable)
 *   - buildClaudeCommand(task, options) → { file, args } | { error }           (stable)
 *       `execution.command` may be `claude [options...]` (its options are kept; the
 *       prompt is the task description unless the command gives `-p "<prompt>"`);
 *       any other command runs `claude` with the task description. The adapter
 *       sets --output-format stream-json --verbose itself (refuses a command that
 *       sets another output format) and adds --max-budget-usd when a budget is given.
 *   - parseClaudeStream(text) → ClaudeResult                                    (stable)
 *       reads the newline-delimited JSON events; the final `{"type":"result"}`
 *       event gives subtype, is_error, result, total_cost_usd, num_turns,
 *       usage {input_tokens, output_tokens, cache_creation_input_tokens,
 *       cache_read_input_tokens} and permission_denials. Lines that are not JSON
 *       are ignored (the CLI may print warnings).
 * Behaviour: a result with permission_denials fails with error_type
 * "permission_denied"; a result that reports too little context (or the file
 * requests of ./aider.ts's patterns) fails with "insufficient_context"; a prompt
 * too long for the model with "context_overflow"; a budget stop
 * (subtype error_max_budget_usd, or "Exceeded USD budget") with "budget_exceeded".
 * None of these is retryable (RETRYABLE_ERRORS). Other is_error results are nonzero_exit.
 * Cost (total_cost_usd) and turns go into the output's metadata (cost_usd, num_turns);
 * tokens_used = input + output + cache tokens.
 * Integration points: src/scheduler (orc-state run --adapter claude, or tasks whose
 * capabilities include "claude"); tests use a fake `claude` on PATH printing this format.
 * Dependencies: node:path, ./shell.js, ./aider.js (splitCommandLine), ./types.js, ../model.js.
 */
import { basename } from 'node:path';
import type { TaskDefinition } from '../model.js';
import { splitCommandLine } from './aider.js';
import { BaseWorker, beginAttempt, evaluatePreValidation, finishOutput, processError, runTaskProcess, settleOutput } from './shell.js';
import type { RunContext, WorkerOutput } from './types.js';

export interface ClaudeResult {
  found: boolean;
  subtype: string | null;
  isError: boolean;
  result: string | null;
  costUsd: number | null;
  numTurns: number | null;
  tokens: number | null;
  usage: Record<string, number>;
  permissionDenials: Array<{ tool_name?: string }>;
  sessionId: string | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function parseClaudeStream(text: string): ClaudeResult {
  const out: ClaudeResult = { found: false, subtype: null, isError: false, result: null, costUsd: null, numTurns: null, tokens: null, usage: {}, permissionDenials: [], sessionId: null };
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    let ev: Record<string, unknown>;
    try {
      ev = JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof ev.session_id === 'string') out.sessionId = ev.session_id;
    if (ev.type !== 'result') continue;
    out.found = true;
    out.subtype = typeof ev.subtype === 'string' ? ev.subtype : null;
    out.isError = ev.is_error === true;
    out.result = typeof ev.result === 'string' ? ev.result : null;
    out.costUsd = num(ev.total_cost_usd) ?? num(ev.cost_usd);
    out.numTurns = num(ev.num_turns);
    const usage = (ev.usage && typeof ev.usage === 'object' ? ev.usage : {}) as Record<string, unknown>;
    out.usage = {};
    let tokens = 0;
    let any = false;
    for (const key of ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens']) {
      const v = num(usage[key]);
      if (v === null) continue;
      out.usage[key] = v;
      tokens += v;
      any = true;
    }
    out.tokens = any ? Math.round(tokens) : null;
    out.permissionDenials = Array.isArray(ev.permission_denials) ? (ev.permission_denials as Array<{ tool_name?: string }>) : [];
  }
  return out;
}

const INSUFFICIENT = [/insufficient[ _-]context/i, /I need to see the contents of/i, /please (?:add|share|provide) (?:the )?(?:these |those )?files?/i];
const OVERFLOW = [/prompt is too long/i, /context[ _-]length[ _-]exceeded/i, /context window/i];
const BUDGET = [/exceeded usd budget/i, /max[_ -]budget/i];

export function buildClaudeCommand(task: TaskDefinition, options: { budgetUsd?: number } = {}): { file: string; args: string[] } | { error: string } {
  const words = splitCommandLine(task.execution.command ?? '');
  let file = 'claude';
  let rest: string[] = [];
  if (words.length > 0 && basename(words[0] as string) === 'claude') {
    file = words[0] as string;
    rest = words.slice(1);
  }
  let prompt = task.description;
  const kept: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i] as string;
    if (w === '-p' || w === '--print') {
      const next = rest[i + 1];
      if (next !== undefined && !next.startsWith('-')) {
        prompt = next;
        i++;
      }
      continue;
    }
    if (w === '--output-format' || w.startsWith('--output-format=')) {
      const value = w.includes('=') ? w.slice(w.indexOf('=') + 1) : rest[i + 1];
      if (value !== 'stream-json') return { error: `execution.command sets --output-format ${value ?? ''}; the Claude adapter reads stream-json: remove the option` };
      if (!w.includes('=')) i++;
      continue;
    }
    if (w === '--verbose') continue;
    kept.push(w);
  }
  if (!prompt || !prompt.trim()) return { error: 'the task has no description to send to Claude as the prompt' };
  const args = ['-p', prompt, '--output-format', 'stream-json', '--verbose'];
  if (options.budgetUsd !== undefined && Number.isFinite(options.budgetUsd) && options.budgetUsd > 0 && !kept.includes('--max-budget-usd')) {
    args.push('--max-budget-usd', String(Math.round(options.budgetUsd * 10000) / 10000));
  }
  return { file, args: [...args, ...kept] };
}

export class ClaudeWorker extends BaseWorker {
  readonly type: string = 'claude';
  constructor(id: string, capabilities: readonly string[] = ['claude']) {
    super(id, capabilities);
  }

  async run(task: TaskDefinition, ctx: RunContext): Promise<WorkerOutput> {
    const begun = beginAttempt(this, task, ctx);
    if ('early' in begun) return begun.early;
    const { root, base, since, dir } = begun;
    const none = { passed: [], failed: [], skipped: [] };
    const command = buildClaudeCommand(task, ctx.budgetUsd !== undefined ? { budgetUsd: ctx.budgetUsd } : {});
    if ('error' in command) return finishOutput({ ...base, durationMs: since(), error: { error_type: 'invalid_task', message: command.error }, validation: none });
    const validation = evaluatePreValidation(root, task);
    if (validation.failed.length > 0) {
      return finishOutput({ ...base, durationMs: since(), error: { error_type: 'validation_failed', message: `pre-execution validation failed: ${validation.failed.join(', ')} (claude was not run)` }, validation });
    }
    const { p, changes } = await runTaskProcess(root, task, ctx, command, dir);
    const parsed = parseClaudeStream(p.stdout);
    let error = processError(p, task);
    const text = `${parsed.result ?? ''}\n${p.stderr}`;
    if (!p.timedOut && !p.cancelled && !p.spawnError) {
      if (parsed.permissionDenials.length > 0) {
        const tools = [...new Set(parsed.permissionDenials.map((d) => d.tool_name ?? 'a tool'))].join(', ');
        error = { error_type: 'permission_denied', message: `Claude was denied permission to use ${tools}; allow the tool (--allowedTools) or change the task`, exit_code: p.exitCode };
      } else if (parsed.subtype === 'error_max_budget_usd' || BUDGET.some((r) => r.test(text))) {
        error = { error_type: 'budget_exceeded', message: `Claude stopped at the budget${ctx.budgetUsd !== undefined ? ` of $${ctx.budgetUsd}` : ''}`, exit_code: p.exitCode };
      } else if (OVERFLOW.some((r) => r.test(text)) && (parsed.isError || error)) {
        error = { error_type: 'context_overflow', message: `Claude reported the context is too large: "${(parsed.result ?? '').slice(0, 200)}"`, exit_code: p.exitCode };
      } else if (INSUFFICIENT.some((r) => r.test(parsed.result ?? ''))) {
        error = { error_type: 'insufficient_context', message: `Claude reported insufficient context: "${(parsed.result ?? '').slice(0, 200)}"; add the files it needs to context_requirements`, exit_code: p.exitCode };
      } else if (!error && (!parsed.found || parsed.isError)) {
        error = {
          error_type: 'nonzero_exit',
          message: parsed.found ? `Claude reported an error (${parsed.subtype ?? 'error'}): ${(parsed.result ?? '').slice(0, 200)}` : 'claude printed no result event (is it Claude Code, run with --output-format stream-json?)',
          exit_code: p.exitCode,
        };
      }
    }
    const output = settleOutput(root, base, { p, changes, validation, error, command: [command.file, ...command.args], dir }, { tokensUsed: parsed.tokens });
    if (parsed.costUsd !== null) output.metadata.cost_usd = parsed.costUsd;
    if (parsed.numTurns !== null) output.metadata.num_turns = parsed.numTurns;
    if (Object.keys(parsed.usage).length) output.metadata.usage = parsed.usage;
    if (parsed.sessionId) output.metadata.session_id = parsed.sessionId;
    return output;
  }
}
