/**
 * Registries as the upstream writes them: bring a parsed capability or
 * resource registry (psd1, YAML or JSON) into the one shape the schemas
 * describe, before it is validated, and say what was changed.
 *
 * Public API (stable):
 *   normalizeRegistry(kind, value, locate, file) → { value, locate, findings, extras }
 *   parseRefillRate(v) → number (units per second) | undefined
 *   RegistryKind
 * Accepted forms:
 *   - a top-level array `@( @{...}, @{...} )` (the entries themselves) or a
 *     hashtable with `Capabilities` / `Resources` (schema_version and
 *     schema_url may be left out: they default to the only version there is);
 *   - keys matched case-insensitively, as PowerShell does (`resourceid`,
 *     `TYPE`); the canonical spelling of the schema is used from then on;
 *     `Type` and `Stability` values are matched case-insensitively too;
 *   - unknown keys (not `x-…`): a warning with a "did you mean" when close to a
 *     known key; the key is kept on the entry (`extras`) and left out of the
 *     schema check;
 *   - capabilities: `Operations` entries as strings or objects
 *     (Name, Inputs, Output, Description);
 *   - resources: `RefillRate` as a number or 'N/second|minute|hour' (also
 *     s/sec/min/h), `Metadata = @{ ConflictsWith; CompatibleWith;
 *     AllocationStrategy; Scoped }` (a single string becomes a list),
 *     `Priority`, `Type = 'pooled'`; an exclusive resource without MaxHolders
 *     has MaxHolders 1.
 * `locate` takes paths in the normalised shape (['Resources', 2, 'Type']) and
 * answers with the position in the file as written.
 * Integration points: src/registry/index.ts (loadCapabilities, loadResources).
 * Dependencies: ../repo/schema-findings.js (closest, loadSchemaDocument), ../model.js.
 */
import type { Finding } from '../model.js';
import { closest, loadSchemaDocument } from '../repo/schema-findings.js';

export type RegistryKind = 'capability-registry' | 'resource-registry';
type Locate = (path: ReadonlyArray<string | number>, opts?: { key?: boolean }) => { line: number; column: number };
type Obj = Record<string, unknown>;

const META = {
  'capability-registry': { listKey: 'Capabilities', entryDef: 'capability', requirement: 'CAP-REG-001', idKey: 'CapabilityId' },
  'resource-registry': { listKey: 'Resources', entryDef: 'resource', requirement: 'CONC-REG-001', idKey: 'ResourceId' },
} as const;

const OPERATION_KEYS = ['Name', 'Inputs', 'Output', 'Description'];
const METADATA_KEYS = ['ConflictsWith', 'CompatibleWith', 'AllocationStrategy', 'Scoped'];
const RATE_UNITS: Record<string, number> = { s: 1, sec: 1, second: 1, seconds: 1, m: 60, min: 60, minute: 60, minutes: 60, h: 3600, hr: 3600, hour: 3600, hours: 3600 };

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** RefillRate as units per second: a positive number, or "N/second|minute|hour". */
export function parseRefillRate(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/|per\s+)\s*([a-z]+)\s*$/i.exec(v);
  if (!m) return undefined;
  const per = RATE_UNITS[(m[2] as string).toLowerCase()];
  const n = Number(m[1]);
  return per && n > 0 ? n / per : undefined;
}

function schemaKeys(kind: RegistryKind): { top: string[]; entry: string[] } {
  const doc = loadSchemaDocument(kind, '1.0.0') as { properties: Obj; $defs: Record<string, { properties: Obj }> };
  return { top: Object.keys(doc.properties), entry: Object.keys(doc.$defs[META[kind].entryDef]?.properties ?? {}) };
}

export interface NormalizedRegistry {
  /** The registry in the schema's shape (a bare value is passed through for the schema to refuse). */
  value: unknown;
  locate: Locate;
  findings: Finding[];
  /** Unknown keys of entry i, kept as written. */
  extras: Map<number, Obj>;
}

export function normalizeRegistry(kind: RegistryKind, raw: unknown, rawLocate: Locate, file: string): NormalizedRegistry {
  const meta = META[kind];
  const keys = schemaKeys(kind);
  const findings: Finding[] = [];
  const extras = new Map<number, Obj>();
  const topIsList = Array.isArray(raw);

  // Canonical path → path in the file as written.
  const rawPath = (path: ReadonlyArray<string | number>): Array<string | number> => {
    const out: Array<string | number> = [];
    let cur: unknown = raw;
    path.forEach((seg, depth) => {
      if (depth === 0 && topIsList && seg === meta.listKey) return;
      if (typeof seg === 'string' && isObj(cur)) {
        const k = Object.keys(cur).find((x) => x.toLowerCase() === seg.toLowerCase()) ?? seg;
        out.push(k);
        cur = cur[k];
        // Metadata.X is also accepted at the top of a resource entry.
      } else {
        out.push(seg);
        cur = Array.isArray(cur) ? cur[seg as number] : undefined;
      }
    });
    return out;
  };
  const locate: Locate = (path, opts) => rawLocate(rawPath(path), opts);
  const warn = (path: ReadonlyArray<string | number>, message: string, fix: string, key = true): void => {
    const at = locate(path, { key });
    findings.push({ requirement: meta.requirement, severity: 'warning', file, line: at.line, column: at.column, message, fix });
  };

  /** Copy `obj` with canonical key spelling; unknown keys go to `unknown` (and a warning). */
  const canon = (obj: Obj, known: readonly string[], path: Array<string | number>, unknown?: Obj): Obj => {
    // Plain objects (ajv's uniqueItems compares with valueOf); keys are set as own data properties.
    const out: Obj = {};
    const put = (k: string, v: unknown): void => void Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    const byLower = new Map(known.map((k) => [k.toLowerCase(), k]));
    for (const [k, v] of Object.entries(obj)) {
      const c = byLower.get(k.toLowerCase());
      if (c !== undefined) {
        put(c, v);
        continue;
      }
      if (k.startsWith('x-')) {
        put(k, v);
        continue;
      }
      if (unknown) Object.defineProperty(unknown, k, { value: v, enumerable: true, writable: true, configurable: true });
      else put(k, v);
      const guess = closest(k, known);
      warn([...path, k], `unknown key \`${k}\`${unknown ? ': kept, but orc-state does not use it' : ''}`, guess ? `did you mean \`${guess}\`? Rename the key to ${guess}` : `known keys here: ${known.join(', ')} (prefix it with "x-" to mark it as an extension)`);
    }
    return out;
  };

  // A bare value (neither a list nor a hashtable) goes to the schema as it is: "must be an object".
  if (!topIsList && !isObj(raw)) return { value: raw, locate, findings, extras };
  // Unknown top-level keys: warned about by canon and left out of what the schema sees.
  const top: Obj = topIsList ? { [meta.listKey]: raw } : canon(raw as Obj, keys.top, [], {});
  const value: Obj = { schema_version: '1.0.0', schema_url: (loadSchemaDocument(kind, '1.0.0') as { $id: string }).$id };
  for (const [k, v] of Object.entries(top)) value[k] = v;
  const list = value[meta.listKey];
  if (!Array.isArray(list)) return { value, locate, findings, extras };

  value[meta.listKey] = list.map((entry, i) => {
    if (!isObj(entry)) return entry;
    const path = [meta.listKey, i];
    const unknown: Obj = {};
    const e = canon(entry, keys.entry, path, unknown);
    if (Object.keys(unknown).length > 0) extras.set(i, unknown);
    if (kind === 'capability-registry') {
      // PowerShell compares strings case-insensitively: 'Stable' is 'stable'.
      if (typeof e.Stability === 'string' && ['experimental', 'stable', 'deprecated'].includes(e.Stability.toLowerCase())) e.Stability = e.Stability.toLowerCase();
      if (Array.isArray(e.Operations)) {
        e.Operations = e.Operations.map((op, j) => (isObj(op) ? canon(op, OPERATION_KEYS, [...path, 'Operations', j]) : op));
      } else if (typeof e.Operations === 'string' || isObj(e.Operations)) {
        e.Operations = [isObj(e.Operations) ? canon(e.Operations, OPERATION_KEYS, [...path, 'Operations']) : e.Operations];
      }
    } else {
      if (typeof e.Type === 'string') {
        const t = e.Type.toLowerCase().replace(/-/g, '_');
        if (['exclusive', 'shared', 'rate_limited', 'pooled'].includes(t)) e.Type = t;
      }
      if (e.Type === 'exclusive' && e.MaxHolders === undefined) e.MaxHolders = 1;
      if (typeof e.RefillRate === 'string') {
        // A string that is no rate stays as written: the schema reports it, with the accepted forms.
        const r = parseRefillRate(e.RefillRate);
        if (r !== undefined) e.RefillRate = r;
      }
      if (isObj(e.Metadata)) {
        const m = canon(e.Metadata, METADATA_KEYS, [...path, 'Metadata']);
        for (const k of ['ConflictsWith', 'CompatibleWith']) if (typeof m[k] === 'string') m[k] = [m[k]];
        e.Metadata = m;
      }
      for (const k of ['ConflictsWith', 'CompatibleWith']) if (typeof e[k] === 'string') e[k] = [e[k]];
    }
    return e;
  });
  return { value, locate, findings, extras };
}
