import { describe, expect, it } from 'vitest';
import { loadTasks } from '../src/repo/load-tasks.js';

// One task file breaking one schema keyword per line: every error is placed on
// the offending value (or key) and worded for a person, with a concrete fix.
describe('schema errors become located, plain-language findings', () => {
  const set = loadTasks('tests/fixtures/tasks/keywords');
  const rows = set.findings.map((f) => `${f.line}:${f.column} ${f.requirement} ${f.message} | ${f.fix}`);

  it('reports each keyword at its value, in file order', () => {
    expect(set.tasks.size).toBe(0);
    expect(set.findings.every((f) => f.file === 'tasks/ws/t-kw.json')).toBe(true);
    // Issue 9: another schema_url and unknown properties are warnings (src/repo/task-forms.ts), the rest errors.
    expect(set.findings.filter((f) => f.severity === 'warning').map((f) => `${f.line}:${f.column}`)).toEqual(['3:17', '20:3']);
    expect(rows).toEqual([
      '3:17 TASK-DEF-002 schema_url names task schema 1.0.0 but schema_version is 2.0.0; the file is read as 2.0.0 | set "schema_url": "https://orc-state.dev/schemas/task/2.0.0.json" to name the schema orc-state checks it against',
      '6:11 TASK-DEF-002 `name` must not be empty | write a value: Short human-readable title.',
      '8:11 TASK-DEF-002 `type` must be one of "aider", "pytest", "lint", "custom"; got "pytset" (a string) | use "pytest"',
      '10:15 TASK-DEF-002 `critical` must be a boolean, got "yes" (a string) | write true or false (without quotes)',
      '11:25 TASK-DEF-002 `dependencies` lists "a" (a string) twice (items 0 and 1) | remove the repeated entry at position 1',
      '12:13 TASK-DEF-002 `blocks` must be an array, got "b" (a string) | wrap the value in a list: ["b"]',
      '13:66 TASK-DEF-002 `worker_requirements.min_version` "1.0" (a string) has the wrong form: Lowest worker version (semver) accepted. | use a semantic version such as "1.2.0"',
      '14:53 TASK-DEF-002 `execution.timeout_seconds` must be an integer ≥ 1, got 0 (an integer) | set it to a value ≥ 1',
      '14:104 TASK-DEF-002 `execution.estimated_duration_seconds` must be a number > 0, got 0 (an integer) | set it to a value > 0',
      '15:76 TASK-DEF-002 `context_requirements.required_files[0]` "/etc/passwd" (a string) must be a repo-relative path that stays inside the repository (no leading "/", no drive letter, no "..") | write the path relative to the repository root, e.g. "src/module.py"',
      '16:23 TASK-DEF-002 `validation_rules` is missing the required property `post_execution` | add "post_execution": [] (Checks that must pass for the task to complete.)',
      '17:37 TASK-DEF-002 `resource_requirements.gpu` must be "exclusive" or "shared", or a positive integer; got "exclusiv" (a string) | use "exclusive" or "shared" or a positive integer',
      '17:49 TASK-DEF-002 `resource_requirements` has a key "bad id!" that is not a valid id | use an id made of letters, digits, ".", "_" and "-"',
      '17:70 TASK-DEF-002 `resource_requirements.cpu` must be "exclusive" or "shared", or a positive integer; got 0 (an integer) | use "exclusive" or "shared" or a positive integer',
      '18:28 TASK-DEF-002 `state.created_at` must be an ISO-8601 date-time with a timezone, got "yesterday" (a string) | write it like "2026-01-05T09:00:00Z"',
      '20:3 TASK-DEF-002 unknown property `extra`: kept in the file, ignored by orc-state | keep it if it is yours (it is ignored), or remove it; an "x-" prefix marks it as an extension',
    ]);
  });

  it('x- extension keys are accepted; no message leaks ajv jargon', () => {
    expect(rows.some((r) => r.includes('x-owner'))).toBe(false);
    for (const r of rows) expect(r).not.toMatch(/must NOT|must match|instancePath|schemaPath|#\//);
  });
});
