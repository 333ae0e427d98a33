/**
 * SCHEMA-VER-002 (MUST): every schema migration is documented and tooled.
 * Checks, against the migration registry the tool itself runs
 * (src/migrate/chain.ts), so docs and tool cannot drift:
 *  - docs/schema_migrations/ exists with a README.md that links each step's document;
 *  - each registered upgrade step has `docs/schema_migrations/<step id>.md` with
 *    sections (headings of any level) Steps, Deprecated Fields, Compatibility Window and Tool (and
 *    Rollback when the registry holds the reverse step), naming the tool
 *    `orc-state migrate` and every fact the step declares (defaults, fields);
 *  - every `<kind>_v<a>_to_v<b>.md` document belongs to a registered step.
 * Those document checks run in the full gate profile only: in a user's repo
 * our migrations are ours to document, not theirs. In every profile (the
 * runtime part): every version the registry knows reaches the current one
 * through registered steps, and each task file the repo holds in an older
 * version is named (a notice) with the `orc-state migrate` command that
 * rewrites it (it is upgraded in memory meanwhile).
 *
 * Public API (stable): rule, REQUIRED_SECTIONS.
 * Integration points: discovered by the compliance runner; reads docs/schema_migrations/
 * and the memoised 'tasks' load.
 * Dependencies: node:fs, node:path, ../../migrate/chain.js, ../../repo/load-tasks.js, ../types.js, ../../model.js.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from '../../model.js';
import { DEFAULT_REGISTRY, FILE_KINDS, type MigrationStep } from '../../migrate/chain.js';
import { loadTasks, type TaskSet } from '../../repo/load-tasks.js';
import { normaliseHeading, scanMarkdown } from '../markdown.js';
import type { Rule, RuleContext } from '../types.js';

const RID = 'SCHEMA-VER-002';
const DIR = 'docs/schema_migrations';
export const REQUIRED_SECTIONS = ['Steps', 'Deprecated Fields', 'Compatibility Window', 'Tool'] as const;
const DOC_NAME = new RegExp(`^(${FILE_KINDS.join('|')})_v[0-9.]+_to_v[0-9.]+\\.md$`);

function finding(file: string, line: number, message: string, fix: string): Finding {
  return { requirement: RID, severity: 'error', file, line, column: 1, message, fix };
}

/** Headings of any level below the title (content, not form), by normalised text → line. */
function headings(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const scan = scanMarkdown(text);
  for (const h of scan.headings) {
    if (h === scan.headings[0] && h.level === 1) continue;
    const key = normaliseHeading(h.text);
    if (!out.has(key)) out.set(key, h.line);
  }
  return out;
}

function hasSection(found: Map<string, number>, section: string): boolean {
  const want = ` ${normaliseHeading(section)} `;
  for (const key of found.keys()) if (` ${key} `.includes(want)) return true;
  return false;
}

function isUpgrade(step: MigrationStep): boolean {
  const a = step.from.split('.').map(Number);
  const b = step.to.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

/** The runtime part: the tool reaches the current version from every known one, and old task files are named. */
function toolFindings(ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const kind of FILE_KINDS) {
    const current = DEFAULT_REGISTRY.currentVersion(kind);
    if (!current || DEFAULT_REGISTRY.steps(kind).length === 0) continue;
    for (const version of DEFAULT_REGISTRY.versions(kind)) {
      try {
        DEFAULT_REGISTRY.path(kind, version, current);
      } catch {
        findings.push(finding('src/migrate/chain.ts', 1, `\`orc-state migrate\` cannot upgrade ${kind} files from ${version} to ${current}: no chain of registered steps`, `register the missing ${kind} step(s) in the migration registry`));
      }
    }
  }
  let set: TaskSet | undefined;
  try {
    set = ctx.once('tasks', () => loadTasks(ctx.root, { texts: 'on-demand' }));
  } catch {
    set = undefined; // an unreadable tasks/ tree is reported by TASK-DEF-001/002
  }
  const current = DEFAULT_REGISTRY.currentVersion('task');
  const major = current?.split('.')[0];
  const majorDot = `${major}.`;
  for (const t of set?.tasks.values() ?? []) {
    // An older minor of the current major (2.0.0 under 2.1.0) is read as it is (minor = new optional fields only);
    // only an older major goes through the migration chain in memory. (Same major = split('.')[0] equal, without a split per task.)
    const sv = t.sourceVersion;
    if (!current || sv === current || sv === major || sv.startsWith(majorDot)) continue;
    const at = t.locate(['schema_version']);
    findings.push({
      requirement: RID,
      severity: 'notice',
      file: t.file,
      line: at.line,
      column: at.column,
      message: `${t.file} is task schema ${t.sourceVersion}: it is upgraded to ${current} in memory on every load`,
      fix: `rewrite it once with \`orc-state migrate --from ${t.sourceVersion} --to ${current}\` (dry run first with --dry-run)`,
    });
  }
  return findings;
}

export const rule: Rule = {
  id: RID,
  level: 'MUST',
  section: 'tasks',
  documents: `the migration documents under ${DIR}/ (they document orc-state's own migrations)`,
  title: 'Schema migrations are documented and tooled',
  tasks: 'summary', // reads only summaryOf(task), file, sourceVersion and locate
  check(ctx) {
    const steps = DEFAULT_REGISTRY.steps();
    if (steps.length === 0) return { skip: 'the migration registry holds no steps: nothing to document' };
    const tool = toolFindings(ctx);
    if (ctx.profile === 'runtime') return { findings: tool };
    const findings: Finding[] = [...tool];
    const dirAbs = join(ctx.root, DIR);
    if (!existsSync(dirAbs)) {
      return {
        findings: [...tool, finding(DIR, 1, `${DIR}/ is missing: ${steps.length} registered migration step(s) are undocumented`, `create ${DIR}/ with README.md and one document per upgrade step (${steps.filter(isUpgrade).map((s) => `${s.id}.md`).join(', ')})`)],
      };
    }
    const upgrades = steps.filter(isUpgrade);
    const docNames = new Set(readdirSync(dirAbs));

    // README: exists and links every step document.
    const readme = `${DIR}/README.md`;
    if (!docNames.has('README.md')) findings.push(finding(readme, 1, 'README.md is missing: it lists the migrations per file kind', `add ${readme} with a table of file kinds, current versions and their migration documents`));
    else {
      const text = readFileSync(join(dirAbs, 'README.md'), 'utf8');
      for (const step of upgrades) {
        if (!text.includes(`(${step.doc})`) && !text.includes(`(./${step.doc})`)) {
          findings.push(finding(readme, 1, `README.md does not link ${step.doc} (migration ${step.id}, ${step.kind} ${step.from} → ${step.to})`, `add a row or link [${step.id}](${step.doc})`));
        }
      }
    }

    // One document per upgrade step, with the sections and facts.
    for (const step of upgrades) {
      const file = `${DIR}/${step.id}.md`;
      if (step.doc !== `${step.id}.md`) {
        findings.push(finding(file, 1, `migration step ${step.id} is documented as ${step.doc}; documents are named after their step`, `rename the document to ${step.id}.md and update the registry`));
      }
      if (!docNames.has(`${step.id}.md`)) {
        findings.push(finding(file, 1, `migration ${step.id} (${step.kind} ${step.from} → ${step.to}) has no document`, `write ${file} with sections ${REQUIRED_SECTIONS.join(', ')}`));
        continue;
      }
      const text = readFileSync(join(dirAbs, `${step.id}.md`), 'utf8');
      const found = headings(text);
      const reverse = DEFAULT_REGISTRY.find(step.kind, step.to, step.from);
      const required: string[] = [...REQUIRED_SECTIONS, ...(reverse ? ['Rollback'] : [])];
      for (const section of required) {
        if (!hasSection(found, section)) {
          findings.push(
            finding(
              file,
              1,
              `${step.id}.md has no "${section}" section (a heading of any level)${section === 'Rollback' ? ` (the registry has the reverse step ${reverse?.id})` : ''}`,
              `add a "## ${section}" section describing the ${section.toLowerCase()} of this migration`,
            ),
          );
        }
      }
      const lower = text.toLowerCase();
      for (const fact of step.docFacts ?? ['orc-state migrate']) {
        if (!lower.includes(fact.toLowerCase())) {
          findings.push(finding(file, found.get(normaliseHeading('Steps')) ?? 1, `${step.id}.md does not mention "${fact}", which the migration step uses`, `document "${fact}" (the tool's behaviour changed, or the document is out of date)`));
        }
      }
    }

    // Every migration document belongs to a registered step.
    for (const name of [...docNames].sort()) {
      if (!DOC_NAME.test(name)) continue;
      const id = name.slice(0, -3);
      if (!steps.some((s) => s.id === id)) {
        findings.push(finding(`${DIR}/${name}`, 1, `${name} documents a migration that \`orc-state migrate\` does not have (registered: ${steps.map((s) => s.id).join(', ')})`, 'register the step in src/migrate/chain.ts, or remove the document'));
      }
    }
    return { findings };
  },
};
