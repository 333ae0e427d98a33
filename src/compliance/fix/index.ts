/**
 * The generic `--fix` repairs the gate owns, applied to task files with
 * minimal text edits (nothing else in the file changes, nothing is lost):
 *  - TASK-DEF-002: make every task's `blocks` the exact inverse of the
 *    `dependencies` that name it (existing correct entries keep their order,
 *    missing ones are appended sorted, stale ones removed);
 *  - SCHEMA-VER-001 (or TASK-DEF-002, under which the task loader reports a
 *    missing schema_version): add a missing `schema_version`/`schema_url` when the
 *    file's content validates against exactly that task schema version
 *    (never guessed: a file matching no known version is left for the rule to report).
 *
 * Edits go through the project's text-preserving JSON editor
 * (src/migrate/json-edit.ts, shared with `migrate`): key order, indentation,
 * newline style, BOM and final newline are kept; a multi-line `blocks` array
 * stays multi-line. Files are replaced durably (temp + fsync + rename + dir
 * fsync) with their permission bits kept.
 *
 * Public API (stable): runGenericFixes(root, selectedIds) → Map<requirement id, repairs>,
 * fixBlocksInverse(files), fixSchemaFields(file), TaskFileForFix.
 * Integration points: the runner calls runGenericFixes before the rules when
 * `--fix` is given; repairs are Findings with severity 'notice'.
 * Rule-specific repairs (stale indices, DAG and plan files) are done by the
 * owning rules under ctx.fix. The task files are listed by ../../repo/task-files.js.
 * Dependencies: node:fs, node:path, ../../migrate/json-edit.js, ../../io/atomic-write.js,
 * ../../schema/registry.js, ../../model.js.
 */
import { readFileSync } from 'node:fs';
import { relative, sep } from 'node:path';
import type { Finding } from '../../model.js';
import { knownVersions, schemaId, validate } from '../../schema/registry.js';
import { applyJsonEdits, locateValue } from '../../migrate/json-edit.js';
import { listTaskFiles } from '../../repo/task-files.js';
import { writeFileDurableSync } from '../../io/atomic-write.js';

export interface TaskFileForFix {
  abs: string;
  /** Repo-relative, '/'. */
  file: string;
  /** The file's text as read (BOM included). */
  raw: string;
  /** Its parsed content (always a JSON object). */
  value: Record<string, unknown>;
}

function readForFix(root: string, abs: string): TaskFileForFix | undefined {
  let raw: string;
  try {
    raw = readFileSync(abs, 'utf8');
  } catch {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw);
  } catch {
    return undefined; // not JSON: the loader reports it, nothing to repair by text
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return { abs, file: relative(root, abs).split(sep).join('/'), raw, value: value as Record<string, unknown> };
}

export function runGenericFixes(root: string, selected: ReadonlySet<string>): Map<string, Finding[]> {
  const out = new Map<string, Finding[]>();
  const wantBlocks = selected.has('TASK-DEF-002');
  // The task loader reports a missing schema_version under TASK-DEF-002, so either id brings the repair.
  const schemaOwner = selected.has('SCHEMA-VER-001') ? 'SCHEMA-VER-001' : wantBlocks ? 'TASK-DEF-002' : undefined;
  const wantSchema = schemaOwner !== undefined;
  if (!wantBlocks && !wantSchema) return out;
  let files = listTaskFiles(root)
    .map((abs) => readForFix(root, abs))
    .filter((f): f is TaskFileForFix => f !== undefined);
  if (wantSchema) {
    const repairs: Finding[] = [];
    files = files.map((f) => {
      const result = fixSchemaFields(f);
      if (!result) return f;
      writeFileDurableSync(f.abs, result.text, { keepMode: true });
      repairs.push({ ...result.repair, requirement: schemaOwner! });
      return readForFix(root, f.abs) ?? f;
    });
    if (repairs.length) out.set(schemaOwner!, repairs);
  }
  if (wantBlocks) {
    const repairs: Finding[] = [...(out.get('TASK-DEF-002') ?? [])];
    for (const edit of fixBlocksInverse(files)) {
      writeFileDurableSync(edit.file.abs, edit.text, { keepMode: true });
      repairs.push(edit.repair);
    }
    if (repairs.length) out.set('TASK-DEF-002', repairs);
  }
  return out;
}

function stringArray(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

/** Edits that make `blocks` the inverse of `dependencies` across the given files. */
export function fixBlocksInverse(files: readonly TaskFileForFix[]): Array<{ file: TaskFileForFix; text: string; repair: Finding }> {
  const byId = new Map<string, TaskFileForFix[]>();
  for (const f of files) {
    const id = f.value.task_id;
    if (typeof id === 'string') byId.set(id, [...(byId.get(id) ?? []), f]);
  }
  const expected = new Map<string, Set<string>>();
  for (const [id] of byId) expected.set(id, new Set());
  for (const f of files) {
    const id = f.value.task_id;
    const deps = stringArray(f.value.dependencies);
    if (typeof id !== 'string' || !deps) continue;
    for (const dep of deps) expected.get(dep)?.add(id);
  }
  const edits: Array<{ file: TaskFileForFix; text: string; repair: Finding }> = [];
  for (const [id, owners] of byId) {
    if (owners.length !== 1) continue; // duplicate ids: ambiguous, TASK-DEF-001 reports it
    const f = owners[0]!;
    if (f.value.blocks !== undefined && !stringArray(f.value.blocks)) continue; // wrong type: schema error, not ours to guess
    const current = stringArray(f.value.blocks) ?? [];
    const want = expected.get(id)!;
    const kept = current.filter((b, i) => want.has(b) && current.indexOf(b) === i);
    const added = [...want].filter((b) => !kept.includes(b)).sort();
    const next = [...kept, ...added];
    if (f.value.blocks !== undefined && next.length === current.length && next.every((b, i) => b === current[i])) continue;
    const member = f.value.blocks !== undefined ? locateValue(f.raw, ['blocks']) : undefined;
    let text: string;
    let at: { line: number; column: number };
    if (member) {
      text = applyJsonEdits(f.raw, [{ op: 'set', path: ['blocks'], value: next, keepLayout: true }]);
      at = member.start;
    } else {
      const anchor = f.value.dependencies !== undefined ? locateValue(f.raw, ['dependencies']) : undefined;
      text = applyJsonEdits(f.raw, [{ op: 'set', path: ['blocks'], value: next, after: anchor ? ['dependencies'] : [] }]);
      at = anchor ? anchor.end : { line: 1, column: 1 };
    }
    const removed = current.filter((b) => !want.has(b));
    const what = [added.length ? `added ${added.join(', ')}` : '', removed.length ? `removed ${removed.join(', ')}` : '', member ? '' : 'created the field']
      .filter(Boolean)
      .join('; ');
    edits.push({
      file: f,
      text,
      repair: {
        requirement: 'TASK-DEF-002',
        severity: 'notice',
        file: f.file,
        line: at.line,
        column: at.column,
        message: `fixed: blocks of ${id} is now the inverse of the dependencies naming it (${what || 'reordered'})`,
        fix: 'nothing left to do; review the change with git diff',
      },
    });
  }
  return edits;
}

/** The text with missing schema_version/schema_url added, when the version is certain. */
export function fixSchemaFields(f: TaskFileForFix): { text: string; repair: Finding } | undefined {
  const hasVersion = typeof f.value.schema_version === 'string';
  const hasUrl = f.value.schema_url !== undefined;
  if (hasVersion && hasUrl) return undefined;
  const versions = knownVersions('task');
  if (versions.length === 0) return undefined;
  let version: string | undefined;
  if (hasVersion) {
    version = versions.includes(f.value.schema_version as string) ? (f.value.schema_version as string) : undefined;
  } else {
    // Certain only when exactly one known version accepts the content with the fields added (or one major's minors do).
    const matches = versions.filter((v) => {
      const candidate = { ...f.value, schema_version: v, schema_url: hasUrl ? f.value.schema_url : schemaId('task', v) };
      try {
        return validate('task', v, candidate).valid;
      } catch {
        return false;
      }
    });
    // Minor versions of one major accept the same older content (2.1.0 only adds optional fields):
    // the editor hint `$schema: …/task.v<X>.schema.json` names the version, else the oldest of them does.
    const hint = typeof f.value.$schema === 'string' ? /task\.v(\d+\.\d+\.\d+)\.schema\.json$/.exec(f.value.$schema)?.[1] : undefined;
    const sameMajor = matches.length > 1 && matches.every((m) => m.split('.')[0] === (matches[0] as string).split('.')[0]);
    version = matches.length === 1 ? matches[0] : hint && matches.includes(hint) ? hint : sameMajor ? matches[0] : undefined;
  }
  if (!version) return undefined;
  const members: Array<[string, string]> = [];
  if (!hasVersion) members.push(['schema_version', version]);
  if (!hasUrl) members.push(['schema_url', schemaId('task', version)]);
  // After schema_version when it is there, else after $schema, else first; in this order.
  const after = hasVersion ? ['schema_version'] : f.value.$schema !== undefined ? ['$schema'] : [];
  const text = applyJsonEdits(
    f.raw,
    members.map(([key, value]) => ({ op: 'set' as const, path: [key], value, after })),
  );
  return {
    text,
    repair: {
      requirement: 'SCHEMA-VER-001',
      severity: 'notice',
      file: f.file,
      line: 1,
      column: 1,
      message: `fixed: added ${members.map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(' and ')} (the content validates against task schema ${version})`,
      fix: 'nothing left to do; review the change with git diff',
    },
  };
}
