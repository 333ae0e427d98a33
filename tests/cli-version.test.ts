// `--version` has a fast path in bin/orc-state.js; it must print the same version as the program and package.json.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_VERSION } from '../src/core/versions.js';
import { CLI, ensureBuilt, PROJECT } from './fixtures/engine/build.js';

describe('--version', () => {
  it('prints package.json version on the fast path and through the program', () => {
    ensureBuilt();
    const pkg = JSON.parse(readFileSync(join(PROJECT, 'package.json'), 'utf8')) as { version: string };
    expect(PACKAGE_VERSION).toBe(pkg.version);
    for (const args of [['--version'], ['-V'], ['--version', '--no-color']]) {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
      expect(r.stdout.trim(), args.join(' ')).toBe(pkg.version);
    }
  });
});
