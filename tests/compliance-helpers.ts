/**
 * Test helpers for the compliance tests: copy the project's example repo
 * (tasks/, capabilities/, .state/, docs/, specifications/, schemas/, src/,
 * scripts/ …, without node_modules, dist, .git, tests, bench) into a temp dir;
 * give a copy a .state/ through the engine when it has none.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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

/** The repo with .state/ created by the engine (init + sync) when it is not shipped yet; returns `dir`. */
export async function withState(dir: string): Promise<string> {
  if (!existsSync(join(dir, '.state', 'current.json'))) {
    const engine = await import('../src/engine/init.js');
    const commit = await import('../src/engine/commit.js');
    await engine.initStore(dir);
    await commit.syncDefinitions(dir);
  }
  return dir;
}
