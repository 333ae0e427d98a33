import * as nodePath from 'node:path';
import { describe, expect, it } from 'vitest';
import { matchesAny, matchesGlob } from '../src/runner/glob.js';

const CASES: Array<[string, string, boolean]> = [
  ['src/__pycache__/a.cpython-312.pyc', '**/__pycache__/**', true],
  ['__pycache__/a.pyc', '**/__pycache__/**', true],
  ['src/pycache/a.py', '**/__pycache__/**', false],
  ['a.pyc', '**/*.pyc', true],
  ['deep/er/a.pyc', '**/*.pyc', true],
  ['a.pyc.txt', '**/*.pyc', false],
  ['node_modules/x/index.js', '**/node_modules/**', true],
  ['web/node_modules/x/index.js', '**/node_modules/**', true],
  ['web/node_modules_old/x.js', '**/node_modules/**', false],
  ['src/a.ts', 'src/*.ts', true],
  ['src/sub/a.ts', 'src/*.ts', false],
  ['src/sub/a.ts', 'src/**/*.ts', true],
  ['src/a.ts', 'src/**/*.ts', true],
  ['src/a.js', 'src/*.{ts,js}', true],
  ['src/a.md', 'src/*.{ts,js}', false],
  ['src/a1.ts', 'src/a?.ts', true],
  ['src/a12.ts', 'src/a?.ts', false],
  ['src/b.ts', 'src/[ab].ts', true],
  ['src/c.ts', 'src/[!ab].ts', true],
  ['src/a.ts', 'src/[!ab].ts', false],
  ['tests/fixtures/x.json', 'tests/**', true],
  ['tests', 'tests/**', true],
];

describe('glob matching', () => {
  it.each(CASES)('%s vs %s → %s', (path, pattern, expected) => {
    expect(matchesGlob(path, pattern)).toBe(expected);
  });

  it('agrees with path.matchesGlob where Node has it', () => {
    const native = (nodePath as unknown as { matchesGlob?: (p: string, g: string) => boolean }).matchesGlob;
    if (!native) return; // older Node: the table above is the reference
    for (const [path, pattern] of CASES) {
      if (pattern === 'tests/**' && path === 'tests') continue; // deliberate: excluding `a/**` excludes the directory `a` itself; Node's glob says no
      expect(matchesGlob(path, pattern), `${path} ${pattern}`).toBe(native(path, pattern));
    }
  });

  it('matches base-name patterns at any depth and dot files too', () => {
    expect(matchesGlob('a/b/c.pyc', '*.pyc')).toBe(true);
    expect(matchesGlob('.env', '*.env')).toBe(true);
    expect(matchesGlob('config/.secrets/key', '**/.secrets/**')).toBe(true);
    expect(matchesAny('x/y.pyc', ['**/*.md', '**/*.pyc'])).toBe('**/*.pyc');
    expect(matchesAny('x/y.py', ['**/*.md', '**/*.pyc'])).toBeUndefined();
  });
});
