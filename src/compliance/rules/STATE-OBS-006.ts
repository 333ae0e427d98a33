/**
 * STATE-OBS-006 (MUST): each index records the snapshot last_seq/timestamp it
 * was built from; an index whose source differs from current.json is stale
 * and reported. Fixable: under --fix the indices are regenerated from
 * current.json (durable atomic writes) and each repair is reported as a notice.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner; memoised load 'snapshot'.
 * Dependencies: ../../derive/checks.js, ../../derive/indices.js (writeIndices), ../../machines/rule-inputs.js.
 */
import { join } from 'node:path';
import { indexFreshness } from '../../derive/checks.js';
import { indexFileName, writeIndices } from '../../derive/indices.js';
import { snapshotRead } from '../../machines/rule-inputs.js';
import type { Rule } from '../types.js';
import { stateDirOf, stateRel } from '../../core/state-paths.js';

export const rule: Rule = {
  id: 'STATE-OBS-006',
  level: 'MUST',
  section: 'state',
  title: 'Indices record their source and are regenerated when stale',
  fixable: true,
  async check(ctx) {
    const snap = snapshotRead(ctx);
    if (!snap.snapshot) return { skip: 'no readable .state/current.json to compare indices with (STATE-OBS-001 reports it)' };
    const result = indexFreshness(ctx.root, snap.snapshot);
    if (result.present.length === 0) return { skip: 'no index files in .state/ (STATE-OBS-005 reports them missing)' };
    if (!ctx.fix || result.stale.length === 0) return { findings: result.findings };
    await writeIndices(stateDirOf(ctx.root), snap.snapshot);
    return {
      findings: result.stale.map((name) => ({
        requirement: 'STATE-OBS-006',
        severity: 'notice' as const,
        file: stateRel(indexFileName(name)),
        line: 1,
        column: 1,
        message: `regenerated from current.json (last_seq ${snap.snapshot?.last_seq})`,
        fix: 'none needed',
      })),
    };
  },
};
