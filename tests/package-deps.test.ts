/**
 * Every runtime dependency in package.json is imported by shipped code
 * (src/), so nothing is installed for nothing (issue 9: write-file-atomic and
 * graphlib were); and the package ships what users need and no source maps.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; files: string[]; scripts: Record<string, string> };

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const abs = join(dir, name);
    if (statSync(abs).isDirectory()) sources(abs, out);
    else if (name.endsWith('.ts')) out.push(readFileSync(abs, 'utf8'));
  }
  return out;
}

describe('package.json', () => {
  it('every dependency is imported by src/ (import.meta.resolve counts: serve ships dagre\'s browser build)', () => {
    const text = sources(join(ROOT, 'src')).join('\n');
    const unused = Object.keys(pkg.dependencies).filter((name) => {
      const esc = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      return !new RegExp(`(from\\s+|require(?:Cjs)?\\(|import\\(|import\\.meta\\.resolve\\()['"]${esc}(/[^'"]*)?['"]`).test(text);
    });
    expect(unused).toEqual([]);
  });

  it('builds on pack and ships bin, dist/src without maps, drop-ins, schemas, machine YAMLs and LICENSE', () => {
    // prepare runs the build: tsc, then the standalone validators written from schemas/ (scripts/build-validators.ts)
    expect(pkg.scripts.prepare).toBe('npm run build');
    expect(pkg.scripts.build).toMatch(/^tsc -p tsconfig\.json && node dist\/scripts\/build-validators\.js$/);
    expect(pkg.files).toEqual(expect.arrayContaining(['bin', 'dist/src', '!dist/src/**/*.map', 'scripts/validate', 'schemas', 'docs/state_machines', 'assets', 'LICENSE']));
    expect(pkg.files.some((f) => f === 'dist' || f.startsWith('dist/bench') || f === 'src' || f === 'tests')).toBe(false);
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });
});
