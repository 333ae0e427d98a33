/**
 * `orc-state mcp`: a Model Context Protocol server over stdio (src/mcp/server.ts).
 *
 * Public API (stable): register(program, output).
 * Usage: orc-state mcp [--root DIR]. stdout carries only JSON-RPC; diagnostics go to stderr.
 * Exit: 0 when the client closes the connection; 2 usage.
 * Integration points: src/cli/program.ts.
 * Dependencies: commander, ../support.js, ../render/engine.js.
 */
import type { Command } from 'commander';
import { engineOptions, rootOf, type EngineFlags } from '../support.js';
import type { Output } from '../output.js';

export function register(program: Command, _output: Output): void {
  engineOptions(program.command('mcp').description('serve the orc-state tools (status, ready, claim, heartbeat, report, why, plan) and resources over MCP on stdio')).action(
    async (flags: EngineFlags) => {
      const { serveStdio } = await import('../../mcp/server.js');
      await serveStdio(rootOf(flags));
    },
  );
}
