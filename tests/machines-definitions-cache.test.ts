// The parsed state-machine YAML is cached per user (src/machines/definitions.ts): a cached load equals a
// parse, and any edit of a definition file is seen on the next load.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMachineDefinitions } from '../src/machines/definitions.js';
import { PROJECT } from './fixtures/engine/build.js';

describe('machine definitions cache', () => {
  it('serves the same definitions as a parse and notices an edited file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orc-machines-'));
    cpSync(join(PROJECT, 'docs/state_machines'), dir, { recursive: true });
    const parsed = loadMachineDefinitions(dir); // first load parses (and fills the cache)
    const cached = loadMachineDefinitions(dir);
    expect(cached).toEqual(parsed);
    expect(cached.task.guards).toBeInstanceOf(Map);
    const file = join(dir, 'task_lifecycle.yaml');
    const text = readFileSync(file, 'utf8');
    const [guard] = [...parsed.task.guards.keys()];
    const description = parsed.task.guards.get(guard!)!;
    writeFileSync(file, text.replace(description, `${description} (edited)`));
    expect(loadMachineDefinitions(dir).task.guards.get(guard!)).toBe(`${description} (edited)`);
    // A broken edit is a packaging error, never hidden by the cache.
    writeFileSync(file, text.replace(/^states:/m, 'stat:'));
    expect(() => loadMachineDefinitions(dir)).toThrow(/task_lifecycle\.yaml/);
  });
});
