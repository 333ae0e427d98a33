// The per-user resource registry cache (src/registry/cache.ts): a cached load equals loadResources, and any
// edit of the registry (or a second candidate file appearing) is seen on the next load.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadResources } from '../src/registry/index.js';
import { loadResourcesCached } from '../src/registry/cache.js';
import { PROJECT } from './fixtures/engine/build.js';

describe('resource registry cache', () => {
  it('serves what loadResources reads and notices edits', () => {
    const root = mkdtempSync(join(tmpdir(), 'orc-res-cache-'));
    cpSync(join(PROJECT, 'capabilities'), join(root, 'capabilities'), { recursive: true });
    const first = loadResourcesCached(root); // fills the cache
    expect(first).toEqual(loadResources(root));
    const cached = loadResourcesCached(root);
    expect(cached).toEqual(loadResources(root));
    expect(cached.resources).toBeInstanceOf(Map);
    const file = join(root, 'capabilities/resources.psd1');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace("MaxHolders  = 4", "MaxHolders  = 7"));
    expect(loadResourcesCached(root).resources.get('ci-runners')?.MaxHolders).toBe(7);
    // A broken edit comes back as findings, exactly as loadResources reports it.
    writeFileSync(file, text.replace("MaxHolders  = 4", "MaxHolders  = 0"));
    const broken = loadResourcesCached(root);
    expect(broken).toEqual(loadResources(root));
    expect(broken.findings.some((f) => f.requirement === 'CONC-REG-001' && f.severity === 'error')).toBe(true);
    // A second candidate file is a warning that the cache must not hide.
    writeFileSync(join(root, 'capabilities/resources.json'), '{}');
    expect(loadResourcesCached(root)).toEqual(loadResources(root));
    expect(loadResourcesCached(root).findings.some((f) => f.file === 'capabilities/resources.json')).toBe(true);
  });
});
