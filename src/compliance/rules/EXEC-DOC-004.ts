/**
 * EXEC-DOC-004 (MUST): SCHEDULING.md has `##` DAG Construction, Scheduling
 * (with `###` Priority, Fairness, Resources), Parallelism, Critical Path.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner.
 * Dependencies: ../doc-topics.js.
 */
import { topicRule } from '../doc-topics.js';

export const rule = topicRule({
  id: 'EXEC-DOC-004',
  title: 'SCHEDULING.md covers DAG construction, scheduling, parallelism, critical path',
  file: 'SCHEDULING.md',
  topics: [
    { topic: 'DAG Construction' },
    { topic: 'Scheduling', subtopics: ['Priority', 'Fairness', 'Resources'] },
    { topic: 'Parallelism' },
    { topic: 'Critical Path' },
  ],
});
