// The MCP server (issue 12 item 2) through the SDK's own Client and StdioClientTransport against
// `node bin/orc-state.js mcp`: every tool returns the JSON the CLI prints with --json, errors are MCP tool
// errors carrying the OrcError message, the resources serve the snapshot and one task, stdout carries only
// JSON-RPC, and afterwards the log replays to the snapshot.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncDefinitions } from '../src/engine/commit.js';
import { compareWithReplay } from '../src/engine/compare.js';
import { doctor } from '../src/engine/doctor.js';
import { replay } from '../src/engine/replay.js';
import { readSnapshot } from '../src/engine/snapshot.js';
import { TOOL_NAMES } from '../src/mcp/server.js';
import { privateBuild } from './fixtures/engine/build.js';
// @ts-expect-error plain JS fixture
import { makeRepo } from './fixtures/engine/make-repo.mjs';

let cli = '';
let root = '';
let client: Client;
let transport: StdioClientTransport;
const protocolErrors: Error[] = [];
let serverStderr = '';

interface ToolResult {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
}

async function call(name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  return (await client.callTool({ name, arguments: args })) as ToolResult;
}

async function json(name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const r = await call(name, args);
  expect(r.isError ?? false, r.content.map((c) => c.text).join('\n')).toBe(false);
  return JSON.parse(r.content[0]!.text!) as Record<string, unknown>;
}

function cliJson(...args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [cli, ...args, '--json', '--root', root], { encoding: 'utf8' });
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

function output(taskId: string, workerId: string, status: 'success' | 'failed' = 'success'): Record<string, unknown> {
  return {
    schema_version: '1.0.0',
    schema_url: 'https://orc-state.dev/schemas/worker-output/1.0.0.json',
    task_id: taskId,
    worker_id: workerId,
    status,
    files_modified: [],
    diff_summary: { files_changed: 0, insertions: 0, deletions: 0 },
    validation_status: status === 'success' ? 'passed' : 'skipped',
    commit_message: null,
    error: status === 'success' ? null : { error_type: 'nonzero_exit', message: 'exit 1', exit_code: 1, retryable: true },
    metadata: { tokens_used: null, duration_seconds: 1, exit_code: status === 'success' ? 0 : 1 },
  };
}

beforeAll(async () => {
  cli = join(privateBuild(), 'bin', 'orc-state.js');
  root = makeRepo({ app: [{ id: 'a' }, { id: 'b', deps: ['a'] }] }) as string;
  await syncDefinitions(root);
  transport = new StdioClientTransport({ command: process.execPath, args: [cli, 'mcp', '--root', root], env: { ...(process.env as Record<string, string>), NO_COLOR: '1' }, stderr: 'pipe' });
  transport.stderr?.on('data', (c: Buffer) => (serverStderr += c.toString()));
  client = new Client({ name: 'orc-state-test', version: '1.0.0' });
  client.onerror = (e) => protocolErrors.push(e);
  await client.connect(transport);
}, 120_000);

afterAll(async () => {
  await client?.close();
});

describe('orc-state mcp', () => {
  it('lists the tools and resources', async () => {
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual([...TOOL_NAMES].sort());
    const resources = await client.listResources();
    expect(resources.resources.map((r) => r.uri)).toEqual(expect.arrayContaining(['orc-state://snapshot', 'orc-state://task/a', 'orc-state://task/b']));
    const templates = await client.listResourceTemplates();
    expect(templates.resourceTemplates.map((t) => t.uriTemplate)).toEqual(['orc-state://task/{task_id}']);
  });

  it('status, ready, why and plan return what the CLI prints with --json', async () => {
    expect(await json('status')).toEqual(cliJson('status'));
    const ready = await json('ready');
    expect(ready).toEqual(cliJson('ready', '--explain'));
    expect((ready['ready'] as Array<{ task_id: string }>).map((r) => r.task_id)).toEqual(['a']);
    expect((ready['blocked'] as Array<{ task_id: string; reasons: string[] }>)[0]).toMatchObject({ task_id: 'b', reasons: ['waiting for a (pending)'] });
    expect(await json('why', { task_id: 'a' })).toEqual(cliJson('why', 'a'));
    const plan = await json('plan', { workstream: 'app' });
    const cliPlan = cliJson('plan', 'app', '--no-write');
    const strip = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x) => (k === 'generated_at' ? undefined : x)));
    expect(strip(plan)).toEqual(strip(cliPlan));
  });

  it('claim, heartbeat and report drive a task to completed under its lease; resources follow', async () => {
    const claim = await json('claim', { worker_id: 'm1', capabilities: [], lease_seconds: 120 });
    expect(claim).toMatchObject({ ok: true, task_id: 'a', worker_id: 'm1', lease: { seconds: 120 } });
    const token = claim['token'] as string;
    expect(token).toMatch(/^\d+-[0-9a-f]{16}$/);
    expect((claim['task'] as { task_id: string }).task_id).toBe('a');
    expect(claim['context']).toMatchObject({ files: [], problems: [] });

    const snap = await client.readResource({ uri: 'orc-state://snapshot' });
    const text = (snap.contents[0] as { text: string }).text;
    expect(text).toBe(readFileSync(join(root, '.state', 'current.json'), 'utf8'));
    const task = await client.readResource({ uri: 'orc-state://task/a' });
    const body = JSON.parse((task.contents[0] as { text: string }).text) as { state: { status: string }; lease: { token: string }; definition: { task_id: string }; file: string };
    expect(body).toMatchObject({ state: { status: 'running' }, lease: { token }, definition: { task_id: 'a' }, file: 'tasks/app/a.json' });

    // a second claimer: nothing claimable is an answer, not an error
    const none = await json('claim', { worker_id: 'm2' });
    expect(none).toMatchObject({ ok: false, task_id: null, token: null, reason: { code: 'blocked' } });

    const beat = await json('heartbeat', { worker_id: 'm1', token });
    expect(beat).toMatchObject({ ok: true, task_id: 'a', token });
    const report = await json('report', { task_id: 'a', worker_id: 'm1', token, output: output('a', 'm1') });
    expect(report).toMatchObject({ ok: true, task_id: 'a', trigger: 'execution_completed', status: 'completed', attempt: 1, output_file: '.state/outputs/a.attempt-1.worker-output.json' });
    expect(JSON.parse(readFileSync(join(root, '.state/outputs/a.attempt-1.worker-output.json'), 'utf8'))).toMatchObject({ task_id: 'a', status: 'success' });

    // b is ready now; m2 claims it and reports a failure (retrying)
    const b = await json('claim', { worker_id: 'm2' });
    expect(b['task_id']).toBe('b');
    const failed = await json('report', { task_id: 'b', worker_id: 'm2', token: b['token'], output: output('b', 'm2', 'failed') });
    expect(failed).toMatchObject({ trigger: 'execution_failed', status: 'retrying' });
    expect(compareWithReplay(readSnapshot(root)!, await replay(root))).toEqual([]);
    expect((await doctor(root)).ok).toBe(true);
  });

  it('answers the calls already received when the client closes stdin, then exits 0; stdout is only JSON-RPC', () => {
    const lines = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'pipe', version: '1' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'status', arguments: {} } },
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'ready', arguments: { explain: false } } },
    ];
    const r = spawnSync(process.execPath, [cli, 'mcp', '--root', root], { input: lines.map((l) => JSON.stringify(l)).join('\n') + '\n', encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    const replies = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number; result: ToolResult });
    expect(replies.map((x) => x.id)).toEqual([1, 2, 3]);
    expect(JSON.parse(replies[2]!.result.content[0]!.text!)).toEqual(cliJson('ready'));
  });

  it('errors are MCP tool errors with the OrcError message, and the server keeps serving', async () => {
    const stale = await call('heartbeat', { worker_id: 'm1', token: '3-0123456789abcdef' });
    expect(stale.isError).toBe(true);
    expect(stale.content[0]!.text).toMatch(/^LEASE_REFUSED: worker m1 heartbeat refused: lease token 3-0123456789abcdef is stale/);
    expect(JSON.parse(stale.content[1]!.text!)).toMatchObject({ ok: false, error: { code: 'LEASE_REFUSED' } });
    const unknown = await call('why', { task_id: 'nope' });
    expect(unknown.isError).toBe(true);
    expect(unknown.content[0]!.text).toContain('nope');
    const bad = await call('report', { task_id: 'b', worker_id: 'm2', token: 'x', output: { status: 'success' } });
    expect(bad.isError).toBe(true);
    expect(bad.content[0]!.text).toMatch(/^INVALID_INPUT: output:1:1: the worker output does not follow schemas\/worker-output/);
    const badArgs = await call('claim', { worker_id: 42 });
    expect(badArgs.isError).toBe(true);
    await expect(client.readResource({ uri: 'orc-state://task/nope' })).rejects.toThrow(/no task nope/);
    // still alive and consistent
    expect((await json('status'))['last_seq']).toBe(readSnapshot(root)!.last_seq);
    expect(protocolErrors).toEqual([]);
    expect(serverStderr).not.toMatch(/\n\s+at /);
  });
});

describe('orc-state mcp killed mid-call', () => {
  it('SIGKILL while claims are being answered: the next writer finds log and snapshot in agreement, nothing acknowledged lost', async () => {
    const killRoot = makeRepo({ k: Array.from({ length: 6 }, (_, i) => ({ id: `k${i}` })) }) as string;
    await syncDefinitions(killRoot);
    const lines = Array.from({ length: 6 }, (_, i) => ({ jsonrpc: '2.0', id: i + 10, method: 'tools/call', params: { name: 'claim', arguments: { worker_id: `kw${i}`, capabilities: [] } } }));
    const init = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'kill-test', version: '1' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
    ];
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [cli, 'mcp', '--root', killRoot], { stdio: ['pipe', 'pipe', 'ignore'] });
    const acknowledged: string[] = [];
    let buf = '';
    const firstAnswer = new Promise<void>((resolve) => {
      child.stdout.on('data', (c: Buffer) => {
        buf += c.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const msg = JSON.parse(buf.slice(0, nl)) as { id?: number; result?: ToolResult };
          buf = buf.slice(nl + 1);
          const text = msg.result?.content?.[0]?.text;
          if (msg.id !== undefined && msg.id >= 10 && text) {
            const answer = JSON.parse(text) as { task_id: string | null };
            if (answer.task_id) acknowledged.push(answer.task_id);
            resolve();
          }
        }
      });
    });
    child.stdin.write([...init, ...lines].map((l) => JSON.stringify(l)).join('\n') + '\n');
    await firstAnswer; // at least one claim was answered; the others are in flight
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(acknowledged.length).toBeGreaterThanOrEqual(1);
    // the next writer (doctor --repair) completes whatever the kill cut, and every answered claim is in the state
    const repaired = await doctor(killRoot, { repair: true });
    expect(repaired.ok).toBe(true);
    const snap = readSnapshot(killRoot)!;
    expect(compareWithReplay(snap, await replay(killRoot))).toEqual([]);
    for (const id of acknowledged) expect(snap.tasks.find((t) => t.task_id === id)?.status).toBe('running');
  });
});
