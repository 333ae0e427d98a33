/**
 * MOD-IDX-001 (MUST): every src/**.ts module opens with a doc comment
 * (`/** … *\/`, before any code) that names its public API, the stability
 * of its exports (stable / experimental / internal), its integration points
 * and its dependencies.
 *
 * Public API (stable): rule, headerProblems(text) → missing parts.
 * Integration points: discovered by the compliance runner.
 * Dependencies: node:fs, node:path.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Finding } from '../../model.js';
import type { Rule } from '../types.js';

const RID = 'MOD-IDX-001';

const PARTS: Array<[string, RegExp]> = [
  ['its public API', /public\s+api/i],
  ['the stability of its exports (stable, experimental or internal)', /\b(stable|experimental|internal)\b/i],
  ['its integration points', /integration\s+points?/i],
  ['its dependencies', /\bdependenc(y|ies)\b/i],
];

export interface HeaderCheck {
  /** Where the header comment starts (or the first code when there is none). */
  line: number;
  column: number;
  hasHeader: boolean;
  missing: string[];
}

/** Inspect the opening of a module: shebang and blank lines may precede the doc comment, nothing else. */
export function headerProblems(text: string): HeaderCheck {
  const src = text.replace(/^\uFEFF/, '');
  let offset = 0;
  let line = 1;
  if (src.startsWith('#!')) {
    const nl = src.indexOf('\n');
    offset = nl < 0 ? src.length : nl + 1;
    line = 2;
  }
  while (offset < src.length && /\s/.test(src[offset]!)) {
    if (src[offset] === '\n') line++;
    offset++;
  }
  const lineStart = src.lastIndexOf('\n', offset - 1) + 1;
  const column = offset - lineStart + 1;
  if (!src.startsWith('/**', offset) || src.startsWith('/**/', offset)) {
    return { line, column, hasHeader: false, missing: PARTS.map(([name]) => name) };
  }
  const end = src.indexOf('*/', offset + 3);
  const comment = end < 0 ? src.slice(offset) : src.slice(offset, end);
  return { line, column, hasHeader: true, missing: PARTS.filter(([, re]) => !re.test(comment)).map(([name]) => name) };
}

function listModules(dir: string, out: string[] = []): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const name of names) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const abs = join(dir, name);
    const st = lstatSync(abs);
    if (st.isDirectory()) listModules(abs, out);
    else if (st.isFile() && /\.(ts|mts|cts)$/.test(name) && !/\.d\.(ts|mts|cts)$/.test(name)) out.push(abs);
  }
  return out;
}

export const rule: Rule = {
  id: RID,
  level: 'MUST',
  section: 'docs',
  documents: true,
  title: 'Every source module opens with a module index header',
  check(ctx) {
    const modules = listModules(join(ctx.root, 'src'));
    if (modules.length === 0) return { skip: 'no TypeScript modules under src/' };
    const findings: Finding[] = [];
    for (const abs of modules) {
      const file = relative(ctx.root, abs).split(sep).join('/');
      let text: string;
      try {
        text = readFileSync(abs, 'utf8');
      } catch (error) {
        findings.push({ requirement: RID, severity: 'error', file, line: 1, column: 1, message: `cannot read the module: ${(error as Error).message}`, fix: 'make the file readable' });
        continue;
      }
      const check = headerProblems(text);
      if (!check.hasHeader) {
        findings.push({
          requirement: RID,
          severity: 'error',
          file,
          line: check.line,
          column: check.column,
          message: 'the module does not open with a doc comment (/** … */)',
          fix: 'start the file with /** … */ naming: Public API (with stability: stable/experimental/internal), Integration points, Dependencies (see src/errors.ts)',
        });
      } else if (check.missing.length) {
        findings.push({
          requirement: RID,
          severity: 'error',
          file,
          line: check.line,
          column: check.column,
          message: `the module's header comment does not name ${check.missing.join(', ')}`,
          fix: `add ${check.missing.map((m) => m.replace(/^(its|the) /, '')).join('; ')} to the header (see src/errors.ts for the shape)`,
        });
      }
    }
    return { findings };
  },
};
