/**
 * STATE-OBS-005 (SHOULD): the derived indices .state/by_workstream.json,
 * by_status.json and by_worker.json are present, valid (schemas/index) and
 * group exactly the task ids that a regeneration from current.json gives.
 * Freshness (source_last_seq/timestamp) is STATE-OBS-006's check.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner; memoised load 'snapshot'.
 * Dependencies: ../../derive/checks.js, ../../machines/rule-inputs.js.
 */
import { indexContentFindings } from '../../derive/checks.js';
import { snapshotRead } from '../../machines/rule-inputs.js';
import type { Rule } from '../types.js';

export const rule: Rule = {
  id: 'STATE-OBS-005',
  level: 'SHOULD',
  section: 'state',
  title: 'Derived indices group task ids and are derivable',
  check(ctx) {
    const snap = snapshotRead(ctx);
    if (!snap.snapshot) return { skip: 'no readable .state/current.json to derive indices from (STATE-OBS-001 reports it)' };
    return { findings: indexContentFindings(ctx.root, snap.snapshot, 'warning') };
  },
};
