/**
 * Capability and resource registries: read `capabilities/registry.psd1` and
 * `capabilities/resources.psd1` (or `.yaml`/`.yml`/`.json` equivalents, first
 * found in that order), validate them against their schemas and check them
 * for internal consistency; check tasks against them.
 *
 * Public API (stable):
 *   loadCapabilities(root) → { file, capabilities, findings }
 *   loadResources(root) → { file, resources, findings }
 *   checkTaskCapabilities(tasks, caps) → Finding[]   CAP-REG-001 unknown capability, CAP-REG-002 deprecated one (warning)
 *   checkTaskResources(tasks, resources) → Finding[] CONC-REG-001 unknown resource id
 *   Capability, ResourceDef, CapabilityRegistry, ResourceRegistry, REGISTRY_FILES
 * Findings: CAP-REG-001 (registry parses; ids, names, description, provider,
 * requirements, operations; unique ids), CAP-REG-002 (Version and SinceVersion
 * semver, Stability enum, DeprecatedBy names an existing other capability),
 * CONC-REG-001 (ResourceId, Type enum, Description, MaxHolders integer ≥ -1,
 * exclusive means MaxHolders 1, RefillRate > 0 required for rate_limited; unique ids).
 * Entries with schema errors stay in the maps when their id is usable (so a
 * bad Version does not also make every task "unknown capability"); resources
 * whose Type or MaxHolders is unusable are left out.
 * Integration points: compliance rules (ctx.once('capabilities'|'resources')),
 * src/graph (C: resource-aware plans), src/runner (E: capability matching).
 * Upstream forms (top-level array, case-insensitive keys, Operations objects,
 * pooled resources, RefillRate 'N/minute', Metadata.ConflictsWith) are brought
 * to the schema's shape first by ./normalize.js; unknown keys are warnings and
 * kept (Extras). With no capability registry at all, a task's capability names
 * are a warning (they cannot be checked), never an error.
 * Dependencies: node:fs, node:path, yaml, ./psd1.js, ./normalize.js, ../io/located-json.js, ../repo/task-summary.js,
 * ../schema/registry.js, ../repo/schema-findings.js, ../model.js.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node as YamlNode } from 'yaml';
import type { Finding } from '../model.js';
import { parseJsonText } from '../io/located-json.js';
import { getValidator } from '../schema/registry.js';
import { loadSchemaDocument, schemaFindings } from '../repo/schema-findings.js';
import type { LoadedTask } from '../repo/load-tasks.js';
import { summaryOf } from '../repo/task-summary.js';
import { parsePsd1 } from './psd1.js';
import { normalizeRegistry } from './normalize.js';
import { yamlLib } from '../core/yaml-lib.js';

export interface Capability {
  CapabilityId: string;
  Version: string;
  Name: string;
  Description: string;
  Provider: string;
  Requirements: Record<string, unknown> | unknown[];
  /** Operation names (an upstream object entry contributes its Name). */
  Operations: string[];
  /** The operations as objects, when the registry writes them so (Name, Inputs, Output, Description). */
  OperationDetails?: Array<{ Name: string; Inputs?: unknown; Output?: unknown; Description?: string }>;
  /** Keys the registry entry has that orc-state does not use (kept as written, reported as warnings). */
  Extras?: Record<string, unknown>;
  Stability: 'experimental' | 'stable' | 'deprecated';
  SinceVersion: string;
  DeprecatedBy: string | null;
}

export interface ResourceDef {
  ResourceId: string;
  /** pooled: a counted shared pool of MaxHolders units. */
  Type: 'exclusive' | 'shared' | 'rate_limited' | 'pooled';
  Description: string;
  /** -1 = unlimited. */
  MaxHolders: number;
  /** Units per second (rate_limited only); 'N/minute' etc. in the file are converted. */
  RefillRate?: number;
  /** Tie-break between tasks otherwise equal: higher first. */
  Priority?: number;
  /** Resources never held at the same time as this one (from Metadata.ConflictsWith or a top-level key). */
  ConflictsWith?: string[];
  /** Resources always allowed next to this one; wins over ConflictsWith. */
  CompatibleWith?: string[];
  /** Metadata as written (AllocationStrategy, Scoped, …). */
  Metadata?: Record<string, unknown>;
  /** Keys the registry entry has that orc-state does not use (kept as written, reported as warnings). */
  Extras?: Record<string, unknown>;
}

export interface CapabilityRegistry {
  file: string | null;
  capabilities: Map<string, Capability>;
  findings: Finding[];
}

export interface ResourceRegistry {
  file: string | null;
  resources: Map<string, ResourceDef>;
  findings: Finding[];
  /** Ids of entries left out of `resources` because their Type or MaxHolders is unusable. */
  invalidIds?: Set<string>;
}

export const REGISTRY_FILES = {
  capabilities: ['capabilities/registry.psd1', 'capabilities/registry.yaml', 'capabilities/registry.yml', 'capabilities/registry.json'],
  resources: ['capabilities/resources.psd1', 'capabilities/resources.yaml', 'capabilities/resources.yml', 'capabilities/resources.json'],
} as const;

type Locate = (path: ReadonlyArray<string | number>, opts?: { key?: boolean }) => { line: number; column: number };

interface Parsed {
  file: string;
  value?: unknown;
  locate?: Locate;
  findings: Finding[];
}

function F(requirement: string, severity: Finding['severity'], file: string, at: { line: number; column: number }, message: string, fix: string): Finding {
  return { requirement, severity, file, line: at.line, column: at.column, message, fix };
}

/** Read and parse the first registry file that exists (psd1, yaml, yml, json). */
function readRegistryFile(root: string, candidates: readonly string[], requirement: string): Parsed | null {
  const present = candidates.filter((c) => existsSync(join(root, c)));
  const file = present[0];
  if (!file) return null;
  const ignored: Finding[] = present.slice(1).map((other) =>
    F(requirement, 'warning', other, { line: 1, column: 1 }, `${other} is ignored: ${file} takes precedence (one registry per kind)`, `merge its entries into ${file} and delete ${other}`),
  );
  let buf: Buffer;
  try {
    buf = readFileSync(join(root, file));
  } catch (err) {
    return { file, findings: [...ignored, F(requirement, 'error', file, { line: 1, column: 1 }, `cannot read the registry (${(err as Error).message})`, 'check that it is a readable file')] };
  }
  if (buf.length > 4 * 1024 * 1024) {
    return { file, findings: [...ignored, F(requirement, 'error', file, { line: 1, column: 1 }, `registry is ${buf.length} bytes, over the 4 MiB limit`, 'split or trim the registry')] };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return { file, findings: [...ignored, F(requirement, 'error', file, { line: 1, column: 1 }, 'the registry is not valid UTF-8', 'save it as UTF-8')] };
  }
  if (file.endsWith('.psd1')) {
    const r = parsePsd1(text, file, requirement);
    return r.ok ? { file, value: r.value, locate: r.locate, findings: ignored } : { file, findings: [...ignored, ...r.findings] };
  }
  if (file.endsWith('.json')) {
    const r = parseJsonText(text, file, { requirement, maxBytes: 4 * 1024 * 1024 });
    return r.ok ? { file, value: r.value, locate: r.locate, findings: [...ignored, ...r.notices] } : { file, findings: [...ignored, ...r.findings] };
  }
  const y = parseYaml(text, file, requirement);
  return { ...y, findings: [...ignored, ...y.findings] };
}

function parseYaml(text: string, file: string, requirement: string): Parsed {
  const { isMap, isSeq, LineCounter, parseDocument } = yamlLib(); // loaded only when a registry is written in YAML
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false, strict: true });
  const pos = (offset: number) => {
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  if (doc.errors.length > 0) {
    return {
      file,
      findings: doc.errors.map((e) =>
        F(requirement, 'error', file, pos(e.pos[0]), `invalid YAML: ${e.message.split('\n')[0]}`, e.code === 'DUPLICATE_KEY' ? 'keep one entry with this key' : 'fix the YAML syntax here'),
      ),
    };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { file, findings: [F(requirement, 'error', file, { line: 1, column: 1 }, `cannot read the YAML: ${(err as Error).message}`, 'remove aliases/anchors or custom tags')] };
  }
  const locate: Locate = (path, opts) => {
    let node = doc.contents as YamlNode | null;
    let keyNode: YamlNode | undefined;
    let last = node;
    for (const seg of path) {
      keyNode = undefined;
      if (isMap(node)) {
        const pair = node.items.find((it) => {
          const k = it.key as { value?: unknown } | null;
          return k !== null && typeof k === 'object' && String(k.value) === String(seg);
        });
        if (!pair) break;
        keyNode = pair.key as YamlNode;
        node = pair.value as YamlNode | null;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)] as YamlNode | undefined;
        if (!item) break;
        node = item;
      } else break;
      if (node) last = node;
    }
    const target = opts?.key && keyNode ? keyNode : last;
    return target?.range ? pos(target.range[0]) : { line: 1, column: 1 };
  };
  return { file, value, locate, findings: [] };
}

const CAP_REQS: ReadonlySet<string> = new Set(['CAP-REG-001', 'CAP-REG-002']);
const RES_REQS: ReadonlySet<string> = new Set(['CONC-REG-001']);

/**
 * The steps both loaders share: find and parse the registry file, validate it against
 * `<kind>.v1.0.0` (schema errors become located findings under `requirement`), and hand
 * back its entry list (`listKey`) when it is an array. `out` receives the file and findings.
 */
function readValidatedList(
  root: string,
  out: { file: string | null; findings: Finding[] },
  spec: { candidates: readonly string[]; kind: 'capability-registry' | 'resource-registry'; requirement: string; owned: ReadonlySet<string>; listKey: string },
): { list: unknown[]; locate: Locate; file: string; extras: Map<number, Record<string, unknown>> } | undefined {
  const parsed = readRegistryFile(root, spec.candidates, spec.requirement);
  if (!parsed) return undefined;
  out.file = parsed.file;
  out.findings.push(...parsed.findings);
  if (parsed.value === undefined || !parsed.locate) return undefined;
  const file = parsed.file;
  // Upstream forms (top-level array, any key case, Operations objects, RefillRate '100/minute', …) → the schema's shape.
  const norm = normalizeRegistry(spec.kind, parsed.value, parsed.locate, file);
  out.findings.push(...norm.findings);
  const { value, locate } = norm;
  const validator = getValidator(spec.kind, '1.0.0');
  if (!validator) throw new Error(`schemas/${spec.kind}.v1.0.0.schema.json missing`);
  if (!validator(value)) {
    out.findings.push(
      ...schemaFindings(validator.errors ?? [], {
        file,
        value,
        locate,
        schema: loadSchemaDocument(spec.kind, '1.0.0'),
        requirement: spec.requirement,
        ownedRequirements: spec.owned,
      }),
    );
  }
  const list = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[spec.listKey] : undefined;
  return Array.isArray(list) ? { list, locate, file, extras: norm.extras } : undefined;
}

export function loadCapabilities(root: string): CapabilityRegistry {
  const out: CapabilityRegistry = { file: null, capabilities: new Map(), findings: [] };
  const read = readValidatedList(root, out, { candidates: REGISTRY_FILES.capabilities, kind: 'capability-registry', requirement: 'CAP-REG-001', owned: CAP_REQS, listKey: 'Capabilities' });
  if (!read) return out;
  const { list, locate, file, extras } = read;
  list.forEach((entry, i) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return;
    const id = (entry as { CapabilityId?: unknown }).CapabilityId;
    if (typeof id !== 'string' || id === '') return;
    if (out.capabilities.has(id)) {
      out.findings.push(F('CAP-REG-001', 'error', file, locate(['Capabilities', i, 'CapabilityId']), `CapabilityId "${id}" is defined twice`, 'remove or rename one of the two entries'));
      return;
    }
    const cap = { ...(entry as Capability) };
    const ops = (entry as { Operations?: unknown }).Operations;
    if (Array.isArray(ops) && ops.some((o) => o !== null && typeof o === 'object')) {
      cap.OperationDetails = ops.filter((o): o is { Name: string } => o !== null && typeof o === 'object' && typeof (o as { Name?: unknown }).Name === 'string');
      cap.Operations = ops.map((o) => (typeof o === 'string' ? o : String((o as { Name?: unknown } | null)?.Name ?? ''))).filter((n) => n !== '');
    }
    const extra = extras.get(i);
    if (extra) cap.Extras = extra;
    out.capabilities.set(id, cap);
  });
  // CAP-REG-002: DeprecatedBy names an existing, different capability; deprecated ones say what replaces them.
  list.forEach((entry, i) => {
    if (entry === null || typeof entry !== 'object') return;
    const c = entry as Partial<Capability>;
    if (typeof c.CapabilityId !== 'string') return;
    if (typeof c.DeprecatedBy === 'string') {
      if (c.DeprecatedBy === c.CapabilityId) {
        out.findings.push(F('CAP-REG-002', 'error', file, locate(['Capabilities', i, 'DeprecatedBy']), `capability "${c.CapabilityId}" is deprecated by itself`, 'name the capability that replaces it, or $null'));
      } else if (!out.capabilities.has(c.DeprecatedBy)) {
        out.findings.push(F('CAP-REG-002', 'error', file, locate(['Capabilities', i, 'DeprecatedBy']), `DeprecatedBy "${c.DeprecatedBy}" names no capability in the registry`, `add a capability "${c.DeprecatedBy}" or correct the id`));
      }
      if (c.Stability !== undefined && c.Stability !== 'deprecated') {
        out.findings.push(F('CAP-REG-002', 'error', file, locate(['Capabilities', i, 'Stability']), `capability "${c.CapabilityId}" has DeprecatedBy "${c.DeprecatedBy}" but Stability "${String(c.Stability)}"`, "set Stability = 'deprecated', or DeprecatedBy = $null"));
      }
    } else if (c.Stability === 'deprecated' && c.DeprecatedBy === null) {
      out.findings.push(F('CAP-REG-002', 'warning', file, locate(['Capabilities', i, 'DeprecatedBy']), `capability "${c.CapabilityId}" is deprecated without naming a replacement`, 'set DeprecatedBy to the capability that replaces it'));
    }
  });
  return out;
}

export function loadResources(root: string): ResourceRegistry {
  const out: ResourceRegistry = { file: null, resources: new Map(), findings: [], invalidIds: new Set() };
  const read = readValidatedList(root, out, { candidates: REGISTRY_FILES.resources, kind: 'resource-registry', requirement: 'CONC-REG-001', owned: RES_REQS, listKey: 'Resources' });
  if (!read) return out;
  const { list, locate, file, extras } = read;
  list.forEach((entry, i) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return;
    const r = entry as Partial<ResourceDef>;
    const id = r.ResourceId;
    if (typeof id !== 'string' || id === '') return;
    if (out.resources.has(id)) {
      out.findings.push(F('CONC-REG-001', 'error', file, locate(['Resources', i, 'ResourceId']), `ResourceId "${id}" is defined twice`, 'remove or rename one of the two entries'));
      return;
    }
    const typeOk = r.Type === 'exclusive' || r.Type === 'shared' || r.Type === 'rate_limited' || r.Type === 'pooled';
    const maxOk = Number.isInteger(r.MaxHolders) && (r.MaxHolders as number) >= -1;
    if (r.Type === 'exclusive' && maxOk && r.MaxHolders !== 1) {
      out.findings.push(F('CONC-REG-001', 'error', file, locate(['Resources', i, 'MaxHolders']), `exclusive resource "${id}" has MaxHolders ${String(r.MaxHolders)}; an exclusive resource has exactly one holder`, "set MaxHolders = 1, or Type = 'shared' for several holders"));
    }
    if (r.MaxHolders === 0) {
      out.findings.push(F('CONC-REG-001', 'error', file, locate(['Resources', i, 'MaxHolders']), `resource "${id}" has MaxHolders 0: no task could ever hold it`, 'set MaxHolders to the capacity (≥ 1), or -1 for unlimited'));
    }
    if (r.Type !== 'rate_limited' && r.RefillRate !== undefined) {
      out.findings.push(F('CONC-REG-001', 'warning', file, locate(['Resources', i, 'RefillRate'], { key: true }), `RefillRate is only used by rate_limited resources; "${id}" is ${String(r.Type)}`, "remove RefillRate or set Type = 'rate_limited'"));
    }
    if (!typeOk || !maxOk) {
      out.invalidIds?.add(id);
      return;
    } // unusable for planning; the schema findings say why
    const def: ResourceDef = { ResourceId: id, Type: r.Type as ResourceDef['Type'], Description: typeof r.Description === 'string' ? r.Description : '', MaxHolders: r.MaxHolders as number };
    if (typeof r.RefillRate === 'number') def.RefillRate = r.RefillRate;
    if (typeof r.Priority === 'number' && Number.isFinite(r.Priority)) def.Priority = r.Priority;
    const meta = r.Metadata !== null && typeof r.Metadata === 'object' && !Array.isArray(r.Metadata) ? (r.Metadata as Record<string, unknown>) : undefined;
    if (meta) def.Metadata = meta;
    for (const k of ['ConflictsWith', 'CompatibleWith'] as const) {
      const ids = [...(Array.isArray(r[k]) ? r[k] : []), ...(Array.isArray(meta?.[k]) ? (meta[k] as unknown[]) : [])].filter((x): x is string => typeof x === 'string');
      if (ids.length > 0) def[k] = [...new Set(ids)];
    }
    const extra = extras.get(i);
    if (extra) def.Extras = extra;
    out.resources.set(id, def);
  });
  // ConflictsWith / CompatibleWith name resources of this registry ('*' = all).
  for (const [id, def] of out.resources) {
    for (const k of ['ConflictsWith', 'CompatibleWith'] as const) {
      for (const other of def[k] ?? []) {
        if (other === '*' || out.resources.has(other) || out.invalidIds?.has(other)) continue;
        const i = list.findIndex((e) => (e as { ResourceId?: unknown } | null)?.ResourceId === id);
        const where = Array.isArray((list[i] as Record<string, unknown> | undefined)?.[k]) ? ['Resources', i, k] : ['Resources', i, 'Metadata', k];
        out.findings.push(F('CONC-REG-001', 'warning', file, locate(where), `${k} of "${id}" names "${other}", which is not a resource of ${file}`, `add a ResourceId = '${other}' entry or correct the id`));
      }
    }
  }
  return out;
}

/** CAP-REG-001: each capability a task requires exists; CAP-REG-002: warn on deprecated ones. */
export function checkTaskCapabilities(tasks: Iterable<LoadedTask>, reg: CapabilityRegistry): Finding[] {
  const findings: Finding[] = [];
  const registryName = reg.file ?? 'capabilities/registry.psd1';
  for (const lt of tasks) {
    const caps = summaryOf(lt).worker_requirements?.capabilities;
    if (!caps) continue;
    // An indexed loop, located only for a finding (locating reads the file again when texts are on demand):
    // this visits every task of the repo once per process.
    for (let i = 0; i < caps.length; i++) {
      const capId = caps[i]!;
      const cap = reg.capabilities.get(capId);
      if (!cap && !reg.file) {
        // No registry at all (the guide's Quick Start has none): names cannot be checked, which is not a failure.
        findings.push(
          F('CAP-REG-001', 'warning', lt.file, lt.locate(['worker_requirements', 'capabilities', i]), `capability "${capId}" cannot be checked: the repository has no capability registry`, `to check capability names, add ${registryName} (or registry.yaml/.json) with an entry @{ CapabilityId = '${capId}'; Version = '1.0.0'; Name; Description; Provider; Requirements = @{}; Operations = @('…'); Stability = 'stable'; SinceVersion = '1.0.0'; DeprecatedBy = $null }`),
        );
      } else if (!cap) {
        findings.push(F('CAP-REG-001', 'error', lt.file, lt.locate(['worker_requirements', 'capabilities', i]), `capability "${capId}" is not defined in ${reg.file}`, `add an entry with CapabilityId = '${capId}' to ${registryName}, or correct the id`));
      } else if (cap.Stability === 'deprecated' || (typeof cap.DeprecatedBy === 'string' && cap.DeprecatedBy !== '')) {
        findings.push(
          F('CAP-REG-002', 'warning', lt.file, lt.locate(['worker_requirements', 'capabilities', i]), `capability "${capId}" is deprecated${cap.DeprecatedBy ? ` (replaced by "${cap.DeprecatedBy}")` : ''}`, cap.DeprecatedBy ? `require "${cap.DeprecatedBy}" instead` : 'move to a supported capability'),
        );
      }
    }
  }
  return findings;
}

/** CONC-REG-001: each resource id a task names in resource_requirements exists in the registry. */
export function checkTaskResources(tasks: Iterable<LoadedTask>, reg: ResourceRegistry, knownIds: ReadonlySet<string> = reg.invalidIds ?? new Set()): Finding[] {
  const findings: Finding[] = [];
  for (const lt of tasks) {
    const reqs = summaryOf(lt).resource_requirements;
    if (!reqs) continue;
    for (const rid of Object.keys(reqs)) {
      if (reg.resources.has(rid) || knownIds.has(rid)) continue;
      findings.push(
        F('CONC-REG-001', 'error', lt.file, lt.locate(['resource_requirements', rid], { key: true }), reg.file ? `resource "${rid}" is not defined in ${reg.file}` : `resource "${rid}" is required but there is no resource registry`, reg.file ? `add a ResourceId = '${rid}' entry to ${reg.file}, or correct the id` : `create capabilities/resources.psd1 with a ResourceId = '${rid}' entry`),
      );
    }
  }
  return findings;
}
