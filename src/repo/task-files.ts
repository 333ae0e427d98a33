/**
 * The task files on disk, listed without loading them: every regular `tasks/**.json`
 * (symbolic links and dot-entries such as tasks/.backups/ skipped: never written through).
 *
 * Public API (internal): listTaskFiles(root) → absolute paths, sorted by name per directory.
 * Integration points: the generic fixers (src/compliance/fix/index.ts) and SCHEMA-VER-001
 * (the files the loader refused); kept apart so a read-only gate does not load the fixers.
 * Dependencies: node:fs, node:path.
 */
import { readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';

export function listTaskFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const name = entry.name;
      if (name.startsWith('.')) continue;
      const abs = join(dir, name);
      if (entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) walk(abs);
      else if (entry.isFile() && name.endsWith('.json')) out.push(abs);
    }
  };
  walk(join(root, 'tasks'));
  return out;
}
