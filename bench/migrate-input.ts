/**
 * Generated v1.0.0 task files for the migration benchmark and crash tests:
 * a realistic mix of task types and hand-written styles (2-space LF, 4-space
 * CRLF, tabs without a final newline, one-line arrays, `x-` extension fields).
 *
 * Public API (internal): generateV1Tasks(tasksDir, count) → repo-relative paths written,
 * fileCountArg(script) and fileTimer(count) (the benches' argv and timing lines).
 * Integration points: bench/migrate.ts, bench/fix.ts, tests/migrate-crash.test.ts.
 * Dependencies: node:fs, node:path.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TYPES = ['aider', 'pytest', 'lint', 'custom'] as const;
const CAPS: Record<(typeof TYPES)[number], string[]> = { aider: ['aider'], pytest: ['python'], lint: ['python'], custom: ['shell'] };

export function generateV1Tasks(tasksDir: string, count: number): string[] {
  const written: string[] = [];
  const perWorkstream = 50;
  for (let i = 0; i < count; i++) {
    const ws = `ws-${String(Math.floor(i / perWorkstream)).padStart(3, '0')}`;
    const id = `task-${String(i).padStart(5, '0')}`;
    const type = TYPES[i % TYPES.length] as (typeof TYPES)[number];
    const prev = i % perWorkstream === 0 ? [] : [`task-${String(i - 1).padStart(5, '0')}`];
    const next = (i + 1) % perWorkstream === 0 || i + 1 >= count ? [] : [`task-${String(i + 1).padStart(5, '0')}`];
    const value: Record<string, unknown> = {
      schema_version: '1.0.0',
      schema_url: 'https://orc-state.dev/schemas/task/1.0.0.json',
      task_id: id,
      workstream_id: ws,
      name: `Generated task ${i}`,
      description: `A ${type} task generated for the migration benchmark (${i}).`,
      type,
      status: 'pending',
      ...(i % 7 === 0 ? { priority: i % 5 } : {}),
      dependencies: prev,
      blocks: next,
      worker_requirements: { capabilities: CAPS[type] },
      execution: { command: type === 'aider' ? 'aider' : `echo run ${id}`, timeout_seconds: 60 + (i % 10) * 30, max_retries: i % 3 },
      ...(i % 3 === 0 ? { 'x-owner': `team-${i % 4}` } : {}),
      state: { created_at: '2026-11-01T09:00:00.000Z', retry_count: 0 },
    };
    const style = i % 3;
    let text: string;
    if (style === 0) text = `${JSON.stringify(value, null, 2)}\n`;
    else if (style === 1) text = `${JSON.stringify(value, null, 4).replace(/\n/g, '\r\n')}\r\n`;
    else text = JSON.stringify(value, null, '\t');
    mkdirSync(join(tasksDir, ws), { recursive: true });
    writeFileSync(join(tasksDir, ws, `${id}.json`), text);
    written.push(`${ws}/${id}.json`);
  }
  return written;
}

/** The file count from argv[2] (default 10,000); exits 2 with a usage line when it is not a positive integer. */
export function fileCountArg(script: string): number {
  const count = Number(process.argv[2] ?? 10_000);
  if (!Number.isInteger(count) || count <= 0) {
    console.error(`usage: node dist/bench/${script}.js [file-count]`);
    process.exit(2);
  }
  return count;
}

/** A timer that prints `label  ms  files/s` for `count` files and returns the milliseconds. */
export function fileTimer(count: number): (label: string, fn: () => Promise<void> | void) => Promise<number> {
  return async (label, fn) => {
    const start = process.hrtime.bigint();
    await fn();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    console.log(`${label.padEnd(18)} ${ms.toFixed(0).padStart(7)} ms  ${((count / ms) * 1000).toFixed(0).padStart(7)} files/s`);
    return ms;
  };
}
