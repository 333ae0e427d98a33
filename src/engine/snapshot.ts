/**
 * Reading `.state/current.json` (never writes).
 *
 * Public API:
 *   - readSnapshot(root): Snapshot | null            (stable) throws OrcError('STATE_CORRUPT') with a location when unreadable
 *   - loadSnapshotFile(root): SnapshotRead           (stable) findings instead of throwing; memoised by rules as ctx.once('snapshot')
 *   - serializeSnapshot(snapshot, { reuse? }): string (stable) the exact bytes written: top-level keys one per
 *     line, each workstream/task/worker/event on its own line (readable, diff-friendly, ~half the size of
 *     2-space indentation, much cheaper to write on a 10,000-task state)
 *   - serializeSnapshotBytes(snapshot, { reuse? }): Buffer (stable) the same bytes, UTF-8: the commit path writes these
 *     (each unchanged entity's line is kept encoded, so a commit copies bytes instead of rebuilding and
 *     re-encoding the whole text)
 *   - SNAPSHOT_VERSION, SNAPSHOT_URL, EVENT_VERSION, EVENT_URL (stable)
 *   - isPlaceholderSnapshotText(text), placeholderSnapshot(root) (stable): the guide's Quick Start
 *     `current.json` (empty, or { schema_version, timestamp, workstreams: [], tasks: [], workers: [] }
 *     with no last_seq) next to an empty or missing log is an empty store: readSnapshot returns
 *     null (no state yet), loadSnapshotFile reports it as not there yet (placeholder: true), and
 *     the commit path keeps a copy under .state/backups/ before its first write replaces it.
 * Integration points: engine commit path, status/why/doctor commands,
 * STATE-OBS rules and any rule that needs runtime state (key 'snapshot').
 * Dependencies: node:fs, ../io/located-json.js (locations), ../schema/registry.js.
 */
import { readFileSync, statSync } from 'node:fs';
import { OrcError } from '../errors.js';
import type { Finding, Snapshot } from '../model.js';
import { locateInText, parseJsonText } from '../io/located-json.js';
import { schemaId, validate } from '../schema/registry.js';
import { rel, statePaths } from './paths.js';
import { EVENT_VERSION, SNAPSHOT_VERSION } from '../core/versions.js';

export { SNAPSHOT_VERSION, EVENT_VERSION };
export const SNAPSHOT_URL = schemaId('snapshot', SNAPSHOT_VERSION);
export const EVENT_URL = schemaId('event', EVENT_VERSION);

export interface SnapshotRead {
  file: string;
  /** False also for the guide's placeholder current.json (then `placeholder` is true). */
  exists: boolean;
  placeholder?: boolean;
  snapshot: Snapshot | null;
  text: string | null;
  findings: Finding[];
}

function readText(path: string, file: string = path): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    // A directory, a permission problem, a dangling path component: located, with a fix (never a stack trace).
    const what = code === 'EISDIR' ? 'is a directory, not a file' : code === 'EACCES' || code === 'EPERM' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? String(error)})`;
    throw new OrcError('UNREADABLE_INPUT', `${file} ${what}`, {
      location: { file },
      fix: code === 'EISDIR' ? `move the directory ${file} away, then run \`orc-state doctor --repair\` to rebuild the file from the event log` : `check the permissions of ${file} (and that every directory above it is a directory)`,
      data: { errno: code ?? null },
    });
  }
}

const PLACEHOLDER_KEYS: ReadonlySet<string> = new Set(['schema_version', 'schema_url', 'timestamp', 'workstreams', 'tasks', 'workers']);

/** The guide's Quick Start current.json: an empty file, or only schema_version/timestamp and empty workstreams/tasks/workers arrays. */
export function isPlaceholderSnapshotText(text: string): boolean {
  const t = text.replace(/^\uFEFF/, '').trim();
  if (t === '') return true;
  if (t.length > 4096 || t[0] !== '{') return false;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return false;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const entries = Object.entries(v as Record<string, unknown>);
  if (!entries.some(([k]) => k === 'tasks' || k === 'workstreams' || k === 'workers') && entries.length > 0) return false;
  return entries.every(([k, x]) => PLACEHOLDER_KEYS.has(k) && (k === 'tasks' || k === 'workstreams' || k === 'workers' ? Array.isArray(x) && x.length === 0 : typeof x === 'string'));
}

/** No event logged yet: the log is missing, empty or blank. */
function logIsEmpty(path: string): boolean {
  try {
    const st = statSync(path);
    if (st.size === 0) return true;
    return st.size <= 4096 && readFileSync(path, 'utf8').trim() === '';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** The placeholder's text when `.state/current.json` is the guide's placeholder and nothing is logged; else null. */
export function placeholderSnapshot(root: string): string | null {
  const paths = statePaths(root);
  let text: string | null;
  try {
    text = readText(paths.current, rel(root, paths.current));
  } catch {
    return null;
  }
  return text !== null && isPlaceholderSnapshotText(text) && logIsEmpty(paths.log) ? text : null;
}

/** Located findings for a snapshot text that JSON.parse rejected or that is not an object. */
function parseFindings(text: string, file: string): Finding[] {
  const read = parseJsonText(text, file, { requirement: 'STATE-OBS-001', maxBytes: Number.MAX_SAFE_INTEGER, maxDepth: 64 });
  if (!read.ok) return read.findings;
  // JSON.parse failed but the located reader accepted it: only a BOM can do that; say so.
  return read.notices;
}

export function readSnapshot(root: string): Snapshot | null {
  const paths = statePaths(root);
  const file = rel(root, paths.current);
  const text = readText(paths.current, file);
  if (text === null) return null;
  if (isPlaceholderSnapshotText(text) && logIsEmpty(paths.log)) return null; // the guide's Quick Start: an empty store
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const f = parseFindings(text, file)[0];
    throw new OrcError('STATE_CORRUPT', `${file} is not valid JSON${f ? `: ${f.message}` : ''}`, {
      location: { file, line: f?.line ?? 1, column: f?.column ?? 1 },
      fix: 'run `orc-state doctor --repair`: it rebuilds current.json from the event log (keeping the damaged file in .state/recovered/)',
    });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value) || !Array.isArray((value as Snapshot).tasks) || !Number.isInteger((value as Snapshot).last_seq)) {
    const guideStyle = value !== null && typeof value === 'object' && !Array.isArray(value) && !('last_seq' in value) && Array.isArray((value as Snapshot).tasks);
    throw new OrcError('STATE_CORRUPT', `${file} is not an orc-state snapshot (needs last_seq, tasks, workstreams, workers)${guideStyle ? '; it is in the guide\'s layout but not empty, so it cannot be adopted as an empty store without losing its entries' : ''}`, {
      location: { file, line: 1, column: 1 },
      fix: guideStyle
        ? 'move it aside (e.g. to .state/backups/), run `orc-state init` (it registers the task files under tasks/), then re-apply its entries with `orc-state task`/`worker`'
        : 'run `orc-state doctor --repair` to rebuild it from the event log',
    });
  }
  const snap = value as Snapshot;
  snap.workstreams ??= [];
  snap.workers ??= [];
  snap.last_events ??= [];
  return snap;
}

/** For rules: never throws on bad content; schema errors are located findings (STATE-OBS-001). */
export function loadSnapshotFile(root: string): SnapshotRead {
  const paths = statePaths(root);
  const file = rel(root, paths.current);
  const text = readText(paths.current, file);
  if (text === null) return { file, exists: false, snapshot: null, text: null, findings: [] };
  if (isPlaceholderSnapshotText(text) && logIsEmpty(paths.log)) return { file, exists: false, placeholder: true, snapshot: null, text: null, findings: [] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { file, exists: true, snapshot: null, text, findings: parseFindings(text, file) };
  }
  const check = validate('snapshot', SNAPSHOT_VERSION, value);
  const findings: Finding[] = [];
  for (const err of check.errors.slice(0, 50)) {
    const path = err.instancePath
      .split('/')
      .slice(1)
      .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
    const at = locateInText(text, path);
    const extra = err.keyword === 'additionalProperties' ? ` (${String((err.params as { additionalProperty?: string }).additionalProperty)})` : '';
    findings.push({
      requirement: 'STATE-OBS-001',
      severity: 'error',
      file,
      line: at.line,
      column: at.column,
      message: `${err.instancePath || '(root)'} ${err.message ?? 'is invalid'}${extra} (schema ${SNAPSHOT_URL})`,
      fix: 'current.json is written only by the engine: run `orc-state doctor --repair` to rebuild it from the log instead of editing it',
    });
  }
  const ok = value && typeof value === 'object' && !Array.isArray(value) && Array.isArray((value as Snapshot).tasks);
  return { file, exists: true, snapshot: ok ? (value as Snapshot) : null, text, findings };
}

/**
 * The encoded line (`    <json>`) of each entity object, keyed by identity. The machines replace an
 * entity's object whenever it changes (applyEvent never mutates in place), so an unchanged task is
 * serialised and encoded once, not on every commit of a 10,000-task state.
 */
const entityLine = new WeakMap<object, Buffer>();
const OPEN = Buffer.from('{\n');
const CLOSE = Buffer.from('\n}\n');
const SEP = Buffer.from(',\n');
const ARRAY_END = Buffer.from('\n  ]');

function lineOf(value: unknown, cache: boolean): Buffer {
  if (!cache || value === null || typeof value !== 'object') return Buffer.from(`    ${JSON.stringify(value)}`);
  let line = entityLine.get(value);
  if (line === undefined) {
    line = Buffer.from(`    ${JSON.stringify(value)}`);
    entityLine.set(value, line);
  }
  return line;
}

export function serializeSnapshotBytes(snapshot: Snapshot, options: { reuse?: boolean } = {}): Buffer {
  const reuse = options.reuse !== false;
  const chunks: Buffer[] = [OPEN];
  let first = true;
  for (const [key, value] of Object.entries(snapshot)) {
    if (!first) chunks.push(SEP);
    first = false;
    if (Array.isArray(value) && value.length > 0) {
      const cache = reuse && (key === 'tasks' || key === 'workers' || key === 'workstreams');
      chunks.push(Buffer.from(`  ${JSON.stringify(key)}: [\n`));
      value.forEach((v, i) => {
        if (i > 0) chunks.push(SEP);
        chunks.push(lineOf(v, cache));
      });
      chunks.push(ARRAY_END);
    } else {
      chunks.push(Buffer.from(`  ${JSON.stringify(key)}: ${Array.isArray(value) ? '[]' : JSON.stringify(value)}`));
    }
  }
  chunks.push(CLOSE);
  return Buffer.concat(chunks);
}

/** `reuse: false`: no per-entity cache (a one-shot commit serialises each entity once; the cache would only cost). */
export function serializeSnapshot(snapshot: Snapshot, options: { reuse?: boolean } = {}): string {
  return serializeSnapshotBytes(snapshot, options).toString('utf8');
}
