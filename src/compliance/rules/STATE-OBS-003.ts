/**
 * STATE-OBS-003 (MUST): atomic update order (snapshot via current.json.tmp,
 * rename, then append). Checks: no leftover temp files in .state/ (a stale
 * `*.tmp` or write-file-atomic `*.json.<digits>` is an interrupted write);
 * the snapshot's last_seq equals the log's last seq — one commit ahead with
 * the missing events recorded in the snapshot is reported as a warning
 * (Decision 4: the next writer or doctor appends them), anything else is an
 * error. Fixable: `--fix` runs `orc-state doctor --repair` and reports each repair.
 *
 * Public API (stable): rule.
 * Integration points: compliance runner; memoised load 'snapshot'; the log's summary from the
 * shared pass over it (src/engine/event-pass.ts).
 * Dependencies: ../../engine/*, ../../io/atomic-write.js.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from '../../model.js';
import { isTempFileName } from '../../io/atomic-write.js';
import { rel, statePaths } from '../../engine/paths.js';
import { snapshotOf } from '../../engine/rule-loaders.js';
import { logSummary, wantLogSummary } from '../../engine/event-pass.js';
import type { Rule } from '../types.js';
import { STATE_DIR } from '../../core/state-paths.js';

const ID = 'STATE-OBS-003';

export const rule: Rule = {
  id: ID,
  level: 'MUST',
  section: 'state',
  title: 'Snapshot written atomically before the event is appended',
  fixable: true,
  prepare(ctx) {
    wantLogSummary(ctx);
  },
  async check(ctx) {
    const paths = statePaths(ctx.root);
    if (!existsSync(paths.stateDir)) return { skip: 'no .state/ directory' };
    const findings: Finding[] = [];
    for (const dir of [paths.stateDir, paths.archiveDir]) {
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        if (!isTempFileName(name)) continue;
        const file = rel(ctx.root, join(dir, name));
        findings.push({ requirement: ID, severity: 'error', file, line: 1, column: 1, message: `leftover temp file ${file}: a write was interrupted (the file it replaces is intact)`, fix: 'run `orc-state doctor --repair` (or `orc-state validate --fix`) to remove it' });
      }
    }
    const snap = snapshotOf(ctx);
    const log = await logSummary(ctx);
    const s = snap.snapshot;
    if (s) {
      const last = log.last?.event.seq ?? 0;
      if (s.last_seq > last) {
        const covered = (s.last_events ?? []).filter((e) => e.seq > last).length === s.last_seq - last;
        findings.push({
          requirement: ID,
          severity: covered ? 'warning' : 'error',
          file: snap.file,
          line: 1,
          column: 1,
          message: covered
            ? `current.json is at seq ${s.last_seq}, the log at ${last}: a commit was interrupted after the rename; the snapshot records the missing event(s)`
            : `current.json is at seq ${s.last_seq} but the log ends at ${last} and the snapshot does not record the missing events`,
          fix: 'run `orc-state doctor --repair` (or any writing command) to append the recorded events',
        });
      } else if (s.last_seq < last) {
        findings.push({ requirement: ID, severity: 'error', file: snap.file, line: 1, column: 1, message: `current.json is at seq ${s.last_seq} but the log already ends at seq ${last}: the snapshot is behind`, fix: 'run `orc-state doctor --repair` to rebuild current.json from the log' });
      }
    } else if (!snap.exists && log.count === 0 && findings.length === 0) {
      return { skip: 'no snapshot and no events' };
    }
    if (ctx.fix && findings.some((f) => f.severity !== 'notice')) {
      // doctor (and the commit path behind it) is imported only under --fix.
      const { doctor } = await import('../../engine/doctor.js');
      const report = await doctor(ctx.root, { repair: true });
      const notices: Finding[] = report.repaired.map((m) => ({ requirement: ID, severity: 'notice', file: STATE_DIR, line: 1, column: 1, message: `repaired: ${m}`, fix: 'none needed' }));
      const left: Finding[] = report.remaining
        .filter((i) => ['stale_temp', 'snapshot_ahead', 'snapshot_behind', 'torn_tail'].includes(i.check))
        .map((i) => ({ requirement: ID, severity: 'error', file: i.file, line: i.line ?? 1, column: 1, message: i.message, fix: i.fix }));
      return { findings: [...notices, ...left] };
    }
    return { findings };
  },
};
