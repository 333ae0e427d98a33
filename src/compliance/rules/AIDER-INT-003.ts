/**
 * AIDER-INT-003 (MUST): worker output follows the contract (status,
 * files_modified, diff_summary, validation_status, commit_message, error,
 * metadata {tokens_used, duration_seconds}) and validates against
 * schemas/worker-output. Checks:
 *  - the schema exists in orc-state's schemas/ and requires exactly the
 *    contract's fields (WORKER_OUTPUT_FIELDS) including metadata.tokens_used
 *    and metadata.duration_seconds;
 *  - what the adapters build (success, failure, timeout) validates against it;
 *  - every `*.worker-output.json` under the repo's .state/ validates, each
 *    error located as file:line:column.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner.
 * Dependencies: node:fs, node:path, ../../schema/registry.js, ../../io/located-json.js,
 * ../../runner/types.js, ../../runner/output.js, ../../runner/shell.js, ../types.js.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding, TaskDefinition } from '../../model.js';
import { readJsonFile } from '../../io/located-json.js';
import { getValidator, schemaFile } from '../../schema/registry.js';
import { WORKER_OUTPUT_FIELDS, WORKER_OUTPUT_SCHEMA_VERSION } from '../../runner/types.js';
import { validateWorkerOutput } from '../../runner/output.js';
import { finishOutput } from '../../runner/shell.js';
import type { Rule } from '../types.js';
import { STATE_DIR, stateDirOf } from '../../core/state-paths.js';

const RID = 'AIDER-INT-003';
const SCHEMA = `schemas/${schemaFile('worker-output', WORKER_OUTPUT_SCHEMA_VERSION)}`;

function outputsUnder(dir: string, rel: string, out: Array<{ abs: string; rel: string }>): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.isDirectory()) outputsUnder(join(dir, e.name), `${rel}/${e.name}`, out);
    else if (e.isFile() && e.name.endsWith('.worker-output.json')) out.push({ abs: join(dir, e.name), rel: `${rel}/${e.name}` });
  }
}

function sampleOutputs() {
  const task = {
    task_id: 'sample',
    type: 'aider',
    execution: { command: 'aider', timeout_seconds: 60, max_retries: 1 },
  } as unknown as TaskDefinition;
  const base = { task, worker: { id: 'w', type: 'aider' }, ctx: { root: '.' }, startedAt: new Date(0), durationMs: 1234, validation: { passed: ['git_clean'], failed: [], skipped: ['no_lint_errors'] } };
  return [
    finishOutput({ ...base, error: null, changes: { files: ['a.py'], insertions: 3, deletions: 1, commits: ['feat: x'] }, tokensUsed: 1200, commitMessage: 'feat: x', command: ['aider'], context: { files: ['a.py'], estimated_tokens: 10, max_context_tokens: 8000, skipped: [] } }),
    finishOutput({ ...base, error: { error_type: 'insufficient_context', message: 'needs b.py', exit_code: 0 } }),
    finishOutput({ ...base, error: { error_type: 'timeout', message: 'timed out', exit_code: null, signal: 'SIGTERM' } }),
  ];
}

export const rule: Rule = {
  id: RID,
  level: 'MUST',
  section: 'machines',
  title: 'Worker output follows the worker-output contract',
  check(ctx) {
    const findings: Finding[] = [];
    const schemaFinding = (message: string, fix: string): Finding => ({ requirement: RID, severity: 'error', file: SCHEMA, line: 1, column: 1, message, fix });
    const validator = getValidator('worker-output', WORKER_OUTPUT_SCHEMA_VERSION);
    if (!validator) {
      return { findings: [schemaFinding(`${SCHEMA} is missing: worker outputs cannot be validated`, 'restore the worker-output schema shipped with orc-state')] };
    }
    const schema = validator.schema as { required?: string[]; properties?: { metadata?: { required?: string[] } } };
    const required = new Set(schema.required ?? []);
    for (const field of WORKER_OUTPUT_FIELDS) if (!required.has(field)) findings.push(schemaFinding(`the schema does not require "${field}", which the output contract has`, `add "${field}" to "required"`));
    for (const field of required) if (!(WORKER_OUTPUT_FIELDS as readonly string[]).includes(field)) findings.push(schemaFinding(`the schema requires "${field}", which the adapters do not produce`, `remove "${field}" from "required", or add it to the contract`));
    const meta = new Set(schema.properties?.metadata?.required ?? []);
    for (const field of ['tokens_used', 'duration_seconds']) if (!meta.has(field)) findings.push(schemaFinding(`the schema does not require metadata.${field}`, `add "${field}" to metadata.required`));
    for (const sample of sampleOutputs()) {
      const check = validateWorkerOutput(sample);
      if (!check.valid) {
        findings.push(schemaFinding(`a ${sample.status} output built by the adapters does not validate: ${check.errors.map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('; ')}`, 'make src/runner/shell.ts finishOutput and the schema agree'));
      }
    }

    const outputs: Array<{ abs: string; rel: string }> = [];
    outputsUnder(stateDirOf(ctx.root), STATE_DIR, outputs);
    for (const out of outputs) {
      const read = readJsonFile(out.abs, out.rel, { requirement: RID });
      if (!read.ok) {
        findings.push(...read.findings);
        continue;
      }
      if (!validator(read.value)) {
        for (const err of validator.errors ?? []) {
          const path = err.instancePath === '' ? [] : err.instancePath.slice(1).split('/').map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')));
          const loc = read.locate(path);
          const detail = err.keyword === 'additionalProperties' ? ` ("${(err.params as { additionalProperty: string }).additionalProperty}")` : err.keyword === 'enum' ? ` (allowed: ${(err.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : '';
          findings.push({
            requirement: RID,
            severity: 'error',
            file: out.rel,
            line: loc.line,
            column: loc.column,
            message: `worker output does not follow ${SCHEMA}: ${err.instancePath || '(root)'} ${err.message}${detail}`,
            fix: 'fix the worker adapter that wrote it, or delete the stale output file',
          });
        }
      }
    }
    return { findings };
  },
};
