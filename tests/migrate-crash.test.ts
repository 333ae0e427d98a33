import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { validate } from '../src/schema/registry.js';
import { migrateFiles, rollbackMigration } from '../src/migrate/run.js';
import { generateV1Tasks } from '../bench/migrate-input.js';
import { ensureBuilt } from './migrate-build-helper.js';
import { treeFiles as files } from './migrate-helpers.js';

const CHILD = join(import.meta.dirname, 'fixtures/migrate/crash-child.mjs');
const COUNT = 1000;

function runChild(root: string, killAfter: number): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, root, String(killAfter)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal || code === 0 ? resolve(signal) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

describe('crash safety: SIGKILL during a migration of 1,000 files', () => {
  let original: Map<string, Buffer>;
  let clean: Map<string, Buffer>;
  let template: string;

  beforeAll(async () => {
    ensureBuilt('dist/src/migrate/run.js', ['src/migrate', 'src/io']);
    template = mkdtempSync(join(tmpdir(), 'orc-crash-template-'));
    generateV1Tasks(join(template, 'tasks'), COUNT);
    original = files(join(template, 'tasks'));
    const cleanRoot = mkdtempSync(join(tmpdir(), 'orc-crash-clean-'));
    cpSync(template, cleanRoot, { recursive: true });
    await migrateFiles({ root: cleanRoot, from: '1.0.0', to: '2.0.0', backup: false });
    clean = files(join(cleanRoot, 'tasks'));
  });

  it('re-running finishes the job: every file valid v2 and byte-equal to a clean run; rollback restores all', async () => {
    const root = mkdtempSync(join(tmpdir(), 'orc-crash-'));
    cpSync(template, root, { recursive: true });
    const signal = await runChild(root, 437);
    expect(signal).toBe('SIGKILL');
    // Each file is either old or new, never partial; some of each.
    const mid = files(join(root, 'tasks'));
    const versions = [...mid.entries()].filter(([n]) => n.endsWith('.json')).map(([, b]) => JSON.parse(b.toString('utf8')).schema_version as string);
    expect(versions.filter((v) => v === '2.0.0').length).toBeGreaterThanOrEqual(437);
    expect(versions.filter((v) => v === '1.0.0').length).toBeGreaterThan(0);

    const rerun = await migrateFiles({ root, from: '1.0.0', to: '2.0.0' });
    expect(rerun.ok).toBe(true);
    expect(rerun.resumed).toBe(true);
    const after = files(join(root, 'tasks'));
    expect([...after.keys()].filter((n) => !n.endsWith('.json'))).toEqual([]); // no temp files left behind
    expect(after.size).toBe(COUNT);
    for (const [name, bytes] of after) {
      expect(bytes.equals(clean.get(name) as Buffer), name).toBe(true);
      expect(validate('task', '2.0.0', JSON.parse(bytes.toString('utf8'))).valid, name).toBe(true);
    }
    // One backup holds every original, although the run was split in two.
    expect(readdirSync(join(root, 'tasks/.backups'))).toHaveLength(1);
    const back = await rollbackMigration({ root, backupCurrent: false });
    expect(back.ok).toBe(true);
    const restored = files(join(root, 'tasks'));
    for (const [name, bytes] of original) expect(bytes.equals(restored.get(name) as Buffer), name).toBe(true);
  });

  it('a kill at any moment (from outside, while backing up or replacing) is completed by a re-run', async () => {
    const root = mkdtempSync(join(tmpdir(), 'orc-crash-ext-'));
    cpSync(template, root, { recursive: true });
    const child = spawn(process.execPath, [CHILD, root, '0'], { stdio: 'ignore' });
    // Kill as soon as the journal exists: the run is then somewhere between backing up and replacing.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        const base = join(root, 'tasks/.backups');
        const started = existsSync(base) && readdirSync(base).some((d) => existsSync(join(base, d, 'manifest.json')));
        if (started || child.exitCode !== null) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        }
      }, 2);
    });
    await new Promise((resolve) => child.once('exit', resolve).exitCode !== null && resolve(null));
    const rerun = await migrateFiles({ root, from: '1.0.0', to: '2.0.0' });
    expect(rerun.ok).toBe(true);
    const after = files(join(root, 'tasks'));
    expect(after.size).toBe(COUNT);
    for (const [name, bytes] of after) expect(bytes.equals(clean.get(name) as Buffer), name).toBe(true);
    await rollbackMigration({ root, backupCurrent: false });
    const restored = files(join(root, 'tasks'));
    for (const [name, bytes] of original) expect(bytes.equals(restored.get(name) as Buffer), name).toBe(true);
  });
});
