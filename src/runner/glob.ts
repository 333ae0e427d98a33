/**
 * Glob matching for `context_requirements.exclude_patterns` (and anything else
 * that matches repo-relative '/' paths against patterns), on picomatch 4.
 *
 * Public API (stable): globToRegExp(pattern) → RegExp, matchesGlob(path, pattern) → boolean,
 * matchesAny(path, patterns) → the first matching pattern or undefined,
 * compileGlobs(patterns) → (path) => boolean.
 * Syntax (picomatch's): `**` any number of path segments (including none; `a/**`
 * also matches `a` itself), `*` any run of characters inside one segment, `?`
 * one character except '/', `[abc]`, `[a-z]`, `[!abc]` classes, `{a,b}`
 * alternatives, `\x` a literal x. Patterns without a '/' match a base name at
 * any depth (gitignore habit: `*.pyc` ≡ `**​/*.pyc`). Dot files match like any
 * other file (`dot: true`); `[!ab]` is a negated class (`posix: true`): an exclude pattern must never let `.env` through by accident.
 * Integration points: ./context.ts (context selection), rule AIDER-INT-002,
 * rule MOD-IDX-001 (module globs from orc-state.config.json).
 * Dependencies: picomatch.
 */
import picomatch from 'picomatch';

// posix: `[!ab]` is a negated class (without it picomatch also reads it as the literal text `[!ab]`).
const OPTIONS: picomatch.PicomatchOptions = { dot: true, posix: true };
const cache = new Map<string, (path: string) => boolean>();

function normalisePattern(pattern: string): string {
  const p = pattern.replace(/^\.\//, '');
  return p.includes('/') ? p : `**/${p}`;
}

function normalisePath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^\.\//, '');
}

function matcher(pattern: string): (path: string) => boolean {
  let fn = cache.get(pattern);
  if (!fn) {
    fn = picomatch(normalisePattern(pattern), OPTIONS);
    cache.set(pattern, fn);
  }
  return fn;
}

export function globToRegExp(pattern: string): RegExp {
  return picomatch.makeRe(normalisePattern(pattern), OPTIONS);
}

export function matchesGlob(path: string, pattern: string): boolean {
  return matcher(pattern)(normalisePath(path));
}

export function matchesAny(path: string, patterns: readonly string[]): string | undefined {
  const p = normalisePath(path);
  return patterns.find((pattern) => matcher(pattern)(p));
}

/** One predicate for a list of patterns (true when any matches). */
export function compileGlobs(patterns: readonly string[]): (path: string) => boolean {
  const fns = patterns.map(matcher);
  return (path) => {
    const p = normalisePath(path);
    return fns.some((fn) => fn(p));
  };
}
