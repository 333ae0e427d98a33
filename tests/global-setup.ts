// Every temporary directory the suite makes (repos, private builds, the per-user caches, fake executables)
// goes under one directory per run, removed when the run ends: a suite run used to leave ~1,000 directories
// in /tmp. TMPDIR is set before any test worker starts, so workers and the processes they spawn inherit it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const base = mkdtempSync(join(tmpdir(), 'orc-state-tests-'));
  process.env.TMPDIR = base;
  return () => {
    try {
      rmSync(base, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // e.g. a mount a killed test left behind: the directory stays for a person to look at
    }
  };
}
