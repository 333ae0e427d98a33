/**
 * SM-DEF-002 (MUST): the workstream machine in docs/state_machines/workstream_lifecycle.yaml; snapshot workstreams follow the Decision 7 derivation.
 * Checks: the repository's YAML parses and has exactly the catalog's states,
 * triggers, terminal states, required transitions, guards and severities;
 * it is the same definition the engine runs (no drift); the xstate machine
 * built from it agrees with it; docs/execution_model/STATE_MACHINE.md names
 * every state and trigger (warnings; EXEC-DOC-003 fails on them);
 * .state/current.json holds only known workstream states and satisfies the
 * machine's invariants. Fixable: a missing YAML file is written from the
 * package under --fix (an existing one is never overwritten).
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner; memoised loads
 * 'snapshot' (loadSnapshotFile) and 'tasks' (loadTasks).
 * Dependencies: ../../machines/conformance.js, ../../engine/snapshot.js, ../../repo/load-tasks.js.
 */
import { checkMachineRepo } from '../../machines/conformance.js';
import { machineInputs } from '../../machines/rule-inputs.js';
import type { Rule } from '../types.js';

export const rule: Rule = {
  id: 'SM-DEF-002',
  level: 'MUST',
  section: 'machines',
  documents: 'the lifecycle document docs/state_machines/workstream_lifecycle.yaml and its mentions in STATE_MACHINE.md',
  fixable: true,
  title: 'Workstream state machine',
  check(ctx) {
    return { findings: checkMachineRepo(ctx.root, 'workstream', 'SM-DEF-002', 'error', machineInputs(ctx)) };
  },
};
