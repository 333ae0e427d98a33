/**
 * EXEC-DOC-003 (MUST): STATE_MACHINE.md has (headings of any level) States, Transitions,
 * Triggers, Invariants, and names every state and every trigger of the three
 * machines the engine runs (MACHINES from src/machines/definitions.ts), so the
 * document cannot drift from the machines.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner; B1's MACHINES.
 * Dependencies: ../doc-topics.js, ../markdown.js, ../../machines/definitions.js.
 */
import type { Finding } from '../../model.js';
import { MACHINES, MACHINE_KINDS } from '../../machines/definitions.js';
import { topicRule } from '../doc-topics.js';
import { findTopic, mentions } from '../markdown.js';

export const rule = topicRule({
  id: 'EXEC-DOC-003',
  title: 'STATE_MACHINE.md covers states, transitions, triggers, invariants',
  file: 'STATE_MACHINE.md',
  topics: [{ topic: 'States' }, { topic: 'Transitions' }, { topic: 'Triggers' }, { topic: 'Invariants' }],
  extra(doc) {
    const findings: Finding[] = [];
    const statesAt = findTopic(doc.scan, 'States') ?? { line: 1, column: 1 };
    const triggersAt = findTopic(doc.scan, 'Triggers') ?? { line: 1, column: 1 };
    for (const kind of MACHINE_KINDS) {
      const machine = MACHINES[kind];
      for (const state of machine.states) {
        if (mentions(doc.text, state)) continue;
        findings.push({
          requirement: 'EXEC-DOC-003',
          severity: 'error',
          file: doc.file,
          line: statesAt.line,
          column: statesAt.column,
          message: `the ${kind} machine's state "${state}" is not mentioned in ${doc.file}`,
          fix: `describe state \`${state}\` of the ${kind} machine (docs/state_machines/${kind}_lifecycle.yaml)`,
        });
      }
      for (const trigger of machine.triggers) {
        if (mentions(doc.text, trigger)) continue;
        findings.push({
          requirement: 'EXEC-DOC-003',
          severity: 'error',
          file: doc.file,
          line: triggersAt.line,
          column: triggersAt.column,
          message: `the ${kind} machine's trigger "${trigger}" is not mentioned in ${doc.file}`,
          fix: `describe trigger \`${trigger}\` of the ${kind} machine (docs/state_machines/${kind}_lifecycle.yaml)`,
        });
      }
    }
    return findings;
  },
});
