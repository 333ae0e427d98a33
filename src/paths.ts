/**
 * Where the installed package keeps its own files (schemas, docs templates).
 *
 * Public API (stable): packageRoot(), schemasDir().
 * Integration points: schema registry, init scaffolding.
 * Dependencies: node:fs, node:path, node:url.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The directory holding orc-state's package.json, whether run from src/ (tests) or dist/. */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'schemas'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('orc-state: cannot find its package root (package.json beside schemas/)');
    dir = parent;
  }
  cached = dir;
  return dir;
}

export function schemasDir(): string {
  return join(packageRoot(), 'schemas');
}
