/**
 * EXEC-DOC-002 (MUST): OVERVIEW.md has `##` sections Architecture,
 * Components, Data Flow, Dependencies, Performance (each non-empty).
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner.
 * Dependencies: ../doc-topics.js.
 */
import { topicRule } from '../doc-topics.js';

export const rule = topicRule({
  id: 'EXEC-DOC-002',
  title: 'OVERVIEW.md covers architecture, components, data flow, dependencies, performance',
  file: 'OVERVIEW.md',
  topics: [{ topic: 'Architecture' }, { topic: 'Components' }, { topic: 'Data Flow' }, { topic: 'Dependencies' }, { topic: 'Performance' }],
});
