/**
 * EXEC-DOC-006 (MUST): RECOVERY.md has `##` Checkpoints and Rollback,
 * Partial Failure Recovery, Manual Steps, Decision Trees.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner.
 * Dependencies: ../doc-topics.js.
 */
import { topicRule } from '../doc-topics.js';

export const rule = topicRule({
  id: 'EXEC-DOC-006',
  title: 'RECOVERY.md covers checkpoints, partial failure, manual steps, decision trees',
  file: 'RECOVERY.md',
  topics: [{ topic: 'Checkpoints and Rollback' }, { topic: 'Partial Failure Recovery' }, { topic: 'Manual Steps' }, { topic: 'Decision Trees' }],
});
