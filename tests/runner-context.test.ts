import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TaskDefinition } from '../src/model.js';
import { estimateTokens, selectContext } from '../src/runner/context.js';

function task(req: Partial<TaskDefinition['context_requirements']>): TaskDefinition {
  return {
    task_id: 't',
    type: 'aider',
    context_requirements: { max_context_tokens: 1000, required_files: [], optional_files: [], exclude_patterns: ['**/*.secret'], ...req },
  } as unknown as TaskDefinition;
}

function repo(): string {
  const root = mkdtempSync(join(tmpdir(), 'orc-context-'));
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'src/a.py'), 'a'.repeat(400)); // 100 tokens
  writeFileSync(join(root, 'src/b.py'), 'b'.repeat(2000)); // 500 tokens
  writeFileSync(join(root, 'src/c.py'), 'c'.repeat(1600)); // 400 tokens
  writeFileSync(join(root, 'src/d.py'), 'd'.repeat(800)); // 200 tokens
  writeFileSync(join(root, 'src/key.secret'), 'k');
  const outside = mkdtempSync(join(tmpdir(), 'orc-context-outside-'));
  writeFileSync(join(outside, 'x.py'), 'x');
  symlinkSync(join(outside, 'x.py'), join(root, 'src/link.py'));
  return root;
}

describe('selectContext', () => {
  it('takes required files, then optional files in order while the budget allows (greedy, later smaller files still fit)', () => {
    const root = repo();
    const s = selectContext(root, task({ max_context_tokens: 900, required_files: ['src/a.py'], optional_files: ['src/b.py', 'src/c.py', 'src/d.py', './src/a.py'] }));
    expect(s.files).toEqual(['src/a.py', 'src/b.py', 'src/d.py']);
    expect(s.estimated_tokens).toBe(800);
    expect(s.skipped).toEqual([{ file: 'src/c.py', reason: 'over the token budget (600 + 400 > 900)' }]);
    expect(s.problems).toEqual([]);
  });

  it('counts the prompt in the budget', () => {
    const root = repo();
    const s = selectContext(root, task({ required_files: ['src/a.py'], optional_files: ['src/b.py'] }), { promptBytes: 2000 });
    expect(s.files).toEqual(['src/a.py']);
    expect(s.estimated_tokens).toBe(estimateTokens(2000) + 100);
  });

  it('never selects excluded files or files outside the repo (symlinks included)', () => {
    const root = repo();
    const s = selectContext(root, task({ optional_files: ['src/key.secret', 'src/link.py', '../etc/passwd', '/etc/passwd'] }));
    expect(s.files).toEqual([]);
    expect(s.skipped.map((x) => x.reason)).toEqual(['excluded by **/*.secret', 'outside the repository', 'outside the repository', 'outside the repository']);
    const r = selectContext(root, task({ required_files: ['src/key.secret', 'src/link.py'] }));
    expect(r.problems.map((p) => [p.error_type, p.path.join('.')])).toEqual([
      ['invalid_task', 'context_requirements.required_files.0'],
      ['invalid_task', 'context_requirements.required_files.1'],
    ]);
  });

  it('reports required files over budget as context_overflow', () => {
    const root = repo();
    const s = selectContext(root, task({ required_files: ['src/b.py', 'src/c.py', 'src/d.py'] }));
    expect(s.problems).toEqual([
      { error_type: 'context_overflow', file: null, path: ['context_requirements', 'max_context_tokens'], message: 'required files need about 1100 tokens (bytes/4), over max_context_tokens 1000' },
    ]);
  });
});
