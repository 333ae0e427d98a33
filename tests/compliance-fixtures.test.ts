/**
 * The per-requirement fixture harness: start from a clean copy of the
 * project's example repo, apply `tests/fixtures/compliance/breakers/<ID>.ts`
 * (which breaks exactly that requirement), run every rule in-process and
 * check that exactly that id turns FAIL (WARN for SHOULD) with new, located
 * findings, and that every other id keeps its baseline status. The registry
 * is enumerated, so a rule without a breaker fails the suite.
 *
 * A breaker may export `location = { file, line? }` (where the new finding
 * must point) and `collateral = [ids]` (other ids its break necessarily
 * affects, with the reason in its comment).
 */
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverRules } from '../src/compliance/discover.js';
import { runCompliance } from '../src/compliance/runner.js';
import type { Report, RequirementResult } from '../src/compliance/types.js';
import type { Finding } from '../src/model.js';
import { copyExampleRepo, removeDirs, withState } from './compliance-helpers.js';

const BREAKERS = join(__dirname, 'fixtures/compliance/breakers');
const { rules } = await discoverRules();
const ids = rules.map((d) => d.rule.id);
const levels = new Map(rules.map((d) => [d.rule.id, d.rule.level]));

let baselineDir = '';
let baseline: Report;
const dirs: string[] = [];

/** Build the clean repo: the shipped example repo, with .state/ created by the engine when it is not shipped yet. */
const buildBaseline = (): Promise<string> => withState(copyExampleRepo('orc-baseline-'));

const key = (f: Finding) => `${f.file}:${f.line}:${f.column}:${f.message}`;
const statusOf = (r: Report, id: string): RequirementResult | undefined => r.requirements.find((x) => x.id === id);

beforeAll(async () => {
  baselineDir = await buildBaseline();
  dirs.push(baselineDir);
  baseline = await runCompliance({ root: baselineDir, sections: [] });
});
afterAll(() => removeDirs(dirs));

describe('clean baseline', () => {
  it('every requirement is PASS or SKIP on the clean example repo', () => {
    const bad = baseline.requirements
      .filter((r) => r.status !== 'PASS' && r.status !== 'SKIP')
      .map((r) => `${r.status} ${r.id}: ${r.reason ?? r.findings.slice(0, 3).map((f) => `${f.file}:${f.line}:${f.column} ${f.message}`).join(' | ')}`);
    expect(bad).toEqual([]);
  });

  it('every rule in the registry has a breaker', () => {
    const missing = ids.filter((id) => !existsSync(join(BREAKERS, `${id}.ts`)));
    expect(missing).toEqual([]);
  });
});

describe.each(ids)('breaker %s', (id) => {
  it(`turns exactly ${id} ${levels.get(id) === 'MUST' ? 'FAIL' : 'WARN'}`, async () => {
    const file = join(BREAKERS, `${id}.ts`);
    expect(existsSync(file), `no breaker ${file}: write one that breaks exactly ${id}`).toBe(true);
    const breaker = (await import(pathToFileURL(file).href)) as {
      breakRepo: (dir: string) => void | Promise<void>;
      location?: { file: string; line?: number };
      collateral?: string[];
    };
    const dir = mkdtempSync(join(tmpdir(), `orc-break-${id}-`));
    dirs.push(dir);
    cpSync(baselineDir, dir, { recursive: true, verbatimSymlinks: true });
    await breaker.breakRepo(dir);
    const report = await runCompliance({ root: dir, sections: [] });

    const broken = statusOf(report, id)!;
    expect(broken.status, broken.reason).toBe(levels.get(id) === 'MUST' ? 'FAIL' : 'WARN');
    const before = new Set((statusOf(baseline, id)?.findings ?? []).map(key));
    const fresh = broken.findings.filter((f) => f.severity !== 'notice' && !before.has(key(f)));
    expect(fresh.length, `${id} reports nothing new after its breaker`).toBeGreaterThan(0);
    for (const f of fresh) {
      expect(f.line).toBeGreaterThanOrEqual(1);
      expect(f.column).toBeGreaterThanOrEqual(1);
      expect(f.message.length).toBeGreaterThan(0);
      expect(f.fix.length).toBeGreaterThan(0);
    }
    if (breaker.location) {
      const at = fresh.filter((f) => f.file === breaker.location!.file && (breaker.location!.line === undefined || f.line === breaker.location!.line));
      expect(at.length, `${id}: no new finding at ${breaker.location.file}:${breaker.location.line ?? '*'} (got ${fresh.map((f) => `${f.file}:${f.line}`).join(', ')})`).toBeGreaterThan(0);
    }

    const allowed = new Set([id, ...(breaker.collateral ?? [])]);
    const changed = report.requirements
      .filter((r) => !allowed.has(r.id) && r.status !== statusOf(baseline, r.id)?.status)
      .map((r) => `${r.id}: ${statusOf(baseline, r.id)?.status} → ${r.status} ${r.reason ?? r.findings.slice(0, 2).map((f) => `${f.file}:${f.line} ${f.message}`).join(' | ')}`);
    expect(changed).toEqual([]);
  });
});
