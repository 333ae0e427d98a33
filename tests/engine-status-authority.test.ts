// Decision 1: the task file's status is only the initial value; a file edited to a
// status the snapshot does not share is a located STATE-OBS-001 warning, never merged.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/compliance/context.js';
import { statusFor } from '../src/compliance/runner.js';
import { rule } from '../src/compliance/rules/STATE-OBS-001.js';
import type { Finding } from '../src/model.js';
import { copyExampleRepo, removeDirs } from './compliance-helpers.js';

const dirs: string[] = [];
afterAll(() => removeDirs(dirs));

async function check(dir: string): Promise<Finding[]> {
  const outcome = await rule.check(createContext(dir));
  if ('skip' in outcome) throw new Error(`skipped: ${outcome.skip}`);
  return outcome.findings;
}

function setStatus(dir: string, rel: string, status: string): number {
  const abs = join(dir, rel);
  const text = readFileSync(abs, 'utf8');
  const line = text.split('\n').findIndex((l) => l.includes('"status"')) + 1;
  writeFileSync(abs, text.replace(/"status": "[a-z]+"/, `"status": "${status}"`));
  return line;
}

describe('STATE-OBS-001 and Decision 1 (who owns a task status)', () => {
  it('the shipped example passes: files keep their initial status while the snapshot moves on', async () => {
    const dir = copyExampleRepo();
    dirs.push(dir);
    const snapshot = JSON.parse(readFileSync(join(dir, '.state/current.json'), 'utf8')) as { tasks: Array<{ task_id: string; status: string }> };
    // The premise: some tasks have progressed in .state/ while their files still say pending.
    expect(snapshot.tasks.find((t) => t.task_id === 'ah-lint-baseline')?.status).toBe('completed');
    expect(await check(dir)).toEqual([]);
  });

  it('a file edited to another status is a warning at the status value, with the fix', async () => {
    const dir = copyExampleRepo();
    dirs.push(dir);
    const rel = 'tasks/release-0-2/rel-tag.json';
    const line = setStatus(dir, rel, 'completed');
    const findings = await check(dir);
    expect(findings).toHaveLength(1);
    const [f] = findings as [Finding];
    expect(f).toMatchObject({ requirement: 'STATE-OBS-001', severity: 'warning', file: rel, line });
    expect(f.column).toBeGreaterThan(1);
    expect(f.message).toContain('"completed"');
    expect(f.message).toContain('"pending"');
    expect(f.fix).toContain('orc-state task rel-tag');
    expect(statusFor('MUST', findings)).toBe('WARN');
    // Never merged: the snapshot still says pending.
    const snapshot = readFileSync(join(dir, '.state/current.json'), 'utf8');
    expect(snapshot).toMatch(/"task_id":"rel-tag"[^\n]*"status":"pending"/);
  });

  it('a file edited to the status the snapshot already has is not reported', async () => {
    const dir = copyExampleRepo();
    dirs.push(dir);
    setStatus(dir, 'tasks/api-hardening/ah-lint-baseline.json', 'completed');
    expect(await check(dir)).toEqual([]);
  });
});
