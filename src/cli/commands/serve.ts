/**
 * `orc-state serve`: the live dashboard and the HTTP API of one repository (read-only).
 *
 * Public API (stable): register(program, output).
 * Usage: orc-state serve [--port N] [--host H] [--allow-host NAME]... [--max-clients N] [--root DIR] [--json]
 * Prints the URL it serves (--json: one line {ok, url, host, port, root, api_version, pid}),
 * then serves until SIGINT/SIGTERM (exit 0). Default 127.0.0.1:4870; --port 0 picks a free port.
 * Exit: 0 stopped by a signal; 2 bad flags, port in use, no .state/ to serve.
 * Integration points: src/cli/program.ts; src/server/server.ts; docs/api/SERVE_API.md.
 * Dependencies: commander, ../../server/server.js (loaded in the action).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { OrcError } from '../../errors.js';
import { intFlag, rootOf, type EngineFlags } from '../support.js';
import type { Output } from '../output.js';

interface ServeFlags extends EngineFlags {
  port: string;
  host: string;
  allowHost: string[];
  maxClients: string;
}

export function register(program: Command, output: Output): void {
  program
    .command('serve')
    .description('serve a live dashboard, a JSON API, an event stream and /metrics for this repository (read-only; loopback by default)')
    .option('--port <n>', 'TCP port (0: pick a free one)', '4870')
    .option('--host <host>', 'address to bind (anything but loopback exposes the state to the network)', '127.0.0.1')
    .option('--allow-host <name>', 'another Host header name to accept (repeatable), e.g. this machine\'s name with --host 0.0.0.0', (v: string, acc: string[]) => [...acc, v], [])
    .option('--max-clients <n>', 'most event streams open at once', '16')
    .option('--root <dir>', 'repository root (holds tasks/ and .state/)', process.cwd())
    .option('--json', 'print {url, ...} as one JSON line')
    .action(async (flags: ServeFlags) => {
      const root = rootOf(flags);
      const port = intFlag('--port', flags.port, 0, 65535) as number;
      const maxClients = intFlag('--max-clients', flags.maxClients, 1, 10_000) as number;
      if (!existsSync(join(root, '.state')) && !existsSync(join(root, 'tasks'))) {
        throw new OrcError('NOT_FOUND', `nothing to serve in ${root}: no tasks/ and no .state/`, { fix: 'pass the repository root with --root, or run `orc-state init` then `orc-state sync`' });
      }
      const { startServer, isLoopback } = await import('../../server/server.js');
      const server = await startServer({ root, host: flags.host, port, allowHosts: flags.allowHost, maxClients });
      const stopped = new Promise<void>((done) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(done, done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      if (flags.json) {
        output.out(JSON.stringify({ ok: true, url: server.url, host: server.host, port: server.port, root, api_version: (await import('../../server/views.js')).API_VERSION, pid: process.pid }));
      } else {
        output.out(`${output.paint('bold', 'orc-state serve')} ${output.paint('cyan', server.url)} (${root}; read-only; Ctrl-C to stop)`);
        if (!isLoopback(flags.host)) output.err(output.paint('yellow', `warning: bound to ${flags.host}: anyone who can reach this address can read the state`));
      }
      await stopped;
    });
}
