/**
 * COMPLIANCE-001 (MUST): the TypeScript validators replace the PowerShell
 * ones. Checks: every requirement id of the catalog has exactly one rule
 * module that loads and has the right shape; every section has at least one
 * rule; the drop-in entry points exist and are executable in scripts/validate/;
 * and the specification (specifications/content/orchestration/spec.md) names
 * every requirement id (a range such as EXEC-DOC-002..006 counts for each id in it).
 *
 * Public API (stable): rule, specMentions(text) → Set of ids named.
 * Integration points: discovered by the compliance runner; the rule registry
 * and drop-ins are the installed package's (packageRoot()), the spec is the
 * validated repo's.
 * Dependencies: ../discover.js, ../requirements.js, ../markdown.js, ../types.js,
 * ../../paths.js, node:fs, node:path.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Finding } from '../../model.js';
import { packageRoot } from '../../paths.js';
import { discoverRules, rulesDir } from '../discover.js';
import { readDoc } from '../markdown.js';
import { REQUIREMENTS } from '../requirements.js';
import { SECTIONS, type Rule } from '../types.js';

const RID = 'COMPLIANCE-001';
export const SPEC = 'specifications/content/orchestration/spec.md';
export const DROP_INS = ['validate_state_obs', 'validate_task_defs', 'validate_dag_structure', 'validate_failure_modes', 'validate_compliance'] as const;

/** Requirement ids the text names, expanding ranges like `EXEC-DOC-002..006` or `EXEC-DOC-002–006`. */
export function specMentions(text: string): Set<string> {
  const out = new Set<string>();
  const re = /(?<![A-Za-z0-9-])([A-Z][A-Z]+(?:-[A-Z]+)*)-(\d{3})(?:\s*(?:\.\.|–|—|-|to)\s*(?:\1-)?(\d{3}))?(?![0-9])/g;
  for (const m of text.matchAll(re)) {
    const prefix = m[1]!;
    const from = Number(m[2]);
    const to = m[3] ? Number(m[3]) : from;
    for (let n = from; n <= Math.min(to, from + 50); n++) out.add(`${prefix}-${String(n).padStart(3, '0')}`);
  }
  return out;
}

export const rule: Rule = {
  id: RID,
  level: 'MUST',
  section: 'docs',
  documents: true,
  title: 'Every requirement id has one validator rule and a drop-in',
  async check(ctx) {
    const findings: Finding[] = [];
    const pkg = packageRoot();
    const show = (abs: string) => {
      const r = relative(ctx.root, abs);
      return (r.startsWith('..') ? abs : r).split(sep).join('/');
    };
    const dir = rulesDir();
    // Name rule modules by their source path even when running from dist/.
    const srcRules = join(pkg, 'src', 'compliance', 'rules');
    const discovered = await discoverRules(dir);
    const implemented = new Map<string, string>();
    for (const d of discovered.rules) implemented.set(d.rule.id, d.file);
    for (const p of discovered.problems) {
      findings.push({
        requirement: RID,
        severity: 'error',
        file: show(join(srcRules, p.file.replace(/\.js$/, '.ts'))),
        line: 1,
        column: 1,
        message: `rule module for ${p.id} is broken: ${p.message}`,
        fix: 'export `rule` with id equal to the file name, a known level and section, a title and a check function',
      });
    }
    const broken = new Set(discovered.problems.map((p) => p.id));
    for (const req of REQUIREMENTS) {
      if (implemented.has(req.id) || broken.has(req.id)) continue;
      findings.push({
        requirement: RID,
        severity: 'error',
        file: show(join(srcRules, `${req.id}.ts`)),
        line: 1,
        column: 1,
        message: `requirement ${req.id} (${req.level}: ${req.title}) has no validator rule`,
        fix: `add src/compliance/rules/${req.id}.ts exporting \`rule\` that implements the requirement's check`,
      });
    }
    const sections = new Set(discovered.rules.map((d) => d.rule.section));
    for (const s of SECTIONS) {
      if (sections.has(s)) continue;
      findings.push({
        requirement: RID,
        severity: 'error',
        file: show(srcRules),
        line: 1,
        column: 1,
        message: `section "${s}" has no validator rule, so \`orc-state validate --section ${s}\` checks nothing`,
        fix: `give the rules of that area \`section: '${s}'\``,
      });
    }
    for (const name of DROP_INS) {
      const abs = join(pkg, 'scripts', 'validate', name);
      let problem: string | undefined;
      try {
        if (!statSync(abs).isFile()) problem = 'is not a file';
        else accessSync(abs, constants.X_OK);
      } catch (error) {
        problem = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'is not executable';
      }
      if (problem) {
        findings.push({
          requirement: RID,
          severity: 'error',
          file: show(abs),
          line: 1,
          column: 1,
          message: `the drop-in replacement ${name} ${problem}`,
          fix: `ship scripts/validate/${name} (executable) calling \`orc-state validate\` with the PowerShell script's parameters`,
        });
      }
    }
    const spec = readDoc(ctx, SPEC);
    if (!spec.exists) {
      findings.push({ requirement: RID, severity: 'error', file: SPEC, line: 1, column: 1, message: `${SPEC} ${spec.reason}`, fix: 'write the specification (RFC 2119 keywords) naming every requirement id and the Decisions' });
    } else {
      const named = specMentions(spec.text);
      const title = spec.scan.headings[0];
      for (const req of REQUIREMENTS) {
        if (named.has(req.id)) continue;
        findings.push({
          requirement: RID,
          severity: 'error',
          file: SPEC,
          line: title?.line ?? 1,
          column: title?.column ?? 1,
          message: `the specification never names requirement ${req.id} (${req.title})`,
          fix: `state ${req.id} (${req.level}) in the specification with RFC 2119 wording`,
        });
      }
    }
    return { findings };
  },
};
