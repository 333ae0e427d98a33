/**
 * Test helper: make sure dist/ holds a build at least as new as the sources a
 * child process will import. Test files run in parallel workers, so the build
 * is serialised with a lock directory; whoever waits re-checks freshness.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const PROJECT = join(import.meta.dirname, '..');

function newestSource(dirs: string[]): number {
  let newest = 0;
  for (const dir of dirs) {
    for (const f of readdirSync(join(PROJECT, dir))) if (f.endsWith('.ts')) newest = Math.max(newest, statSync(join(PROJECT, dir, f)).mtimeMs);
  }
  return newest;
}

function fresh(output: string, dirs: string[]): boolean {
  const out = join(PROJECT, output);
  return existsSync(out) && statSync(out).mtimeMs >= newestSource(dirs);
}

export function ensureBuilt(output: string, sourceDirs: string[]): void {
  if (fresh(output, sourceDirs)) return;
  const lock = join(PROJECT, 'dist', '.test-build-lock');
  mkdirSync(join(PROJECT, 'dist'), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock} (remove it if no test is running)`);
      execFileSync('sleep', ['0.2']);
    }
  }
  try {
    if (fresh(output, sourceDirs)) return;
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: PROJECT, stdio: 'pipe' });
    } catch {
      // tsc emits even when another part of the tree has type errors.
    }
    if (!existsSync(join(PROJECT, output))) throw new Error(`${output} was not built`);
  } finally {
    rmdirSync(lock);
  }
}
