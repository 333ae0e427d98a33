/**
 * SARIF URIs stay repo-relative wherever the package is installed: a finding
 * about one of the package's own files (absolute path, `..`, or under
 * node_modules/orc-state/) is expressed relative to ORCSTATE_PACKAGE, never as
 * an absolute or node_modules URI. The pack smoke test (scripts/pack-smoke.sh)
 * checks the same on a real install.
 */
import { describe, expect, it } from 'vitest';
import { artifactLocation, buildSarif, PACKAGE_BASE_ID } from '../src/compliance/formatters/sarif.js';
import type { Report } from '../src/compliance/types.js';

const root = '/home/u/app';
const local = '/home/u/app/node_modules/orc-state';
const global = '/usr/lib/node_modules/orc-state';

describe('artifactLocation', () => {
  it.each([
    ['tasks/ws-001/task-001.json', local, { uri: 'tasks/ws-001/task-001.json', uriBaseId: '%SRCROOT%' }],
    ['./docs/a b.md', local, { uri: 'docs/a%20b.md', uriBaseId: '%SRCROOT%' }],
    ['tasks\\ws\\t.json', local, { uri: 'tasks/ws/t.json', uriBaseId: '%SRCROOT%' }],
    ['/home/u/app/tasks/t.json', local, { uri: 'tasks/t.json', uriBaseId: '%SRCROOT%' }],
    ['node_modules/orc-state/src/compliance/rules/X.ts', local, { uri: 'src/compliance/rules/X.ts', uriBaseId: PACKAGE_BASE_ID }],
    ['/home/u/app/node_modules/orc-state/scripts/validate/validate_compliance', local, { uri: 'scripts/validate/validate_compliance', uriBaseId: PACKAGE_BASE_ID }],
    ['/usr/lib/node_modules/orc-state/src/compliance/rules/X.ts', global, { uri: 'src/compliance/rules/X.ts', uriBaseId: PACKAGE_BASE_ID }],
    ['../../usr/lib/node_modules/orc-state/schemas/task.v2.0.0.schema.json', global, { uri: 'schemas/task.v2.0.0.schema.json', uriBaseId: PACKAGE_BASE_ID }],
    ['/somewhere/else/file.md', global, { uri: 'file.md', uriBaseId: PACKAGE_BASE_ID }],
  ])('%s (package at %s)', (file, pkg, expected) => {
    expect(artifactLocation(file, root, pkg)).toEqual(expected);
  });

  it('buildSarif never emits an absolute, `..` or node_modules URI', () => {
    const report: Report = {
      schema_version: '1.0.0',
      ok: false,
      root,
      summary: { pass: 0, fail: 1, warn: 0, skip: 0, error: 0, na: 0 },
      requirements: [
        {
          id: 'COMPLIANCE-001',
          level: 'MUST',
          section: 'docs',
          title: 't',
          status: 'FAIL',
          duration_ms: 1,
          findings: ['/home/u/app/node_modules/orc-state/src/compliance/rules/X.ts', 'node_modules/orc-state/scripts/validate/validate_x', '../outside.md', 'specifications/content/orchestration/spec.md'].map((file) => ({
            requirement: 'COMPLIANCE-001',
            severity: 'error' as const,
            file,
            line: 1,
            column: 1,
            message: 'm',
            fix: 'f',
          })),
        },
      ],
    };
    const sarif = buildSarif(report) as { runs: Array<{ results: Array<{ locations: Array<{ physicalLocation: { artifactLocation: { uri: string; uriBaseId: string } } }> }>; originalUriBaseIds: Record<string, unknown> }> };
    const locations = sarif.runs[0]!.results.map((r) => r.locations[0]!.physicalLocation.artifactLocation);
    for (const l of locations) {
      expect(l.uri).not.toMatch(/^\/|^[a-z]+:|node_modules|^\.\./i);
    }
    expect(locations.at(-1)).toEqual({ uri: 'specifications/content/orchestration/spec.md', uriBaseId: '%SRCROOT%' });
    expect(sarif.runs[0]!.originalUriBaseIds[PACKAGE_BASE_ID]).toBeDefined();
  });
});
