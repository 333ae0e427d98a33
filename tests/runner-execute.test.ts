// One attempt through the engine: worker_started, the worker's run, the recorded
// output, and the outcome committed so the task machine applies the retry limits.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyTransitions, syncDefinitions } from '../src/engine/commit.js';
import { initStore } from '../src/engine/init.js';
import { readSnapshot } from '../src/engine/snapshot.js';
import { OrcError } from '../src/errors.js';
import { executeTask } from '../src/runner/execute.js';
import { validateWorkerOutput } from '../src/runner/output.js';
import { ShellWorker } from '../src/runner/shell.js';

function def(id: string, command: string, maxRetries: number) {
  return {
    schema_version: '2.0.0',
    schema_url: 'https://orc-state.dev/schemas/task/2.0.0.json',
    task_id: id,
    workstream_id: 'ws',
    name: `Task ${id}`,
    description: 'runner test',
    type: 'custom',
    status: 'pending',
    dependencies: [],
    blocks: [],
    worker_requirements: { capabilities: ['shell'] },
    execution: { command, timeout_seconds: 30, max_retries: maxRetries },
    context_requirements: { max_context_tokens: 1000, required_files: [], exclude_patterns: [] },
    validation_rules: { pre_execution: [], post_execution: [] },
    state: { created_at: '2026-01-01T00:00:00.000Z', retry_count: 0 },
  };
}

async function setup(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'orc-execute-'));
  mkdirSync(join(root, 'tasks/ws'), { recursive: true });
  writeFileSync(join(root, 'tasks/ws/ok.json'), JSON.stringify(def('ok', 'echo done > result.txt', 0), null, 2));
  writeFileSync(join(root, 'tasks/ws/flaky.json'), JSON.stringify(def('flaky', 'exit 7', 1), null, 2));
  await initStore(root);
  await syncDefinitions(root);
  const ts = () => new Date().toISOString();
  await applyTransitions(root, [
    { entity_type: 'worker', entity_id: 'sh-1', trigger: 'worker_registered', timestamp: ts(), metadata: { capabilities: ['shell'] } },
    { entity_type: 'worker', entity_id: 'sh-1', trigger: 'registration_complete', timestamp: ts() },
  ]);
  return root;
}

const queue = (root: string, id: string) => applyTransitions(root, [{ entity_type: 'task', entity_id: id, trigger: 'scheduler_assigned', timestamp: new Date().toISOString() }]);

describe('executeTask', () => {
  it('runs a queued task to completed and records a valid worker output', async () => {
    const root = await setup();
    await queue(root, 'ok');
    const r = await executeTask(root, 'ok', new ShellWorker('sh-1'));
    expect(r.status).toBe('completed');
    expect(r.events.filter((e) => e.entity_type === 'task').map((e) => e.trigger)).toEqual(['worker_started', 'execution_completed', 'validation_passed']);
    expect(readFileSync(join(root, 'result.txt'), 'utf8')).toBe('done\n');
    expect(r.output.files_modified).toContain('result.txt');
    expect(validateWorkerOutput(JSON.parse(readFileSync(join(root, r.output_file), 'utf8'))).valid).toBe(true);
    expect(readSnapshot(root)?.workers.find((w) => w.worker_id === 'sh-1')?.status).toBe('idle');
  });

  it('a failing run goes to retrying, then failed once max_retries is used up', async () => {
    const root = await setup();
    await queue(root, 'flaky');
    const first = await executeTask(root, 'flaky', new ShellWorker('sh-1'));
    expect(first.status).toBe('retrying');
    expect(first.output.error).toMatchObject({ error_type: 'nonzero_exit', exit_code: 7 });
    await applyTransitions(root, [{ entity_type: 'task', entity_id: 'flaky', trigger: 'retry_delay_elapsed', timestamp: new Date().toISOString() }]);
    const second = await executeTask(root, 'flaky', new ShellWorker('sh-1'));
    expect(second.status).toBe('failed');
    expect(second.output.metadata.attempt).toBe(2);
    expect(existsSync(join(root, '.state/outputs/flaky.attempt-2.worker-output.json'))).toBe(true);
    expect(readSnapshot(root)?.tasks.find((t) => t.task_id === 'flaky')).toMatchObject({ retry_count: 1, last_error: 'the command exited with status 7' });
  });

  it('a failure the worker marks not retryable (insufficient context) fails the task with retries left', async () => {
    const root = await setup();
    await queue(root, 'flaky');
    const shell = new ShellWorker('sh-1');
    // A worker whose run reports what the aider adapter reports when aider lacks context.
    const starved = {
      id: shell.id,
      capabilities: shell.capabilities,
      run: async (...args: Parameters<ShellWorker['run']>) => {
        const out = await shell.run(...args);
        return { ...out, error: { error_type: 'insufficient_context' as const, message: 'aider reported insufficient context', retryable: false } };
      },
    };
    const r = await executeTask(root, 'flaky', starved);
    expect(r.status).toBe('failed');
    expect(readSnapshot(root)?.tasks.find((t) => t.task_id === 'flaky')).toMatchObject({ status: 'failed', retry_count: 0 });
  });

  it('refuses a task that is not queued', async () => {
    const root = await setup();
    const error = await executeTask(root, 'ok', new ShellWorker('sh-1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrcError);
    expect((error as OrcError).message).toMatch(/task ok is pending/);
  });
});
