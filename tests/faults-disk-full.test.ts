// Faults leave nothing behind (issue 12 item 4): a transition on a full disk fails with a clear
// error, every write removes what it created (lock temp file, snapshot temp file, a half-written
// append), and once space is back the next command succeeds and doctor / STATE-OBS-003 check clean.
// Injected write errors at each step (in-process), and a real small tmpfs when this machine lets root mount one.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyTransitions, syncDefinitions } from '../src/engine/commit.js';
import { doctor } from '../src/engine/doctor.js';
import { runCompliance } from '../src/compliance/runner.js';
import { enospc, setWriteFault, type WriteOp } from '../src/io/faults.js';
import type { TransitionRequest } from '../src/machines/index.js';
import { CLI, ensureBuilt } from './fixtures/engine/build.js';
// @ts-expect-error plain JS fixture
import { flatSpec, makeRepo } from './fixtures/engine/make-repo.mjs';

const req = (id: string, trigger: string): TransitionRequest => ({ entity_type: 'task', entity_id: id, trigger, timestamp: new Date().toISOString() });

function stateFiles(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(root, '.state')).sort()) {
    try {
      out[name] = readFileSync(join(root, '.state', name), 'utf8');
    } catch {
      out[name] = '<dir>';
    }
  }
  return out;
}

async function checksClean(root: string): Promise<void> {
  const report = await doctor(root);
  expect(report.remaining.filter((i) => i.severity === 'error')).toEqual([]);
  expect(report.ok).toBe(true);
  const gate = await runCompliance({ root, requirements: ['STATE-OBS-003'] });
  const r = gate.requirements.find((x) => x.id === 'STATE-OBS-003')!;
  expect(r.findings).toEqual([]);
  expect(r.status).toBe('PASS');
}

afterEach(() => setWriteFault(null));

describe('an injected disk-full error at each write step', () => {
  const steps: Array<{ op: WriteOp; match: RegExp; what: string }> = [
    { op: 'lock', match: /orc-state\.lock\..*\.tmp$/, what: 'the lock record' },
    { op: 'write', match: /current\.json\.tmp$/, what: 'the snapshot temp file' },
    { op: 'append', match: /transitions\.jsonl$/, what: 'the log append (after its bytes went out)' },
  ];
  for (const step of steps) {
    it(`fails at ${step.what}, leaves .state exactly as it was, and the retry succeeds`, async () => {
      const root = makeRepo(flatSpec('ws1', 2)) as string;
      await syncDefinitions(root);
      const before = stateFiles(root);
      let hit = 0;
      setWriteFault((op, path) => {
        if (op === step.op && step.match.test(path)) {
          hit++;
          throw enospc(path);
        }
      });
      const error = await applyTransitions(root, [req('t0', 'scheduler_assigned')]).catch((e: unknown) => e as NodeJS.ErrnoException);
      expect(hit).toBe(1);
      expect(error).toBeInstanceOf(Error);
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
      // Nothing created stays; nothing existing changed (no snapshot ahead of the log, no torn line, no lock).
      expect(stateFiles(root)).toEqual(before);
      setWriteFault(null);
      const ok = await applyTransitions(root, [req('t0', 'scheduler_assigned')]);
      expect(ok.events[0]!.event).toBe('task_queued');
      expect(ok.notices).toEqual([]);
      await checksClean(root);
    });
  }

  it('a failing derived file does not fail the commit and leaves no temp file; the next commit refreshes it', async () => {
    const root = makeRepo(flatSpec('ws1', 2)) as string;
    await syncDefinitions(root);
    setWriteFault((op, path) => {
      if (op === 'write' && /metrics\.json\./.test(path)) throw enospc(path);
    });
    const r = await applyTransitions(root, [req('t0', 'scheduler_assigned')]);
    expect(r.events[0]!.event).toBe('task_queued');
    expect(r.notices.map((n) => n.kind)).toContain('derive_failed');
    expect(readdirSync(join(root, '.state')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    setWriteFault(null);
    await applyTransitions(root, [req('t1', 'scheduler_assigned')]);
    await checksClean(root);
  });
});

// A real full disk: a 2 MiB tmpfs filled to the last page, the CLI in a separate process. Mounting needs root
// (probed once, unmounted at once; the real mount lives only between beforeAll and afterAll, so a filtered
// or skipped run leaves no mount behind).
function canMountTmpfs(): boolean {
  const probe = mkdtempSync(join(tmpdir(), 'orc-tmpfs-probe-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return ok;
}

describe.skipIf(!canMountTmpfs())('a transition on a real full disk (tmpfs)', () => {
  let mountDir = '';
  beforeAll(() => {
    mountDir = mkdtempSync(join(tmpdir(), 'orc-tmpfs-'));
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountDir]).status).toBe(0);
  });
  afterAll(() => {
    spawnSync('umount', [mountDir]);
    rmSync(mountDir, { recursive: true, force: true });
  });

  it('fails with ENOSPC and the fix, leaves nothing behind, and succeeds once space is back', async () => {
    ensureBuilt();
    const root = join(mountDir, 'repo');
    mkdirSync(root);
    makeRepo(flatSpec('ws1', 3), root);
    await syncDefinitions(root);
    const before = stateFiles(root);
    // Fill the file system: big chunks, then single bytes, until the kernel refuses.
    const filler = join(mountDir, 'filler');
    const fd = openSync(filler, 'w');
    for (const size of [64 * 1024, 4096, 1]) {
      const buf = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, buf);
        } catch {
          break;
        }
      }
    }
    closeSync(fd);
    const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args, '--root', root], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const failed = cli(['task', 't0', 'scheduler_assigned']);
    expect(failed.status).toBe(2);
    expect(failed.stderr).toMatch(/ENOSPC/);
    expect(failed.stderr).toMatch(/fix: free disk space and retry/);
    expect(failed.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(stateFiles(root)).toEqual(before);
    rmSync(filler);
    const ok = cli(['task', 't0', 'scheduler_assigned', '--json']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).events[0].event).toBe('task_queued');
    const dr = cli(['doctor', '--json']);
    expect(dr.status, dr.stdout).toBe(0);
    await checksClean(root);
  });
});
