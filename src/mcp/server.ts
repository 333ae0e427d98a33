/**
 * The orc-state MCP server (Model Context Protocol, @modelcontextprotocol/sdk 1.x, stdio).
 *
 * Public API (stable):
 *   - createServer(root): McpServer — tools and resources registered, not connected
 *   - serveStdio(root): Promise<void> — connect to stdin/stdout; the process ends when the client closes stdin
 *     and the calls already received are answered
 *   - TOOL_NAMES
 * Tools (each runs the CLI command of the same name with --json in this process, through
 * src/cli/main.ts runCommand, so a tool returns exactly the JSON the CLI prints; one call at a time):
 *   status {workstream?} · ready {workstream?, explain = true} · claim {worker_id, capabilities?,
 *   workstream?, lease_seconds?} · heartbeat {worker_id, token, lease_seconds?} · report {task_id,
 *   worker_id, token, output} (the worker output contract) · why {task_id} · plan {workstream?, max_parallel?}
 *   (never writes the derived files). The result's text content is that JSON; a command that fails
 *   (OrcError, usage) gives an MCP tool error (isError) whose text is the error message and fix,
 *   followed by the CLI's JSON error document. claim with nothing claimable is not an error:
 *   task_id is null and reason says why.
 * Resources: orc-state://snapshot (.state/current.json as written) and the template
 *   orc-state://task/{task_id} (definition file, runtime state and, while claimed, the worker's lease).
 * stdout carries only JSON-RPC: commands print through a capturing Output, anything else goes to stderr.
 * Integration points: `orc-state mcp` (src/cli/commands/mcp.ts); tests/mcp-server.test.ts drives it
 * with the SDK's own Client and StdioClientTransport.
 * Dependencies: @modelcontextprotocol/sdk, zod, ../cli/main.js, ../engine/snapshot.js, ../engine/paths.js, ../errors.js.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult, ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { runCommand } from '../cli/main.js';
import type { Output } from '../cli/output.js';
import { statePaths } from '../engine/paths.js';
import { readSnapshot } from '../engine/snapshot.js';
import { OrcError } from '../errors.js';
import { TASK_ID_PATTERN } from '../model.js';

export const TOOL_NAMES = ['status', 'ready', 'claim', 'heartbeat', 'report', 'why', 'plan'] as const;

const VERSION = '0.1.0';

/** An Output that keeps what a --json command prints; human lines (there should be none) go to stderr. */
function capture(): { output: Output; json: unknown[]; lines: string[] } {
  const json: unknown[] = [];
  const lines: string[] = [];
  const output: Output = {
    color: false,
    interactive: false,
    out: (text) => void lines.push(text),
    err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    json: (value) => void json.push(value),
    paint: (_style, text) => text,
    progress: () => undefined,
    progressDone: () => undefined,
  };
  return { output, json, lines };
}

let queue: Promise<unknown> = Promise.resolve();

/** Run `orc-state <args> --json --root <root>` in this process, one at a time (process.exitCode is per process). */
async function runJson(root: string, args: string[], positional: string[] = []): Promise<CallToolResult> {
  const job = queue.then(async () => {
    const saved = process.exitCode;
    process.exitCode = undefined;
    const { output, json, lines } = capture();
    try {
      const code = await runCommand(['node', 'orc-state', ...args, '--json', `--root=${root}`, ...(positional.length ? ['--', ...positional] : [])], output);
      let value: unknown = json.length ? json[json.length - 1] : undefined;
      if (value === undefined) {
        // errors are printed as one JSON line by the CLI's error reporter
        for (const line of lines.reverse()) {
          try {
            value = JSON.parse(line);
            break;
          } catch {
            /* not JSON */
          }
        }
      }
      const doc = value as { ok?: unknown; error?: { code?: string; message?: string; fix?: string | null } } | undefined;
      if (doc && doc.ok === false && doc.error && typeof doc.error.message === 'string') {
        const text = `${doc.error.code ?? 'ERROR'}: ${doc.error.message}${doc.error.fix ? `\nfix: ${doc.error.fix}` : ''}`;
        return { isError: true, content: [{ type: 'text', text }, { type: 'text', text: JSON.stringify(value) }] } satisfies CallToolResult;
      }
      if (value === undefined) {
        return { isError: true, content: [{ type: 'text', text: `orc-state ${args[0]} printed no JSON (exit ${code})${lines.length ? `: ${lines.join('\n')}` : ''}` }] } satisfies CallToolResult;
      }
      return { content: [{ type: 'text', text: JSON.stringify(value) }] } satisfies CallToolResult;
    } catch (error) {
      const message = error instanceof OrcError ? `${error.code}: ${error.message}${error.details.fix ? `\nfix: ${error.details.fix}` : ''}` : `internal error: ${error instanceof Error ? error.message : String(error)}`;
      return { isError: true, content: [{ type: 'text', text: message }] } satisfies CallToolResult;
    } finally {
      process.exitCode = saved;
    }
  });
  queue = job.catch(() => undefined);
  return job;
}

const opt = (name: string, value: string | number | undefined): string[] => (value === undefined ? [] : [`--${name}=${String(value)}`]);

const id = z.string().min(1).max(128).describe('an id: letters, digits, ".", "_" and "-"');

function taskResource(root: string, taskId: string): ReadResourceResult {
  const uri = `orc-state://task/${encodeURIComponent(taskId)}`;
  if (!TASK_ID_PATTERN.test(taskId)) throw new OrcError('USAGE', `"${taskId}" is not a task id`, { fix: 'task ids contain only letters, digits, ".", "_" and "-"' });
  const snapshot = readSnapshot(root);
  const state = snapshot?.tasks.find((t) => t.task_id === taskId) ?? null;
  const tasksDir = join(root, 'tasks');
  const workstreams = state ? [state.workstream_id] : existsSync(tasksDir) ? readdirSync(tasksDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : [];
  let file: string | null = null;
  let definition: unknown = null;
  for (const ws of workstreams) {
    const rel = `tasks/${ws}/${taskId}.json`;
    if (!existsSync(join(root, rel))) continue;
    file = rel;
    try {
      definition = JSON.parse(readFileSync(join(root, rel), 'utf8'));
    } catch (error) {
      throw new OrcError('INVALID_INPUT', `${rel} is not valid JSON: ${(error as Error).message}`, { location: { file: rel }, fix: 'run `orc-state validate` for the location' });
    }
    break;
  }
  if (!state && file === null) throw new OrcError('NOT_FOUND', `no task ${taskId} (neither in .state/current.json nor under tasks/)`, { fix: 'list the tasks with the status tool' });
  const worker = state?.assigned_worker ? snapshot?.workers.find((w) => w.worker_id === state.assigned_worker) : undefined;
  const body = { task_id: taskId, file, definition, state, lease: worker?.lease ?? null };
  return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(body) }] };
}

export function createServer(root: string): McpServer {
  const server = new McpServer({ name: 'orc-state', version: VERSION });

  server.registerTool('status', {
    title: 'State summary',
    description: 'Workstreams, task counts, workers and every task state (orc-state status --json).',
    inputSchema: { workstream: id.optional() },
    annotations: { readOnlyHint: true },
  }, async ({ workstream }) => runJson(root, ['status', ...opt('workstream', workstream)]));

  server.registerTool('ready', {
    title: 'Ready tasks',
    description: 'Tasks that can start now, least slack first, and why each other pending/queued task waits (orc-state ready --json --explain).',
    inputSchema: { workstream: id.optional(), explain: z.boolean().optional().describe('include the reasons of blocked tasks (default true)') },
    annotations: { readOnlyHint: true },
  }, async ({ workstream, explain }) => runJson(root, ['ready', ...opt('workstream', workstream), ...(explain === false ? [] : ['--explain'])]));

  server.registerTool('claim', {
    title: 'Claim a task',
    description: 'Register the worker if new and take the best ready task it can run under a lease, atomically (orc-state claim --json). task_id is null with a reason when nothing is claimable; keep the token for heartbeat and report.',
    inputSchema: {
      worker_id: id,
      capabilities: z.array(z.string().min(1)).optional().describe('capabilities of a new worker'),
      workstream: id.optional(),
      lease_seconds: z.number().int().min(1).optional().describe('lease length (default 300); renew with heartbeat'),
    },
  }, async ({ worker_id, capabilities, workstream, lease_seconds }) =>
    runJson(root, ['claim', `--worker=${worker_id}`, ...(capabilities ? [`--capabilities=${capabilities.join(',')}`] : []), ...opt('workstream', workstream), ...opt('lease', lease_seconds)]));

  server.registerTool('heartbeat', {
    title: 'Renew a lease',
    description: "Extend the claim's lease (orc-state heartbeat --json); refused when the token is stale or another worker's.",
    inputSchema: { worker_id: id, token: z.string().min(1), lease_seconds: z.number().int().min(1).optional() },
  }, async ({ worker_id, token, lease_seconds }) => runJson(root, ['heartbeat', `--worker=${worker_id}`, `--token=${token}`, ...opt('lease', lease_seconds)]));

  server.registerTool('report', {
    title: 'Report an attempt',
    description: 'Report the worker output contract (schemas/worker-output.v1.0.0.schema.json) of the claimed task under its lease (orc-state report --json): success → execution_completed + validation, failed → execution_failed, timeout → task_timeout.',
    inputSchema: {
      task_id: id,
      worker_id: id,
      token: z.string().min(1),
      output: z.record(z.string(), z.unknown()).describe('the worker output object (schema_version 1.0.0, task_id, worker_id, status, files_modified, diff_summary, validation_status, commit_message, error, metadata)'),
    },
  }, async ({ task_id, worker_id, token, output }) =>
    runJson(root, ['report', `--worker=${worker_id}`, `--token=${token}`, `--output-json=${JSON.stringify(output)}`], [task_id]));

  server.registerTool('why', {
    title: 'Explain a task',
    description: "A task's events, causes, attempts and a one-line explanation, from the log (orc-state why --json).",
    inputSchema: { task_id: id },
    annotations: { readOnlyHint: true },
  }, async ({ task_id }) => runJson(root, ['why'], [task_id]));

  server.registerTool('plan', {
    title: 'Execution plan',
    description: 'Stages, durations, critical path and resources per workstream (orc-state plan --json --no-write: derived files are not rewritten).',
    inputSchema: { workstream: id.optional(), max_parallel: z.number().int().min(1).optional() },
    annotations: { readOnlyHint: true },
  }, async ({ workstream, max_parallel }) => runJson(root, ['plan', '--no-write', ...opt('max-parallel', max_parallel)], workstream ? [workstream] : []));

  server.registerResource('snapshot', 'orc-state://snapshot', {
    title: 'Current state',
    description: '.state/current.json: every workstream, task and worker (with leases), and the seq it reflects.',
    mimeType: 'application/json',
  }, async (uri) => {
    const path = statePaths(root).current;
    if (!existsSync(path)) throw new OrcError('NOT_FOUND', `no .state/current.json in ${root}`, { fix: 'run `orc-state init` then `orc-state sync`' });
    return { contents: [{ uri: uri.href, mimeType: 'application/json', text: readFileSync(path, 'utf8') }] };
  });

  server.registerResource(
    'task',
    new ResourceTemplate('orc-state://task/{task_id}', {
      list: async () => ({
        resources: (readSnapshot(root)?.tasks ?? []).map((t) => ({ uri: `orc-state://task/${encodeURIComponent(t.task_id)}`, name: t.task_id, mimeType: 'application/json', description: `${t.workstream_id}: ${t.status}` })),
      }),
    }),
    { title: 'One task', description: "A task's definition file, runtime state and, while claimed, its worker's lease.", mimeType: 'application/json' },
    async (_uri, variables) => {
      const raw = variables['task_id'];
      return taskResource(root, decodeURIComponent(Array.isArray(raw) ? String(raw[0]) : String(raw)));
    },
  );
  return server;
}

export async function serveStdio(root: string): Promise<void> {
  const server = createServer(root);
  // Resolves once connected. The process then lives while stdin is open; when the client closes it,
  // the calls already received are answered and the process ends (nothing else keeps it alive).
  await server.connect(new StdioServerTransport());
}
