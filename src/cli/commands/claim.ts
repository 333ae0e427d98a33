/**
 * `orc-state claim` and `orc-state heartbeat`: take the best ready task under a
 * lease in one atomic commit, and keep the lease alive.
 *
 * Public API (stable): register(program, output), registerHeartbeat(program, output).
 * Usage: orc-state claim --worker W [--capabilities a,b] [--workstream WS] [--lease SECONDS] [--pid N] [--json]
 *        orc-state heartbeat --worker W --token T [--lease SECONDS] [--json]
 * claim --json prints one object: top-level task_id (null when nothing is claimable) and
 * token, the lease, the task definition and file, the context files (selectContext),
 * reason { code, message } when nothing is claimable, and the committed events.
 * Exit: 0 claimed / renewed; 1 nothing claimable (reason given) or a refused token;
 * 2 usage; 3 lock timeout.
 * Integration points: src/cli/program.ts; src/engine/claim.ts does the work (the MCP tools call these commands).
 * Dependencies: commander, ../support.js, ../render/engine.js, ../../errors.js.
 */
import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { engineOptions, intFlag, lockTimeoutOf, rootOf, type EngineFlags } from '../support.js';
import { printAcknowledged } from '../render/engine.js';
import type { OrcEvent } from '../../model.js';
import type { Output } from '../output.js';

interface ClaimFlags extends EngineFlags {
  worker: string;
  capabilities?: string;
  workstream?: string;
  lease?: string;
  pid?: string;
}

interface HeartbeatFlags extends EngineFlags {
  worker: string;
  token: string;
  lease?: string;
}

async function printExpired(output: Output, expired: OrcEvent[]): Promise<void> {
  const { expiryMessages } = await import('../../engine/leases.js');
  for (const message of expiryMessages(expired)) output.err(`${output.paint('yellow', 'expired')} ${message}`);
}

export function register(program: Command, output: Output): void {
  engineOptions(
    program
      .command('claim')
      .description('register the worker if new and take the best ready task it can run under a lease (one atomic commit)')
      .requiredOption('--worker <id>', 'the claiming worker')
      .option('--capabilities <list>', 'comma-separated capabilities of a new worker')
      .option('--workstream <id>', 'only claim from this workstream')
      .option('--lease <seconds>', 'lease length; renew it with `orc-state heartbeat` (default 300)')
      .option('--pid <n>', 'the agent process recorded on the lease (default: the parent of this process)'),
  ).action(async (flags: ClaimFlags) => {
    const { claimTask } = await import('../../engine/claim.js');
    const capabilities = flags.capabilities === undefined ? undefined : flags.capabilities.split(',').map((c) => c.trim()).filter(Boolean);
    const lease = intFlag('--lease', flags.lease, 1);
    const pid = intFlag('--pid', flags.pid, 1);
    const r = await claimTask(rootOf(flags), {
      worker_id: flags.worker,
      lockTimeoutMs: lockTimeoutOf(flags),
      ...(capabilities !== undefined ? { capabilities } : {}),
      ...(flags.workstream !== undefined ? { workstream: flags.workstream } : {}),
      ...(lease !== undefined ? { lease_seconds: lease } : {}),
      ...(pid !== undefined ? { pid } : {}),
    });
    if (!r.ok) process.exitCode = EXIT.findings;
    if (flags.json) {
      output.json(r);
      return;
    }
    await printExpired(output, r.expired);
    if (!r.ok || !r.task || !r.lease) {
      output.out(`${output.paint('yellow', 'nothing claimable')} for worker ${r.worker_id} (${r.reason?.code ?? 'unknown'}): ${r.reason?.message ?? ''}`);
      return;
    }
    output.out(`${output.paint('green', 'claimed')} ${output.paint('bold', r.task.task_id)} (${r.task.workstream_id}) for worker ${r.worker_id}: ${r.task.name}`);
    output.out(`  token   ${r.lease.token}`);
    output.out(`  lease   until ${r.lease.expires_at} (${r.lease.seconds} s); renew: orc-state heartbeat --worker ${r.worker_id} --token ${r.lease.token}`);
    output.out(`  file    ${r.file ?? '?'}`);
    output.out(`  command ${r.task.execution.command}`);
    if (r.context) {
      output.out(`  context ${r.context.files.length ? r.context.files.join(', ') : '(no files)'} (~${r.context.estimated_tokens}/${r.context.max_context_tokens} tokens)`);
      for (const p of r.context.problems) output.out(`  ${output.paint('red', 'problem')} ${p.message}`);
    }
    output.out(`  report  orc-state task ${r.task.task_id} execution_completed|execution_failed --worker ${r.worker_id} --token ${r.lease.token} (or orc-state report)`);
  });
}

export function registerHeartbeat(program: Command, output: Output): void {
  engineOptions(
    program
      .command('heartbeat')
      .description("extend a claim's lease (refused when the token is stale or another worker's)")
      .requiredOption('--worker <id>', 'the worker holding the lease')
      .requiredOption('--token <token>', 'the lease token `orc-state claim` returned')
      .option('--lease <seconds>', 'new lease length from now (default: the claimed length)'),
  ).action(async (flags: HeartbeatFlags) => {
    const { renewLease } = await import('../../engine/claim.js');
    const lease = intFlag('--lease', flags.lease, 1);
    const r = await renewLease(rootOf(flags), { worker_id: flags.worker, token: flags.token, lockTimeoutMs: lockTimeoutOf(flags), ...(lease !== undefined ? { lease_seconds: lease } : {}) });
    if (flags.json) {
      output.json(r);
      return;
    }
    await printExpired(output, r.expired);
    printAcknowledged(output, r.events);
    output.out(`lease ${r.token} of worker ${r.worker_id} on task ${r.task_id} now ends at ${r.lease.expires_at}`);
  });
}
