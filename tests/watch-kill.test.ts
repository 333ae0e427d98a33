// `orc-state watch` SIGKILLed (its whole process group) while it rewrites DAG and plan files after task edits,
// at seeded random moments: every file left in .state/ still parses (derived files are replaced by rename,
// never torn), `doctor --repair` leaves nothing to report, the next writer (`orc-state plan`) takes the lock and
// makes the DAG and plan files fresh (DAG-VIEW-001..003 and STATE-OBS-003 pass), and the snapshot and the log,
// which watch never writes, are byte-for-byte what they were.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCompliance } from '../src/compliance/runner.js';
import { doctor } from '../src/engine/doctor.js';
import { isTempFileName } from '../src/io/atomic-write.js';
import { rng } from '../src/util/random.js';
import { copyExampleRepo, PROJECT, removeDirs, withState } from './compliance-helpers.js';

const BIN = join(PROJECT, 'bin/orc-state.js');
const ROUNDS = 20;
const dirs: string[] = [];
let root = '';

beforeAll(async () => {
  root = await withState(copyExampleRepo('orc-watch-kill-'));
  dirs.push(root);
});
afterAll(() => removeDirs(dirs));

function taskFiles(): string[] {
  const out: string[] = [];
  for (const ws of readdirSync(join(root, 'tasks'), { withFileTypes: true })) {
    if (!ws.isDirectory() || ws.name.startsWith('.')) continue;
    for (const f of readdirSync(join(root, 'tasks', ws.name))) if (f.endsWith('.json')) out.push(join(root, 'tasks', ws.name, f));
  }
  return out.sort();
}

/** Start watch in its own process group; resolves once it printed its ready line. */
function startWatch(): Promise<{ pid: number; exited: Promise<string | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'watch', '--json', '--debounce', '20', '--root', root], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let err = '';
    let ready = false;
    const exited = new Promise<string | null>((done) => child.on('exit', (_code, signal) => done(signal)));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if ((JSON.parse(line) as { type: string }).type === 'ready' && !ready) {
        ready = true;
        resolve({ pid: child.pid!, exited });
      }
    });
    child.on('error', reject);
    void exited.then((signal) => {
      if (!ready) reject(new Error(`watch ended before it was ready (signal ${signal}): ${err}`));
    });
  });
}

describe('orc-state watch killed while it writes', () => {
  it(`SIGKILL at ${ROUNDS} seeded moments after task edits: no torn file, doctor clean, the next writer refreshes, state untouched`, async () => {
    const random = rng(20261202);
    const snapshot = readFileSync(join(root, '.state/current.json'));
    const log = readFileSync(join(root, '.state/transitions.jsonl'));
    const files = taskFiles();
    expect(files.length).toBeGreaterThan(1);
    for (let round = 0; round < ROUNDS; round++) {
      const watch = await startWatch();
      // Rename a task or two: their workstreams' DAG and plan files must be rewritten.
      for (const file of [files[round % files.length]!, files[(round * 7 + 3) % files.length]!]) {
        const task = JSON.parse(readFileSync(file, 'utf8')) as { name: string };
        task.name = `${task.name.replace(/ \(edit \d+\)$/, '')} (edit ${round})`;
        writeFileSync(file, `${JSON.stringify(task, null, 2)}\n`);
      }
      await new Promise((r) => setTimeout(r, Math.floor(random() * 250)));
      process.kill(-watch.pid, 'SIGKILL');
      expect(await watch.exited).toBe('SIGKILL');

      for (const name of readdirSync(join(root, '.state'))) {
        if (!name.endsWith('.json') || isTempFileName(name)) continue;
        expect(() => JSON.parse(readFileSync(join(root, '.state', name), 'utf8')), `round ${round}: .state/${name}`).not.toThrow();
      }
      await doctor(root, { repair: true });
      const after = await doctor(root);
      expect(after.remaining, `round ${round}`).toEqual([]);
      const plan = spawnSync(process.execPath, [BIN, 'plan', '--root', root, '--json'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      expect(plan.status, plan.stderr).toBe(0);
      const report = await runCompliance({ root, requirements: ['DAG-VIEW-001', 'DAG-VIEW-002', 'DAG-VIEW-003', 'STATE-OBS-003'] });
      expect(report.requirements.map((r) => [r.id, r.status]), `round ${round}`).toEqual([
        ['STATE-OBS-003', 'PASS'],
        ['DAG-VIEW-001', 'PASS'],
        ['DAG-VIEW-002', 'PASS'],
        ['DAG-VIEW-003', 'PASS'],
      ]);
    }
    expect(readFileSync(join(root, '.state/current.json')).equals(snapshot)).toBe(true);
    expect(readFileSync(join(root, '.state/transitions.jsonl')).equals(log)).toBe(true);
  }, 120_000);
});
