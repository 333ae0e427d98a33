// Rules SCHEMA-VER-002 and AIDER-INT-001..003 on copies of the example repo:
// clean passes, and each kind of violation is found and located.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/compliance/context.js';
import type { Rule } from '../src/compliance/types.js';
import type { Finding } from '../src/model.js';
import { rule as schemaVer002 } from '../src/compliance/rules/SCHEMA-VER-002.js';
import { rule as aider001 } from '../src/compliance/rules/AIDER-INT-001.js';
import { rule as aider002 } from '../src/compliance/rules/AIDER-INT-002.js';
import { rule as aider003 } from '../src/compliance/rules/AIDER-INT-003.js';

const PROJECT = join(import.meta.dirname, '..');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function repo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orc-e-rules-'));
  dirs.push(dir);
  for (const name of ['tasks', 'capabilities', 'docs']) cpSync(join(PROJECT, name), join(dir, name), { recursive: true });
  return dir;
}

async function findings(rule: Rule, root: string): Promise<Finding[] | string> {
  const outcome = await rule.check(createContext(root));
  return 'skip' in outcome ? `skip: ${outcome.skip}` : outcome.findings;
}

const TASK = 'tasks/api-hardening/ah-harden-state-machine.json';
function editTask(root: string, edit: (t: Record<string, any>) => void): void {
  const f = join(root, TASK);
  const t = JSON.parse(readFileSync(f, 'utf8'));
  edit(t);
  writeFileSync(f, `${JSON.stringify(t, null, 2)}\n`);
}

describe('SCHEMA-VER-002', () => {
  it('passes on the example repo and finds missing facts, stray and missing documents', async () => {
    const root = repo();
    expect(await findings(schemaVer002, root)).toEqual([]);
    const doc = join(root, 'docs/schema_migrations/task_v1_to_v2.md');
    writeFileSync(doc, readFileSync(doc, 'utf8').replaceAll('**/node_modules/**', '**/vendor/**'));
    writeFileSync(join(root, 'docs/schema_migrations/task_v2_to_v3.md'), '# nothing\n');
    const found = (await findings(schemaVer002, root)) as Finding[];
    expect(found.map((f) => f.message)).toEqual([
      'task_v1_to_v2.md does not mention "**/node_modules/**", which the migration step uses',
      expect.stringMatching(/^task_v2_to_v3\.md documents a migration that `orc-state migrate` does not have/),
    ]);
    rmSync(join(root, 'docs/schema_migrations'), { recursive: true });
    expect(((await findings(schemaVer002, root)) as Finding[]).map((f) => f.file)).toEqual(['docs/schema_migrations']);
  });

  it('requires the README link and the Rollback section (the reverse step is registered)', async () => {
    const root = repo();
    const readme = join(root, 'docs/schema_migrations/README.md');
    writeFileSync(readme, readFileSync(readme, 'utf8').replace('(task_v1_to_v2.md)', ''));
    const doc = join(root, 'docs/schema_migrations/task_v1_to_v2.md');
    writeFileSync(doc, readFileSync(doc, 'utf8').replace('## Rollback', '## Going back'));
    const found = (await findings(schemaVer002, root)) as Finding[];
    expect(found.map((f) => [f.file, f.message.split(' (')[0]])).toEqual([
      ['docs/schema_migrations/README.md', 'README.md does not link task_v1_to_v2.md'],
      ['docs/schema_migrations/task_v1_to_v2.md', 'task_v1_to_v2.md has no "Rollback" section'],
    ]);
  });
});

describe('AIDER-INT-001', () => {
  it('passes on the example repo, skips a repo without aider tasks', async () => {
    expect(await findings(aider001, repo())).toEqual([]);
    const empty = mkdtempSync(join(tmpdir(), 'orc-e-empty-'));
    dirs.push(empty);
    mkdirSync(join(empty, 'tasks'));
    expect(await findings(aider001, empty)).toMatch(/^skip: no task of type "aider"/);
  });

  it('finds an aider task without an aider capability and one that always times out', async () => {
    const root = repo();
    editTask(root, (t) => {
      t.worker_requirements.capabilities = ['python.pytest'];
      t.execution.estimated_duration_seconds = 2000;
    });
    const found = (await findings(aider001, root)) as Finding[];
    expect(found.map((f) => [f.file, f.line > 1, f.message.split(':')[0]])).toEqual([
      [TASK, true, 'aider task ah-harden-state-machine requires no aider capability (python.pytest), so no aider worker would be assigned to it'],
      [TASK, true, 'aider task ah-harden-state-machine is expected to take 2000 s but its timeout_seconds is 900'],
    ]);
  });
});

describe('AIDER-INT-002', () => {
  it('finds required files over budget and files named in the command', async () => {
    const root = repo();
    expect(await findings(aider002, root)).toEqual([]);
    cpSync(join(PROJECT, 'docs/state_machines'), join(root, 'docs/state_machines'), { recursive: true });
    editTask(root, (t) => {
      t.context_requirements.max_context_tokens = 10;
      t.execution.command = 'aider --yes docs/state_machines/task_lifecycle.yaml';
    });
    const found = (await findings(aider002, root)) as Finding[];
    expect(found.map((f) => f.message)).toEqual([
      expect.stringMatching(/required files need about \d+ tokens \(bytes\/4\), over max_context_tokens 10/),
      expect.stringContaining('execution.command names the file docs/state_machines/task_lifecycle.yaml'),
    ]);
    const text = readFileSync(join(root, TASK), 'utf8').split('\n');
    expect(text[(found[0] as Finding).line - 1]).toContain('"max_context_tokens": 10');
  });
});

describe('AIDER-INT-003', () => {
  it('validates recorded worker outputs with located errors; the schema matches the contract', async () => {
    const root = repo();
    expect(await findings(aider003, root)).toEqual([]);
    mkdirSync(join(root, '.state/outputs'), { recursive: true });
    const good = {
      schema_version: '1.0.0',
      schema_url: 'https://orc-state.dev/schemas/worker-output/1.0.0.json',
      task_id: 't',
      worker_id: 'w',
      status: 'success',
      files_modified: [],
      diff_summary: { files_changed: 0, insertions: 0, deletions: 0 },
      validation_status: 'skipped',
      commit_message: null,
      error: null,
      metadata: { tokens_used: null, duration_seconds: 1 },
    };
    writeFileSync(join(root, '.state/outputs/t.attempt-1.worker-output.json'), JSON.stringify(good, null, 2));
    expect(await findings(aider003, root)).toEqual([]);
    writeFileSync(join(root, '.state/outputs/t.attempt-2.worker-output.json'), JSON.stringify({ ...good, status: 'done', error: { error_type: 'oops', message: 'x' } }, null, 2));
    const found = (await findings(aider003, root)) as Finding[];
    expect(found.length).toBeGreaterThanOrEqual(2);
    expect(found.every((f) => f.file === '.state/outputs/t.attempt-2.worker-output.json')).toBe(true);
    expect(found.find((f) => /\/status/.test(f.message))?.line).toBe(6);
    renameSync(join(root, '.state/outputs/t.attempt-2.worker-output.json'), join(root, '.state/outputs/t.attempt-2.worker-output.json.bak'));
    expect(await findings(aider003, root)).toEqual([]);
  });
});
