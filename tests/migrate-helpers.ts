/**
 * Test helpers for the migrate tests: the bytes of every file under a
 * directory (tasks/.backups/ left out), keyed by '/'-separated relative path,
 * so a test can compare a whole tree before and after a run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function treeFiles(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === '.backups') continue;
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else out.set(`${rel}${e.name}`, readFileSync(join(d, e.name)));
    }
  };
  walk(dir, '');
  return out;
}
