/**
 * AIDER-INT-001 (MUST): Aider is one worker implementation behind the generic
 * worker interface. What can be checked without running aider:
 *  - the aider adapter is a Worker (id, type, capabilities, canRun, run);
 *  - every `aider` task declares a capability that an aider worker provides
 *    (registry entry with Provider `aider`, or id `aider` / `aider.*` when no
 *    registry lists it);
 *  - every `aider` task's execution.command starts with the aider executable
 *    (the adapter runs it directly, no shell);
 *  - its estimated_duration_seconds (when given) fits within timeout_seconds,
 *    else every attempt would end as a timeout (the adapter kills the process
 *    group at timeout_seconds; retries up to max_retries are the engine's).
 *
 * Public API (stable): rule, isAiderCapability(id, registry).
 * Integration points: discovered by the compliance runner; shares
 * ctx.once('tasks') and ctx.once('capabilities').
 * Dependencies: ../../repo/load-tasks.js, ../../registry/index.js, ../../runner/aider.js, ../types.js.
 */
import { basename } from 'node:path';
import type { Finding } from '../../model.js';
import { loadCapabilities, type CapabilityRegistry } from '../../registry/index.js';
import { loadTasks } from '../../repo/load-tasks.js';
import { AiderWorker, splitCommandLine } from '../../runner/aider.js';
import type { Worker } from '../../runner/types.js';
import type { Rule } from '../types.js';

const RID = 'AIDER-INT-001';

export function isAiderCapability(id: string, registry: CapabilityRegistry): boolean {
  const cap = registry.capabilities.get(id);
  if (cap) return cap.Provider.toLowerCase() === 'aider';
  return id === 'aider' || id.startsWith('aider.');
}

function isWorker(value: unknown): value is Worker {
  const w = value as Worker;
  return Boolean(w) && typeof w.id === 'string' && typeof w.type === 'string' && Array.isArray(w.capabilities) && typeof w.canRun === 'function' && typeof w.run === 'function';
}

export const rule: Rule = {
  id: RID,
  level: 'MUST',
  section: 'machines',
  title: 'Aider is one worker behind a generic worker interface',
  check(ctx) {
    const set = ctx.once('tasks', () => loadTasks(ctx.root, { texts: 'on-demand' }));
    const aiderTasks = [...set.tasks.values()].filter((t) => t.task.type === 'aider');
    if (aiderTasks.length === 0) return { skip: 'no task of type "aider" to check' };
    const caps = ctx.once('capabilities', () => loadCapabilities(ctx.root));
    const findings: Finding[] = [];
    const at = (lt: (typeof aiderTasks)[number], path: Array<string | number>, message: string, fix: string): Finding => {
      const loc = lt.locate(path);
      return { requirement: RID, severity: 'error', file: lt.file, line: loc.line, column: loc.column, message, fix };
    };
    if (!isWorker(new AiderWorker('aider-int-001-probe'))) {
      findings.push({ requirement: RID, severity: 'error', file: 'src/runner/aider.ts', line: 1, column: 1, message: 'the aider adapter does not implement the Worker interface', fix: 'implement id, type, capabilities, canRun and run' });
    }
    for (const lt of aiderTasks) {
      const t = lt.task;
      const required = t.worker_requirements?.capabilities ?? [];
      const aiderCaps = required.filter((c) => isAiderCapability(c, caps));
      if (aiderCaps.length === 0) {
        findings.push(
          at(
            lt,
            ['worker_requirements', 'capabilities'],
            `aider task ${t.task_id} requires no aider capability (${required.length ? required.join(', ') : 'none'}), so no aider worker would be assigned to it`,
            `add an aider capability to worker_requirements.capabilities, e.g. "${[...caps.capabilities.values()].find((c) => c.Provider.toLowerCase() === 'aider' && c.Stability !== 'deprecated')?.CapabilityId ?? 'aider'}"`,
          ),
        );
      }
      const words = splitCommandLine(t.execution?.command ?? '');
      const exe = words[0] ?? '';
      if (!/^aider(?:\.exe)?$/i.test(basename(exe))) {
        findings.push(
          at(
            lt,
            ['execution', 'command'],
            `aider task ${t.task_id}: execution.command ${exe ? `starts with "${exe}"` : 'is empty'}; the aider adapter runs the command's first word as the aider executable`,
            'start the command with aider (e.g. "aider --yes --message \'…\'"), or change the task type',
          ),
        );
      }
      const estimate = t.execution?.estimated_duration_seconds;
      if (typeof estimate === 'number' && estimate > t.execution.timeout_seconds) {
        findings.push(
          at(
            lt,
            ['execution', 'estimated_duration_seconds'],
            `aider task ${t.task_id} is expected to take ${estimate} s but its timeout_seconds is ${t.execution.timeout_seconds}: every attempt would be killed as a timeout`,
            `raise execution.timeout_seconds above ${estimate}, or lower the estimate`,
          ),
        );
      }
    }
    return { findings };
  },
};
