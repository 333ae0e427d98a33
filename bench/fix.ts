/**
 * Benchmark: the generic `validate --fix` repairs (src/compliance/fix/) on N
 * generated task files (default 10,000) that each lack `schema_url` and hold a
 * stale `blocks` list: every file gets two text-preserving edits through the
 * project's JSON editor and a durable replace.
 *
 * Usage: npm run bench:fix [-- N]
 * Prints the repair time next to a floor (read + JSON.parse + stringify +
 * durable replace of the same files), and the JSON editor alone on the same
 * texts (no I/O: the figure a change of editor moves).
 * Public API (internal): none (script).
 * Integration points: npm script bench:fix; shares the generator of bench:migrate.
 * Dependencies: node:child_process (sync), node:fs, node:os, node:path,
 * ../src/compliance/fix/index.js, ../src/migrate/json-edit.js, ../src/migrate/run.js, ../src/migrate/backup.js, ./migrate-input.js.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGenericFixes } from '../src/compliance/fix/index.js';
import { applyJsonEdits } from '../src/migrate/json-edit.js';
import { writeFilesDurably } from '../src/migrate/backup.js';
import { listTaskLikeFiles, migrateFiles } from '../src/migrate/run.js';
import { fileCountArg, fileTimer, generateV1Tasks } from './migrate-input.js';

const count = fileCountArg('fix');

const work = mkdtempSync(join(tmpdir(), 'orc-bench-fix-'));
const template = join(work, 'template');
generateV1Tasks(join(template, 'tasks'), count);
const migrated = await migrateFiles({ root: template, from: '1.0.0', to: '2.0.0', backup: false });
if (!migrated.ok) throw new Error(`setup: migrate failed: ${JSON.stringify(migrated.findings.slice(0, 3))}`);
// Break what --fix repairs: drop schema_url, and give each file a stale `blocks` entry.
for (const f of listTaskLikeFiles(join(template, 'tasks'))) {
  const text = readFileSync(f, 'utf8');
  writeFileSync(f, text.replace(/\n\s*"schema_url": "[^"]*",/, '').replace(/"blocks": \[\s*\]/, '"blocks": ["no-such-task"]').replace(/"blocks": \[(?=\s*")/, '"blocks": ["no-such-task", '));
}
for (const name of ['floor', 'fix']) cpSync(template, join(work, name), { recursive: true });
execFileSync('sync');

const time = fileTimer(count);

console.log(`bench:fix  ${count} task files, each missing schema_url with a stale blocks entry, node ${process.version}`);
try {
  await time('floor, durable', async () => {
    const files = listTaskLikeFiles(join(work, 'floor', 'tasks')).map((f) => ({ path: f, data: Buffer.from(`${JSON.stringify(JSON.parse(readFileSync(f, 'utf8')), null, 2)}\n`) }));
    await writeFilesDurably(files);
  });
  // The editor alone, no I/O: the two edits --fix makes, on every file's text (what the library swap changes).
  const texts = listTaskLikeFiles(join(work, 'floor', 'tasks')).map((f) => readFileSync(join(work, 'fix', 'tasks', f.slice(join(work, 'floor', 'tasks').length)), 'utf8'));
  let edited = 0;
  await time('editor only', () => {
    for (const text of texts) {
      const out = applyJsonEdits(text, [
        { op: 'set', path: ['schema_url'], value: 'https://orc-state.dev/schemas/task/2.0.0.json', after: ['schema_version'] },
        { op: 'set', path: ['blocks'], value: [] },
      ]);
      if (out.length > text.length) edited++;
    }
  });
  if (edited !== count) throw new Error(`editor only: ${edited} of ${count} files grew`);
  let repairs = 0;
  await time('validate --fix', () => {
    const result = runGenericFixes(join(work, 'fix'), new Set(['TASK-DEF-002', 'SCHEMA-VER-001']));
    for (const list of result.values()) repairs += list.length;
  });
  const sample = readFileSync(listTaskLikeFiles(join(work, 'fix', 'tasks'))[0]!, 'utf8');
  if (!sample.includes('"schema_url"') || sample.includes('no-such-task')) throw new Error('the repairs did not happen');
  console.log(`result: ${repairs} repairs on ${count} files`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
