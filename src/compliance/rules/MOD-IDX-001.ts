/**
 * MOD-IDX-001 (MUST): every module the repository names opens with a header
 * comment (before any code) that names its public API, the stability of its
 * exports (stable / experimental / internal), its integration points and its
 * dependencies.
 *
 * Where it applies is the repository's choice: orc-state.config.json's
 * "module_index" names the module globs (include/exclude, picomatch), the
 * comment style (jsdoc `/** … *\/`, block `/* … *\/`, line `//`, hash `#`,
 * docstring `"""`) and optionally an example module of that repo named in the
 * fixes. Without "module_index" the requirement is N/A (a document
 * requirement: full profile only, see src/compliance/profile.ts).
 *
 * Public API (stable): rule, headerProblems(text, style?) → HeaderCheck, listModules(root, config).
 * Integration points: discovered by the compliance runner; ctx.gate (the runner's
 * gate settings) or loadGateConfig(root).
 * Dependencies: node:fs, node:path, picomatch, ../profile.js, ../../runner/glob.js.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import picomatch from 'picomatch';
import type { Finding } from '../../model.js';
import { compileGlobs } from '../../runner/glob.js';
import { loadGateConfig, type HeaderStyle, type ModuleIndexConfig } from '../profile.js';
import type { Rule } from '../types.js';

const RID = 'MOD-IDX-001';

const PARTS: Array<[string, RegExp]> = [
  ['its public API', /public\s+api/i],
  ['the stability of its exports (stable, experimental or internal)', /\b(stable|experimental|internal)\b/i],
  ['its integration points', /integration\s+points?/i],
  ['its dependencies', /\bdependenc(y|ies)\b/i],
];

const STYLE_TEXT: Record<HeaderStyle, string> = {
  jsdoc: 'a doc comment (/** … */)',
  block: 'a block comment (/* … */)',
  line: 'a run of // comment lines',
  hash: 'a run of # comment lines',
  docstring: 'a module docstring (""" … """)',
};

const TEMPLATE: Record<HeaderStyle, string> = {
  jsdoc: '/** What it does. Public API (stable): … Integration points: … Dependencies: … */',
  block: '/* What it does. Public API (stable): … Integration points: … Dependencies: … */',
  line: '// What it does. / Public API (stable): … / Integration points: … / Dependencies: …',
  hash: '# What it does. / Public API (stable): … / Integration points: … / Dependencies: …',
  docstring: '"""What it does. Public API (stable): … Integration points: … Dependencies: …"""',
};

export interface HeaderCheck {
  /** Where the header comment starts (or the first code when there is none). */
  line: number;
  column: number;
  hasHeader: boolean;
  missing: string[];
}

/** Inspect the opening of a module: a shebang and blank lines may precede the header, nothing else (docstring: also # comments). */
export function headerProblems(text: string, style: HeaderStyle = 'jsdoc'): HeaderCheck {
  const src = text.replace(/^\uFEFF/, '');
  let offset = 0;
  let line = 1;
  const skipBlank = () => {
    while (offset < src.length && /\s/.test(src[offset]!)) {
      if (src[offset] === '\n') line++;
      offset++;
    }
  };
  const skipLine = () => {
    const nl = src.indexOf('\n', offset);
    offset = nl < 0 ? src.length : nl + 1;
    line++;
  };
  if (src.startsWith('#!')) skipLine();
  skipBlank();
  if (style === 'docstring') {
    while (src.startsWith('#', offset)) {
      skipLine();
      skipBlank();
    }
  }
  const lineStart = src.lastIndexOf('\n', offset - 1) + 1;
  const column = offset - lineStart + 1;
  const none: HeaderCheck = { line, column, hasHeader: false, missing: PARTS.map(([name]) => name) };
  let comment: string | undefined;
  const rest = src.slice(offset);
  switch (style) {
    case 'jsdoc':
    case 'block': {
      const open = style === 'jsdoc' ? '/**' : '/*';
      if (!rest.startsWith(open) || rest.startsWith('/**/')) return none;
      const end = rest.indexOf('*/', 2);
      comment = end < 0 ? rest : rest.slice(0, end);
      break;
    }
    case 'line':
    case 'hash': {
      const mark = style === 'line' ? '//' : '#';
      const lines = rest.split('\n');
      const run: string[] = [];
      for (const l of lines) {
        if (!l.trimStart().startsWith(mark)) break;
        run.push(l);
      }
      if (run.length === 0) return none;
      comment = run.join('\n');
      break;
    }
    case 'docstring': {
      const m = /^[rRuU]?("""|\'\'\')/.exec(rest);
      if (!m) return none;
      const quote = m[1]!;
      const end = rest.indexOf(quote, m[0].length);
      comment = end < 0 ? rest : rest.slice(0, end);
      break;
    }
  }
  return { line, column, hasHeader: true, missing: PARTS.filter(([, re]) => !re.test(comment!)).map(([name]) => name) };
}

function walk(root: string, rel: string, keep: (file: string) => boolean, out: Set<string>): void {
  let names: string[];
  try {
    names = readdirSync(join(root, rel)).sort();
  } catch {
    return;
  }
  for (const name of names) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const childRel = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(root, childRel));
    if (st.isDirectory()) walk(root, childRel, keep, out);
    else if (st.isFile() && keep(childRel)) out.add(childRel);
  }
}

/** Repo-relative ('/') modules matching the config's include globs and none of its exclude globs, sorted. */
export function listModules(root: string, config: ModuleIndexConfig): string[] {
  const included = compileGlobs(config.include);
  const excluded = compileGlobs(config.exclude);
  // Type declarations carry no module code.
  const keep = (file: string) => included(file) && !excluded(file) && !/\.d\.(ts|mts|cts)$/.test(file);
  const out = new Set<string>();
  // Walk only below each glob's static base (e.g. `src` for `src/**/*.ts`).
  const bases = new Set(config.include.map((g) => (g.includes('/') ? picomatch.scan(g.replace(/^\.\//, '')).base : '')));
  for (const base of bases) walk(root, base, keep, out);
  return [...out].sort();
}

function fixFor(config: ModuleIndexConfig, what: string): string {
  const shape = config.example ? `see ${config.example} for the shape` : `e.g. ${TEMPLATE[config.style]}`;
  return `${what} (${shape})`;
}

export const rule: Rule = {
  id: RID,
  level: 'MUST',
  section: 'docs',
  documents: true,
  title: 'Every source module opens with a module index header',
  check(ctx) {
    const config = (ctx.gate ?? loadGateConfig(ctx.root)).moduleIndex;
    if (!config) {
      return { na: 'not configured: name the modules that carry a header in orc-state.config.json, e.g. "module_index": { "include": ["src/**/*.ts"], "style": "jsdoc" }' };
    }
    const modules = listModules(ctx.root, config);
    if (modules.length === 0) return { skip: `no module matches ${config.include.join(', ')}${config.exclude.length ? ` (excluding ${config.exclude.join(', ')})` : ''}` };
    const findings: Finding[] = [];
    for (const file of modules) {
      let text: string;
      try {
        text = readFileSync(join(ctx.root, file), 'utf8');
      } catch (error) {
        findings.push({ requirement: RID, severity: 'error', file, line: 1, column: 1, message: `cannot read the module: ${(error as Error).message}`, fix: 'make the file readable' });
        continue;
      }
      const check = headerProblems(text, config.style);
      if (!check.hasHeader) {
        findings.push({
          requirement: RID,
          severity: 'error',
          file,
          line: check.line,
          column: check.column,
          message: `the module does not open with ${STYLE_TEXT[config.style]}`,
          fix: fixFor(config, `start the file with ${STYLE_TEXT[config.style]} naming: Public API (with stability: stable/experimental/internal), Integration points, Dependencies`),
        });
      } else if (check.missing.length) {
        findings.push({
          requirement: RID,
          severity: 'error',
          file,
          line: check.line,
          column: check.column,
          message: `the module's header comment does not name ${check.missing.join(', ')}`,
          fix: fixFor(config, `add ${check.missing.map((m) => m.replace(/^(its|the) /, '')).join('; ')} to the header`),
        });
      }
    }
    return { findings };
  },
};
