/**
 * OBS-001 (MUST): .state/metrics.json is present, validates against
 * schemas/metrics (workstreams, tasks, workers, errors by kind), was computed
 * from the current snapshot (source_last_seq/timestamp), and its counts,
 * average duration and utilisation agree with current.json.
 * (The 60-second refresh while an engine runs is the engine's timer; a static
 * check sees its result as freshness.)
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner; memoised load 'snapshot'.
 * Dependencies: ../../derive/checks.js, ../../machines/rule-inputs.js.
 */
import { metricsFindings } from '../../derive/checks.js';
import { snapshotRead } from '../../machines/rule-inputs.js';
import type { Rule } from '../types.js';

export const rule: Rule = {
  id: 'OBS-001',
  level: 'MUST',
  section: 'metrics',
  title: 'metrics.json is present, valid and fresh',
  check(ctx) {
    const snap = snapshotRead(ctx);
    if (!snap.snapshot) return { skip: 'no readable .state/current.json, so no engine state to measure (STATE-OBS-001 reports it)' };
    return { findings: metricsFindings(ctx.root, snap.snapshot) };
  },
};
