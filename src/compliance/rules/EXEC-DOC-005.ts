/**
 * EXEC-DOC-005 (MUST): WORKERS.md has `##` Registration, Capabilities,
 * Assignment, Health.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner.
 * Dependencies: ../doc-topics.js.
 */
import { topicRule } from '../doc-topics.js';

export const rule = topicRule({
  id: 'EXEC-DOC-005',
  title: 'WORKERS.md covers registration, capabilities, assignment, health',
  file: 'WORKERS.md',
  topics: [{ topic: 'Registration' }, { topic: 'Capabilities' }, { topic: 'Assignment' }, { topic: 'Health' }],
});
