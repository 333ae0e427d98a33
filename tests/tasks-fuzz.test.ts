import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTaskFile } from '../src/repo/load-tasks.js';
import { parsePsd1 } from '../src/registry/psd1.js';
import { loadCapabilities, loadResources } from '../src/registry/index.js';
import type { Finding } from '../src/model.js';
import { rng } from '../src/util/random.js';

const PIECES = ['{', '}', '[', ']', ',', ':', '"', "'", '\\', '\n', '\r\n', '\uFEFF', '__proto__', '$x', '@{', '@(', ')', '#', '<#', '#>', '`', '-1', '1e999', 'null', '"x":', '\u0000', '\t'];

function mutate(text: string, random: () => number): string {
  let out = text;
  const edits = 1 + Math.floor(random() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * (out.length + 1));
    const kind = random();
    if (kind < 0.3) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(random() * 8)); // delete
    else if (kind < 0.7) out = out.slice(0, at) + PIECES[Math.floor(random() * PIECES.length)] + out.slice(at); // insert
    else if (kind < 0.85) out = out.slice(0, at); // truncate
    else out = out.slice(0, at) + out.slice(at).replace(/"[^"]*"/, '"..\\/x"'); // odd value
  }
  return out;
}

function wellFormed(f: Finding): boolean {
  return f.line >= 1 && f.column >= 1 && Number.isInteger(f.line) && Number.isInteger(f.column) && f.message.length > 0 && f.fix.length > 0 && /^[A-Z]+-[A-Z]+-\d{3}$/.test(f.requirement);
}

const tmp = mkdtempSync(join(tmpdir(), 'orc-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('mutated user files never throw and every finding is located', () => {
  it('task files (300 mutations of an example task)', () => {
    const base = readFileSync('tasks/api-hardening/ah-harden-task-schema.json', 'utf8');
    const random = rng(7);
    mkdirSync(join(tmp, 'tasks/api-hardening'), { recursive: true });
    let withFindings = 0;
    for (let i = 0; i < 300; i++) {
      const text = mutate(base, random);
      writeFileSync(join(tmp, 'tasks/api-hardening/ah-harden-task-schema.json'), text);
      let r: ReturnType<typeof loadTaskFile>;
      try {
        r = loadTaskFile(tmp, 'tasks/api-hardening/ah-harden-task-schema.json');
      } catch (err) {
        throw new Error(`case ${i} threw ${(err as Error).stack}\n--- input ---\n${text}`);
      }
      for (const f of r.findings) expect(wellFormed(f), `case ${i}: ${JSON.stringify(f)}`).toBe(true);
      if (!r.task) expect(r.findings.some((f) => f.severity === 'error'), `case ${i}: not loaded but no error`).toBe(true);
      if (r.findings.length) withFindings++;
    }
    expect(withFindings).toBeGreaterThan(200); // the mutations really do break files
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('psd1 registries (300 mutations of the example registry)', () => {
    const base = readFileSync('capabilities/registry.psd1', 'utf8');
    const random = rng(11);
    mkdirSync(join(tmp, 'capabilities'), { recursive: true });
    for (let i = 0; i < 300; i++) {
      const text = mutate(base, random);
      let findings: Finding[];
      try {
        const r = parsePsd1(text, 'capabilities/registry.psd1', 'CAP-REG-001');
        if (r.ok) {
          writeFileSync(join(tmp, 'capabilities/registry.psd1'), text);
          findings = loadCapabilities(tmp).findings;
        } else findings = r.findings;
      } catch (err) {
        throw new Error(`case ${i} threw ${(err as Error).stack}\n--- input ---\n${text}`);
      }
      for (const f of findings) expect(wellFormed(f), `case ${i}: ${JSON.stringify(f)}`).toBe(true);
    }
  });

  it('a registry holding a bare value is a finding', () => {
    const root = join(tmp, 'scalar');
    mkdirSync(join(root, 'capabilities'), { recursive: true });
    writeFileSync(join(root, 'capabilities/registry.psd1'), '$null\n');
    writeFileSync(join(root, 'capabilities/resources.json'), '42\n');
    expect(loadCapabilities(root).findings.map((f) => `${f.line}:${f.column} ${f.requirement} ${f.message}`)).toEqual(['1:1 CAP-REG-001 the top level of the file must be an object, got null']);
    expect(loadResources(root).findings.map((f) => `${f.line}:${f.column} ${f.requirement}`)).toEqual(['1:1 CONC-REG-001']);
  });
});
