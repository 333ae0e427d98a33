/**
 * SCHEMA-VER-001 (MUST): every file the engine reads or writes carries
 * `schema_version` (semver) and `schema_url`, and the pair names a schema
 * orc-state knows: task files under tasks/, and under .state/ the snapshot
 * (current.json, checkpoints), DAG, execution plan, index and metrics files
 * and every event of the log (events may omit schema_url; when present it
 * must match). Fixable for task files (`--fix` adds the missing fields when
 * exactly one known task schema accepts the content; see ../fix/index.ts).
 *
 * Public API (stable): rule, checkSchemaPair(...), expectedKindFor(fileName).
 * Integration points: discovered by the compliance runner; shares
 * ctx.once('tasks'|'snapshot') with the TASK-DEF and STATE-OBS rules and the
 * pass over the event log (src/engine/event-pass.ts) with the STATE-OBS/AUDIT rules.
 * Dependencies: ../../repo/load-tasks.js, ../../engine/snapshot.js,
 * ../../engine/event-pass.js, ../../engine/rule-loaders.js (parsedDerivedFiles), ../../schema/registry.js, ../../io/located-json.js,
 * ../fix/index.js, node:fs, node:path.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Finding, OrcEvent } from '../../model.js';
import { loadTasks } from '../../repo/load-tasks.js';
import { loadSnapshotFile } from '../../engine/snapshot.js';
import { eventPass, wantEvents, type EventVisitor } from '../../engine/event-pass.js';
import { knownVersions, schemaId } from '../../schema/registry.js';
import { locateInText } from '../../io/located-json.js';
import { listTaskFiles } from '../../repo/task-files.js';
import { parsedDerivedFiles } from '../../engine/rule-loaders.js';
import type { Rule } from '../types.js';
import { stateDirOf, stateRel } from '../../core/state-paths.js';

const RID = 'SCHEMA-VER-001';
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
const URL_PATTERN = /^https:\/\/orc-state\.dev\/schemas\/([a-z][a-z0-9-]*)\/(\d+\.\d+\.\d+)\.json$/;

/** The schema kind a .state/ file must follow, by its name (undefined: any known kind). */
export function expectedKindFor(name: string): string | undefined {
  if (name === 'current.json' || /^checkpoint\.\d+\.json$/.test(name)) return 'snapshot';
  if (/^dag_.+\.json$/.test(name)) return 'dag';
  if (/^execution_plan_.+\.json$/.test(name)) return 'execution-plan';
  if (/^by_[a-z_]+\.json$/.test(name)) return 'index';
  if (name === 'metrics.json') return 'metrics';
  return undefined;
}

type Where = (key: 'schema_version' | 'schema_url' | null) => { line: number; column: number };

/** Findings for one file's (or event's) schema_version/schema_url pair. */
export function checkSchemaPair(
  file: string,
  value: Record<string, unknown>,
  expectedKind: string | undefined,
  where: Where,
  opts: { urlOptional?: boolean; what?: string; fixable?: boolean } = {},
): Finding[] {
  const out: Finding[] = [];
  const what = opts.what ?? 'the file';
  const f = (key: 'schema_version' | 'schema_url' | null, message: string, fix: string): Finding => {
    const at = where(key);
    return { requirement: RID, severity: 'error', file, line: at.line, column: at.column, message, fix };
  };
  const sv = value.schema_version;
  const url = value.schema_url;
  const kinds = expectedKind ? [expectedKind] : [];
  const latest = (kind: string) => knownVersions(kind).at(-1) ?? '1.0.0';
  const fixHint = opts.fixable ? ' (`orc-state validate --fix` adds it when the content matches exactly one known version)' : '';
  if (sv === undefined) {
    out.push(f(null, `${what} has no schema_version`, `add "schema_version": "${kinds[0] ? latest(kinds[0]) : 'x.y.z'}"${fixHint}`));
  } else if (typeof sv !== 'string' || !SEMVER.test(sv)) {
    out.push(f('schema_version', `schema_version ${JSON.stringify(sv)} is not a semantic version (MAJOR.MINOR.PATCH)`, `write it as a string like "${kinds[0] ? latest(kinds[0]) : '1.0.0'}"`));
  }
  if (url === undefined) {
    if (!opts.urlOptional) {
      const kind = expectedKind ?? 'KIND';
      const version = typeof sv === 'string' && SEMVER.test(sv) ? sv : latest(kind);
      out.push(f(null, `${what} has no schema_url`, `add "schema_url": "${schemaId(kind, version)}"${fixHint}`));
    }
  } else if (typeof url !== 'string') {
    out.push(f('schema_url', 'schema_url is not a string', 'write the $id of the schema the file follows'));
  } else {
    const m = URL_PATTERN.exec(url);
    if (!m) {
      out.push(f('schema_url', `schema_url ${JSON.stringify(url)} is not an orc-state schema id`, `use https://orc-state.dev/schemas/<kind>/<version>.json${expectedKind ? `, here ${schemaId(expectedKind, typeof sv === 'string' ? sv : latest(expectedKind))}` : ''}`));
    } else {
      const [, kind, version] = m as unknown as [string, string, string];
      if (expectedKind && kind !== expectedKind) {
        out.push(f('schema_url', `schema_url names the "${kind}" schema but ${what} is a ${expectedKind} file`, `use ${schemaId(expectedKind, typeof sv === 'string' ? sv : latest(expectedKind))}`));
      } else if (!knownVersions(kind).includes(version)) {
        const known = knownVersions(kind);
        out.push(f('schema_url', `schema_url names ${kind} schema ${version}, which orc-state does not know${known.length ? ` (known: ${known.join(', ')})` : ''}`, known.length ? `migrate the file to ${known.at(-1)} (orc-state migrate) or fix the URL` : 'fix the URL'));
      } else if (typeof sv === 'string' && sv !== version) {
        out.push(f('schema_url', `schema_url says version ${version} but schema_version is ${sv}`, `make them agree: ${schemaId(kind, sv)} if the content follows ${sv}`));
      }
    }
  }
  if (typeof sv === 'string' && SEMVER.test(sv) && url === undefined && opts.urlOptional && expectedKind && !knownVersions(expectedKind).includes(sv)) {
    out.push(f('schema_version', `schema_version ${sv} is not a known ${expectedKind} schema version (known: ${knownVersions(expectedKind).join(', ')})`, 'the log format never changes without a migration: migrate the log or use a matching orc-state'));
  }
  return out;
}

function relPath(root: string, abs: string): string {
  return relative(root, abs).split(sep).join('/');
}

function textWhere(text: string): Where {
  return (key) => (key ? locateInText(text, [key]) : { line: 1, column: 1 });
}

/** Events whose schema pair is not a known one: their problems, with the event's index in the log. */
interface EventPairs {
  count: number;
  groups: Array<{ index: number; problems: Finding[] }>;
}

function eventPairs(): EventVisitor<EventPairs> {
  const eventUrls = new Map(knownVersions('event').map((v) => [v, schemaId('event', v)]));
  const groups: EventPairs['groups'] = [];
  let index = 0;
  let collected = 0;
  return {
    event(event: OrcEvent, file: string, line: number) {
      const i = index++;
      // Past 5,000 findings the rule's loop has stopped whatever came before it.
      if (collected > 5000) return;
      const known = eventUrls.get(event.schema_version);
      const url = (event as unknown as { schema_url?: unknown }).schema_url;
      if (known !== undefined && (url === undefined || url === known)) return;
      const where: Where = () => ({ line, column: 1 });
      const problems = checkSchemaPair(file, event as unknown as Record<string, unknown>, 'event', where, { urlOptional: true, what: `event seq ${event.seq}` });
      if (problems.length === 0) return;
      groups.push({ index: i, problems });
      collected += problems.length;
    },
    end: (log) => ({ count: log.count, groups }),
  };
}

export const rule: Rule = {
  id: RID,
  level: 'MUST',
  section: 'state',
  title: 'Engine files carry schema_version and schema_url',
  fixable: true,
  prepare(ctx) {
    wantEvents(ctx, RID, eventPairs);
  },
  async check(ctx) {
    const findings: Finding[] = [];
    let inspected = 0;

    // Task files: loaded ones from the shared load; files the loader refused are read here.
    const set = ctx.once('tasks', () => loadTasks(ctx.root, { texts: 'on-demand' }));
    const loaded = new Set<string>();
    const taskUrls = new Map(knownVersions('task').map((v) => [v, schemaId('task', v)]));
    for (const lt of set.tasks.values()) {
      loaded.add(lt.file);
      inspected++;
      // Fast path: a file loaded at its own version whose pair is exactly a known schema.
      if (lt.sourceVersion === lt.task.schema_version && taskUrls.get(lt.task.schema_version) === lt.task.schema_url) continue;
      const original =
        lt.sourceVersion === lt.task.schema_version
          ? (lt.task as unknown as Record<string, unknown>)
          : (JSON.parse(lt.text.replace(/^\uFEFF/, '')) as Record<string, unknown>);
      findings.push(...checkSchemaPair(lt.file, original, 'task', (key) => (key ? lt.locate([key]) : lt.locate([])), { what: `task file ${lt.file}`, fixable: true }));
    }
    // Only when the loader refused some files (it read more than it loaded) look for them.
    const refused = set.filesRead > set.tasks.size ? listTaskFiles(ctx.root) : [];
    for (const abs of refused) {
      const file = relPath(ctx.root, abs);
      if (loaded.has(file)) continue;
      let text: string;
      let value: unknown;
      try {
        text = readFileSync(abs, 'utf8').replace(/^\uFEFF/, '');
        value = JSON.parse(text);
      } catch {
        continue; // unreadable or malformed: TASK-DEF-002 reports it with its location
      }
      if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
      inspected++;
      findings.push(...checkSchemaPair(file, value as Record<string, unknown>, 'task', textWhere(text), { what: `task file ${file}`, fixable: true }));
    }

    // .state/: the snapshot from the shared load, DAG/plan files the graph rules parsed already, the others read here.
    const stateDir = stateDirOf(ctx.root);
    // Under --fix DAG-VIEW-001 may have rewritten them since they were parsed: read them again then.
    const derived = ctx.fix ? new Map<string, unknown>() : parsedDerivedFiles(ctx);
    let names: string[] = [];
    try {
      names = readdirSync(stateDir).sort();
    } catch {
      names = [];
    }
    for (const name of names) {
      if (!name.endsWith('.json')) continue; // temp files (*.tmp, *.json.<digits>) are STATE-OBS-003's
      const file = stateRel(name);
      if (name === 'current.json') {
        const snap = ctx.once('snapshot', () => loadSnapshotFile(ctx.root));
        if (!snap.snapshot || snap.text === null) continue; // unparseable: STATE-OBS-001 reports it
        inspected++;
        findings.push(...checkSchemaPair(file, snap.snapshot as unknown as Record<string, unknown>, 'snapshot', textWhere(snap.text), { what: file }));
        continue;
      }
      let where: Where;
      let value: unknown;
      if (derived.has(file)) {
        // Parsed already by the DAG/plan rules (JSON.parse of the same text): the text is read only to locate a finding.
        value = derived.get(file);
        let text: string | undefined;
        where = (key) => {
          text ??= readFileSync(join(stateDir, name), 'utf8');
          return textWhere(text)(key);
        };
      } else {
        let text: string;
        try {
          text = readFileSync(join(stateDir, name), 'utf8');
          value = JSON.parse(text);
        } catch {
          continue; // not a regular readable JSON file: the owning rule reports it
        }
        where = textWhere(text);
      }
      if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
      inspected++;
      findings.push(...checkSchemaPair(file, value as Record<string, unknown>, expectedKindFor(name), where, { what: file }));
    }

    // The event log (archives and live log), read in the pass shared with the STATE-OBS/AUDIT rules.
    const events = await eventPass(ctx, RID, eventPairs);
    inspected += events.count;
    // As one loop over the events that stops after the event taking the findings over 5,000.
    if (findings.length > 5000) {
      if (events.groups[0]?.index === 0) findings.push(...events.groups[0].problems);
    } else {
      for (const g of events.groups) {
        findings.push(...g.problems);
        if (findings.length > 5000) break;
      }
    }

    if (inspected === 0) return { skip: 'no task files, no .state/ files and no events to inspect' };
    return { findings };
  },
};
