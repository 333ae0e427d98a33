/**
 * The resource registry as loadResources(root) reads it, cached per user (src/core/user-cache.ts), so
 * commands that only plan with it (a transition's derive, `ready`, `plan`) do not parse, normalise and
 * schema-validate it (ajv compiling the registry schema alone costs ~50 ms) on every run.
 *
 * Public API (internal): loadResourcesCached(root) → ResourceRegistry (same value as loadResources).
 * Correctness: the cache is keyed by the content of every candidate registry file (REGISTRY_FILES.resources:
 * which exist and their bytes, hashed), the registry schema's bytes and the code that reads them (the
 * modules' size and mtime), so any edit is a fresh loadResources whose result replaces the cache.
 * Findings keep their locations (they are plain data); only compliance rules need more than this and
 * they call loadResources directly.
 * Integration points: src/graph/files.ts (derive), src/graph/repo.ts (ready, plan, claim).
 * Stability: internal.
 * Dependencies: node:crypto, node:fs, node:path, node:url, ./index.js, ../core/user-cache.js, ../paths.js.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Finding } from '../model.js';
import { readCacheFile, repoCacheFile, writeCacheFile } from '../core/user-cache.js';
import { schemasDir } from '../paths.js';
import { loadResources, REGISTRY_FILES, type ResourceDef, type ResourceRegistry } from './index.js';

const VERSION = 1;
const CODE = ['index.js', 'normalize.js', 'psd1.js', 'cache.js'];

interface CacheFile {
  version: number;
  key: string;
  file: string | null;
  resources: Array<[string, ResourceDef]>;
  findings: Finding[];
  invalidIds: string[];
}

function inputKey(root: string): string {
  const hash = createHash('sha1');
  for (const candidate of REGISTRY_FILES.resources) {
    const abs = join(root, candidate);
    if (!existsSync(abs)) {
      hash.update(`- ${candidate}\n`);
      continue;
    }
    try {
      hash.update(`+ ${candidate}\n`).update(readFileSync(abs)).update('\n');
    } catch (error) {
      hash.update(`! ${candidate} ${(error as NodeJS.ErrnoException).code ?? ''}\n`);
    }
  }
  try {
    hash.update(readFileSync(join(schemasDir(), 'resource-registry.v1.0.0.schema.json')));
  } catch {
    hash.update('no schema');
  }
  const here = dirname(fileURLToPath(import.meta.url));
  for (const name of CODE) {
    try {
      const st = statSync(join(here, name));
      hash.update(`${name} ${st.size} ${st.mtimeMs}\n`);
    } catch {
      hash.update(`${name} -\n`);
    }
  }
  return `${VERSION}:${hash.digest('hex')}`;
}

/** loadResources(root), served from the per-user cache while no input changed. */
export function loadResourcesCached(root: string): ResourceRegistry {
  const file = repoCacheFile(root, 'resources');
  const key = inputKey(root);
  const c = readCacheFile<CacheFile>(file);
  if (c && c.version === VERSION && c.key === key) {
    return { file: c.file, resources: new Map(c.resources), findings: c.findings, invalidIds: new Set(c.invalidIds) };
  }
  const registry = loadResources(root);
  const body: CacheFile = {
    version: VERSION,
    key,
    file: registry.file,
    resources: [...registry.resources],
    findings: registry.findings,
    invalidIds: [...(registry.invalidIds ?? [])],
  };
  writeCacheFile(file, body);
  return registry;
}
