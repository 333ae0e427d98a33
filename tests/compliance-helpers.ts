/**
 * Test helpers for the compliance tests: copy the project's example repo
 * (tasks/, capabilities/, .state/, docs/, specifications/, schemas/, src/,
 * scripts/ …, without node_modules, dist, .git, tests, bench) into a temp dir.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROJECT = join(__dirname, '..');
const SKIP = new Set(['node_modules', 'dist', '.git', 'tests', 'bench', 'coverage', '.bench-tmp', 'tmp']);

export function copyExampleRepo(prefix = 'orc-compliance-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const name of readdirSync(PROJECT)) {
    if (SKIP.has(name)) continue;
    cpSync(join(PROJECT, name), join(dir, name), { recursive: true, verbatimSymlinks: true });
  }
  return dir;
}

export function removeDirs(dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
