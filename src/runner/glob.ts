/**
 * Glob matching for `context_requirements.exclude_patterns` (and anything else
 * that matches repo-relative '/' paths against patterns).
 *
 * Public API (stable): globToRegExp(pattern) → RegExp, matchesGlob(path, pattern) → boolean,
 * matchesAny(path, patterns) → the first matching pattern or undefined.
 * Syntax: `**` any number of path segments (including none), `*` any run of
 * characters inside one segment, `?` one character except '/', `[abc]`,
 * `[a-z]`, `[!abc]` character classes, `{a,b}` alternatives (may nest
 * other syntax), `\x` a literal x. Patterns without a '/' match a base name at
 * any depth (gitignore habit: `*.pyc` ≡ `**​/*.pyc`). Dot files match like any
 * other file: an exclude pattern must never let `.env` through by accident.
 * Why not `path.matchesGlob`: it exists on Node 20.20 but is experimental and
 * prints an ExperimentalWarning on first use; tests check both agree.
 * Integration points: ./context.ts (context selection), rule AIDER-INT-002.
 * Dependencies: none.
 */

const cache = new Map<string, RegExp>();

function escapeChar(c: string): string {
  return /[\\^$.*+?()[\]{}|]/.test(c) ? `\\${c}` : c;
}

function translate(pattern: string): string {
  let out = '';
  let i = 0;
  let braces = 0;
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) {
      out += escapeChar(pattern[i + 1] as string);
      i += 2;
      continue;
    }
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // `**` as a whole segment: zero or more segments.
        const atStart = i === 0 || pattern[i - 1] === '/';
        let j = i;
        while (pattern[j] === '*') j++;
        const atEnd = j === pattern.length || pattern[j] === '/';
        if (atStart && atEnd) {
          if (j === pattern.length) out = i === 0 ? '.*' : `${out.slice(0, -1)}(?:/.*)?`; // `a/**` also matches `a`
          else {
            out += '(?:[^/]*(?:/[^/]*)*/)?';
            j++; // the '/' after '**'
          }
          i = j;
          continue;
        }
        out += '[^/]*';
        i = j;
        continue;
      }
      out += '[^/]*';
      i++;
      continue;
    }
    if (c === '?') {
      out += '[^/]';
      i++;
      continue;
    }
    if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) {
        out += '\\[';
        i++;
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      body = body.replace(/[\\\]^]/g, (m) => `\\${m}`);
      out += negate ? `[^/${body}]` : `[${body}]`;
      i = close + 1;
      continue;
    }
    if (c === '{') {
      braces++;
      out += '(?:';
      i++;
      continue;
    }
    if (c === '}' && braces > 0) {
      braces--;
      out += ')';
      i++;
      continue;
    }
    if (c === ',' && braces > 0) {
      out += '|';
      i++;
      continue;
    }
    out += escapeChar(c);
    i++;
  }
  while (braces-- > 0) out += ')';
  return out;
}

export function globToRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (re) return re;
  let p = pattern.replace(/^\.\//, '');
  if (!p.includes('/')) p = `**/${p}`;
  re = new RegExp(`^${translate(p)}$`);
  cache.set(pattern, re);
  return re;
}

export function matchesGlob(path: string, pattern: string): boolean {
  const normalized = path.replace(/\\/g, '/').replace(/^\.\//, '');
  return globToRegExp(pattern).test(normalized);
}

export function matchesAny(path: string, patterns: readonly string[]): string | undefined {
  return patterns.find((p) => matchesGlob(path, p));
}
