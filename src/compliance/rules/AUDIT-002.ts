/**
 * AUDIT-002 (MUST): events are kept at least 90 days, the rotation policy is
 * documented, rotated logs stay queryable. Checks:
 * docs/operations/AUDIT_RETENTION.md exists, states a retention of at least
 * 90 days and has a section on rotation; every archive in .state/archive/
 * gunzips and parses, holds exactly the seq range its name says, and the
 * archives and the live log are contiguous in seq; when old archives were
 * pruned, a checkpoint stands in for them and it is older than 90 days (no
 * archive was deleted early).
 *
 * Public API (stable): rule.
 * The document check runs in the full gate profile only (src/compliance/profile.ts).
 * Integration points: compliance runner; its visitor of the shared pass over the log
 * (src/engine/event-pass.ts).
 * Dependencies: ../../engine/*, node:fs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding, OrcEvent } from '../../model.js';
import { MIN_RETENTION_DAYS } from '../../core/state-paths.js';
import { startingCheckpoint } from '../../engine/replay.js';
import { eventPass, wantEvents, type EventVisitor, type LogSummary } from '../../engine/event-pass.js';
import { scanMarkdown } from '../markdown.js';
import type { Rule } from '../types.js';
import { LOG_FILE, stateRel } from '../../core/state-paths.js';

const ID = 'AUDIT-002';
const DOC = 'docs/operations/AUDIT_RETENTION.md';

type Range = { first: number; last: number };

/** Seq range per file as read (repeated seqs were skipped and are reported by STATE-OBS-002), in the shared pass. */
function seqRanges(): EventVisitor<{ log: LogSummary; ranges: Map<string, Range> }> {
  const ranges = new Map<string, Range>();
  return {
    event(event: OrcEvent, file: string) {
      const r = ranges.get(file);
      if (!r) ranges.set(file, { first: event.seq, last: event.seq });
      else r.last = event.seq;
    },
    end: (log) => ({ log, ranges }),
  };
}

function checkDoc(root: string, findings: Finding[]): void {
  const abs = join(root, DOC);
  if (!existsSync(abs)) {
    findings.push({ requirement: ID, severity: 'error', file: DOC, line: 1, column: 1, message: `${DOC} is missing`, fix: `write ${DOC}: how long events are kept (at least ${MIN_RETENTION_DAYS} days), the rotation policy (orc-state log rotate / prune) and how archives are queried` });
    return;
  }
  const text = readFileSync(abs, 'utf8');
  const days = [...text.matchAll(/\b(\d+)\s*\**\s*(?:-\s*)?days?\b/gi)].map((m) => Number(m[1]));
  if (!/retention|retain|kept\b|keep\b/i.test(text) || !days.some((d) => d >= MIN_RETENTION_DAYS)) {
    findings.push({ requirement: ID, severity: 'error', file: DOC, line: 1, column: 1, message: `${DOC} does not state a retention of at least ${MIN_RETENTION_DAYS} days for events`, fix: `state it, e.g. "Events are kept at least ${MIN_RETENTION_DAYS} days"` });
  }
  // Any heading level (content, not form), but not the document's title.
  const scan = scanMarkdown(text);
  const title = scan.headings[0]?.level === 1 ? scan.headings[0] : undefined;
  const heading = scan.headings.findIndex((h) => h !== title && /rotat/i.test(h.text));
  if (heading < 0) {
    findings.push({ requirement: ID, severity: 'error', file: DOC, line: 1, column: 1, message: `${DOC} has no section on the rotation policy (a heading of any level naming rotation)`, fix: 'add a "## Rotation policy" section: when the live log is sealed (orc-state log rotate), archive naming, what prune may delete' });
  }
}

export const rule: Rule = {
  id: ID,
  level: 'MUST',
  section: 'audit',
  documents: `the retention document ${DOC}`,
  title: 'Events kept at least 90 days; rotation documented; archives queryable',
  prepare(ctx) {
    wantEvents(ctx, ID, seqRanges);
  },
  async check(ctx) {
    const findings: Finding[] = [];
    if (ctx.profile !== 'runtime') checkDoc(ctx.root, findings);
    const { log, ranges } = await eventPass(ctx, ID, seqRanges);
    const archives = log.sources.filter((s) => s.gzip);
    for (const p of log.problems) {
      if (archives.some((a) => a.file === p.file) && (p.kind === 'corrupt' || p.kind === 'gap')) {
        findings.push({ requirement: ID, severity: 'error', file: p.file, line: p.line, column: 1, message: `archive: ${p.message}`, fix: 'restore the archive from a backup; archives are written once by `orc-state log rotate` and never edited' });
      }
    }
    for (const a of archives) {
      const r = ranges.get(a.file);
      if (!r) {
        if (!log.problems.some((p) => p.file === a.file && p.kind === 'duplicate')) {
          findings.push({ requirement: ID, severity: 'error', file: a.file, line: 1, column: 1, message: `archive ${a.file} holds no readable event`, fix: 'restore it from a backup' });
        }
        continue;
      }
      if (r.first !== a.firstSeq || r.last !== a.lastSeq) {
        findings.push({ requirement: ID, severity: 'error', file: a.file, line: 1, column: 1, message: `archive ${a.file} is named for seq ${a.firstSeq}..${a.lastSeq} but holds seq ${r.first}..${r.last}`, fix: 'an archive must hold exactly the range in its name; restore it from a backup' });
      }
    }
    for (let i = 0; i + 1 < archives.length; i++) {
      const cur = archives[i];
      const next = archives[i + 1];
      if (cur && next && cur.lastSeq !== undefined && next.firstSeq !== undefined && next.firstSeq !== cur.lastSeq + 1) {
        findings.push({ requirement: ID, severity: next.firstSeq <= cur.lastSeq ? 'warning' : 'error', file: next.file, line: 1, column: 1, message: `archives are not contiguous: ${cur.file} ends at seq ${cur.lastSeq}, ${next.file} starts at ${next.firstSeq}`, fix: 'restore the missing archive (events between them are lost otherwise)' });
      }
    }
    const lastArchive = archives[archives.length - 1];
    const live = log.sources.find((s) => !s.gzip);
    const liveRange = live ? ranges.get(live.file) : undefined;
    if (lastArchive?.lastSeq !== undefined && liveRange && liveRange.first !== lastArchive.lastSeq + 1) {
      findings.push({ requirement: ID, severity: 'error', file: live?.file ?? stateRel(LOG_FILE), line: 1, column: 1, message: `the live log starts at seq ${liveRange.first} but the newest archive ends at ${lastArchive.lastSeq}`, fix: 'the seq must continue across rotation; restore the missing events' });
    }
    const firstEvent = log.first;
    if (firstEvent && firstEvent.event.seq > 1) {
      const firstSeq = firstEvent.event.seq;
      let checkpoint = null;
      try {
        checkpoint = startingCheckpoint(ctx.root);
      } catch {
        checkpoint = null;
      }
      if (!checkpoint || checkpoint.last_seq !== firstSeq - 1) {
        findings.push({ requirement: ID, severity: 'error', file: firstEvent.file, line: firstEvent.line, column: 1, message: `events before seq ${firstSeq} are gone and no .state/archive/checkpoint.${firstSeq - 1}.json stands in for them`, fix: 'archives may only be removed with `orc-state log prune`, which writes the checkpoint first; restore the deleted archives' });
      } else {
        const ageDays = (Date.now() - Date.parse(checkpoint.timestamp)) / 86_400_000;
        if (ageDays < MIN_RETENTION_DAYS) {
          findings.push({ requirement: ID, severity: 'error', file: `.state/archive/checkpoint.${firstSeq - 1}.json`, line: 1, column: 1, message: `events up to seq ${firstSeq - 1} (newest ${checkpoint.timestamp}, ${Math.floor(ageDays)} days old) were deleted before ${MIN_RETENTION_DAYS} days`, fix: `restore the archives from a backup; prune only with --older-than-days ${MIN_RETENTION_DAYS} or more` });
        }
      }
    }
    return { findings };
  },
};
