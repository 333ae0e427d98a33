/**
 * ERR-FM-001 (MUST): every failure mode file has the sections (headings of any level) Detection,
 * Probability, Impact, Manifestation, Automatic Recovery, Manual Intervention
 * and Related Failures; Manifestation holds an example event in a ```json
 * block that validates against the event schema (its schema_version's, else
 * the newest), every schema error located in the Markdown file.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner; event schema from
 * schemas/ via the registry.
 * Dependencies: ../failure-modes.js, ../markdown.js, ../../schema/registry.js,
 * ../../io/located-json.js.
 */
import type { Finding } from '../../model.js';
import { locateInText } from '../../io/located-json.js';
import { knownVersions, validate } from '../../schema/registry.js';
import { MODE_SECTIONS, modeDocs } from '../failure-modes.js';
import { findTopic, sectionRange, type DocFile } from '../markdown.js';
import type { Rule } from '../types.js';

const RID = 'ERR-FM-001';

function newest(versions: string[]): string | undefined {
  return [...versions].sort((a, b) => {
    const pa = a.split('.').map(Number);
    const pb = b.split('.').map(Number);
    for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
    return 0;
  }).at(-1);
}

function manifestationFindings(doc: Extract<DocFile, { exists: true }>): Finding[] {
  const heading = findTopic(doc.scan, 'Manifestation');
  if (!heading) return [];
  const range = sectionRange(doc.scan, heading);
  const blocks = doc.scan.code.filter((c) => c.line > range.from && c.line < range.to && (c.lang === 'json' || c.lang === 'jsonc'));
  const at = (line: number, column: number, message: string, fix: string): Finding => ({ requirement: RID, severity: 'error', file: doc.file, line, column, message, fix });
  if (blocks.length === 0) {
    return [at(heading.line, heading.column, 'the Manifestation section has no example event in a ```json block', 'add the event this failure writes to .state/transitions.jsonl, as a ```json block')];
  }
  const findings: Finding[] = [];
  const versions = knownVersions('event');
  if (versions.length === 0) throw new Error('no event schema in schemas/ (schemas/event.v*.schema.json)');
  for (const block of blocks) {
    let value: unknown;
    try {
      value = JSON.parse(block.text);
    } catch (error) {
      const m = /position (\d+)/.exec((error as Error).message);
      let line = block.contentLine;
      let column = 1;
      if (m) {
        const before = block.text.slice(0, Number(m[1]));
        const nl = before.split('\n');
        line = block.contentLine + nl.length - 1;
        column = nl.at(-1)!.length + 1;
      }
      findings.push(at(line, column, `the example event is not valid JSON: ${(error as Error).message}`, 'fix the JSON so it parses (no comments, no trailing commas)'));
      continue;
    }
    const declared = value && typeof value === 'object' ? (value as Record<string, unknown>).schema_version : undefined;
    const version = typeof declared === 'string' && versions.includes(declared) ? declared : newest(versions)!;
    const result = validate('event', version, value);
    for (const e of result.errors.slice(0, 20)) {
      const path = e.instancePath
        .split('/')
        .slice(1)
        .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
        .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      const extra = e.keyword === 'required' ? ` "${(e.params as { missingProperty: string }).missingProperty}"` : e.keyword === 'additionalProperties' ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"` : e.keyword === 'enum' ? ` (${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')})` : '';
      const loc = locateInText(block.text, path);
      findings.push(
        at(
          block.contentLine + loc.line - 1,
          loc.column,
          `the example event does not validate against the event schema ${version}: ${e.instancePath || '(the event)'} ${e.message ?? e.keyword}${extra}`,
          `make the example a real event as the engine writes it (schemas/event.v${version}.schema.json)`,
        ),
      );
    }
  }
  return findings;
}

export const rule: Rule = {
  id: RID,
  level: 'MUST',
  section: 'failure-modes',
  documents: true,
  title: 'Each failure mode file has every required section',
  check(ctx) {
    const docs = modeDocs(ctx);
    if (docs.length === 0) return { skip: 'no failure mode files under docs/failure_modes/ (ERR-FM-002 reports the catalog and missing files)' };
    const findings: Finding[] = [];
    for (const doc of docs) {
      const title = doc.scan.headings[0];
      for (const section of MODE_SECTIONS) {
        const heading = findTopic(doc.scan, section);
        if (!heading) {
          findings.push({
            requirement: RID,
            severity: 'error',
            file: doc.file,
            line: title?.line ?? 1,
            column: title?.column ?? 1,
            message: `no section on "${section}" (a heading of any level)`,
            fix: `add "## ${section}" (every mode file has ${MODE_SECTIONS.join(', ')})`,
          });
          continue;
        }
        const range = sectionRange(doc.scan, heading);
        if (!doc.scan.lines.slice(range.from, range.to - 1).some((l) => /[\p{L}\p{N}{]/u.test(l))) {
          findings.push({
            requirement: RID,
            severity: 'error',
            file: doc.file,
            line: heading.line,
            column: heading.column,
            message: `section "${"#".repeat(heading.level)} ${heading.text}" is empty`,
            fix: `describe the ${section.toLowerCase()} of this failure mode`,
          });
        }
      }
      findings.push(...manifestationFindings(doc));
    }
    return { findings };
  },
};
