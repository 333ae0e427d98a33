// The adapters behind `orc-state run`: Claude Code (`claude -p … --output-format
// stream-json --verbose`) and Aider, each a fake executable on PATH that prints the
// real output format (tests/fixtures/run/bin/claude, tests/fixtures/runner/fake-aider.sh).
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPlan } from '../src/scheduler/loop.js';
import { parseClaudeStream, buildClaudeCommand } from '../src/runner/claude.js';
import type { OrcEvent, TaskDefinition } from '../src/model.js';
import { logAgrees, makeRepo } from './run-helpers.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

function events(root: string): OrcEvent[] {
  return readFileSync(join(root, '.state/transitions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as OrcEvent);
}

function binDir(root: string): string {
  const bin = join(root, '.fakebin');
  mkdirSync(bin, { recursive: true });
  copyFileSync(join(FIXTURES, 'run/bin/claude'), join(bin, 'claude'));
  copyFileSync(join(FIXTURES, 'runner/fake-aider.sh'), join(bin, 'aider'));
  chmodSync(join(bin, 'claude'), 0o755);
  chmodSync(join(bin, 'aider'), 0o755);
  return bin;
}

const claudeTask = (id: string, mode: string, extra: Record<string, unknown> = {}) => ({
  id,
  command: 'claude --model sonnet',
  capabilities: ['claude'],
  maxRetries: 3,
  execution: { env: { FAKE_CLAUDE_MODE: mode, FAKE_CLAUDE_LOG: `claude-${id}.args` }, ...extra },
});

describe('Claude Code adapter', () => {
  it('parses the stream-json result event: result, cost, tokens, turns, denials', () => {
    const text = [
      '{"type":"system","subtype":"init","session_id":"s1","tools":[],"model":"m"}',
      'a warning line that is not JSON',
      '{"type":"result","subtype":"success","is_error":false,"num_turns":4,"result":"ok","session_id":"s1","total_cost_usd":0.5,"usage":{"input_tokens":10,"output_tokens":5,"cache_read_input_tokens":100},"permission_denials":[]}',
    ].join('\n');
    const r = parseClaudeStream(text);
    expect(r).toMatchObject({ found: true, subtype: 'success', isError: false, result: 'ok', costUsd: 0.5, numTurns: 4, tokens: 115, sessionId: 's1' });
    expect(parseClaudeStream('no json at all').found).toBe(false);
    const t = { task_id: 't', description: 'Fix it', execution: { command: 'claude --output-format json' } } as unknown as TaskDefinition;
    expect(buildClaudeCommand(t)).toMatchObject({ error: expect.stringMatching(/stream-json/) });
  });

  it('runs a task, records the cost from total_cost_usd, passes the remaining budget as --max-budget-usd', async () => {
    const root = await makeRepo([claudeTask('ask', 'ok', { cost_estimate_usd: 1 })]);
    const bin = binDir(root);
    const task = JSON.parse(readFileSync(join(root, 'tasks/ws/ask.json'), 'utf8'));
    task.execution.env.PATH = `${bin}:${process.env.PATH}`;
    writeFileSync(join(root, 'tasks/ws/ask.json'), JSON.stringify(task, null, 2));
    const r = await runPlan({ root, jobs: 1, budgetUsd: 5, capabilities: ['claude', 'shell'], killGraceMs: 200 });
    expect(r.summary.tasks[0]).toMatchObject({ status: 'completed', cost_usd: 0.0123 });
    expect(r.summary.spend.by_workstream.ws).toBeCloseTo(0.0123);
    const done = events(root).find((e) => e.trigger === 'execution_completed');
    expect(done?.metadata).toMatchObject({ cost_usd: 0.0123, cost_source: 'adapter', num_turns: 3, tokens_used: 1852 });
    const args = readFileSync(join(root, 'claude-ask.args'), 'utf8').trim().split('\n');
    expect(args).toEqual(['-p', 'run test task ask', '--output-format', 'stream-json', '--verbose', '--max-budget-usd', '5', '--model', 'sonnet']);
    expect(readFileSync(join(root, 'claude-out.txt'), 'utf8')).toBe('done by claude\n');
    expect(await logAgrees(root)).toEqual([]);
  });

  it('permission denials and insufficient context fail at once (not retryable); an error result is retried', async () => {
    const root = await makeRepo([claudeTask('denied', 'denied'), claudeTask('blind', 'insufficient'), { ...claudeTask('broken', 'error'), maxRetries: 1 }]);
    const bin = binDir(root);
    for (const id of ['denied', 'blind', 'broken']) {
      const task = JSON.parse(readFileSync(join(root, `tasks/ws/${id}.json`), 'utf8'));
      task.execution.env.PATH = `${bin}:${process.env.PATH}`;
      writeFileSync(join(root, `tasks/ws/${id}.json`), JSON.stringify(task, null, 2));
    }
    const r = await runPlan({ root, jobs: 3, capabilities: ['claude'], killGraceMs: 200 });
    const by = Object.fromEntries(r.summary.tasks.map((t) => [t.task_id, t]));
    expect(by.denied).toMatchObject({ status: 'failed', attempts: 1 });
    expect(by.denied?.reason).toMatch(/denied permission to use Bash/);
    expect(by.blind).toMatchObject({ status: 'failed', attempts: 1 });
    expect(by.broken).toMatchObject({ status: 'failed', attempts: 2 });
    const types = events(root).filter((e) => e.trigger === 'execution_failed').map((e) => `${e.entity_id}:${String(e.metadata.error_type)}`);
    expect(types).toEqual(expect.arrayContaining(['denied:permission_denied', 'blind:insufficient_context', 'broken:nonzero_exit']));
    expect(await logAgrees(root)).toEqual([]);
  });
});

describe('Aider adapter through run', () => {
  it('runs an aider task with its context files and records tokens', async () => {
    const root = await makeRepo([
      {
        id: 'edit',
        command: 'aider --model fake',
        capabilities: ['aider'],
        extra: { type: 'aider', description: 'Add x to app.py', context_requirements: { max_context_tokens: 8000, required_files: ['app.py'], exclude_patterns: [] } },
        execution: { env: { FAKE_AIDER_MODE: 'ok', FAKE_AIDER_LOG: 'aider.args' } },
      },
    ]);
    writeFileSync(join(root, 'app.py'), 'y = 2\n');
    const bin = binDir(root);
    const task = JSON.parse(readFileSync(join(root, 'tasks/ws/edit.json'), 'utf8'));
    task.execution.env.PATH = `${bin}:${process.env.PATH}`;
    writeFileSync(join(root, 'tasks/ws/edit.json'), JSON.stringify(task, null, 2));
    const r = await runPlan({ root, jobs: 1, capabilities: ['aider'], killGraceMs: 200 });
    expect(r.summary.tasks[0]?.status).toBe('completed');
    expect(readFileSync(join(root, 'aider.args'), 'utf8').trim().split('\n')).toEqual(['--model', 'fake', '--yes', '--message', 'Add x to app.py', 'app.py']);
    expect(events(root).find((e) => e.trigger === 'execution_completed')?.metadata.tokens_used).toBe(1750);
    expect(await logAgrees(root)).toEqual([]);
  });
});
