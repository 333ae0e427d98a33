// Claims through real processes (issue 12 Done-when): 16 `orc-state claim` processes racing for 8 ready tasks get
// 8 distinct tasks and 8 "nothing claimable" in every one of 20 rounds; a killed agent's lease expires (the
// commit clock is moved with the ORC_STATE_NOW test hook, nobody waits), the task is claimed again and the
// old token is refused; after each, the log replays to the snapshot and doctor finds nothing.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { syncDefinitions } from '../src/engine/commit.js';
import { compareWithReplay } from '../src/engine/compare.js';
import { doctor } from '../src/engine/doctor.js';
import { readEvents } from '../src/engine/log.js';
import { replay } from '../src/engine/replay.js';
import { readSnapshot } from '../src/engine/snapshot.js';
import type { OrcEvent } from '../src/model.js';
import { privateBuild } from './fixtures/engine/build.js';
// @ts-expect-error plain JS fixture
import { flatSpec, makeRepo } from './fixtures/engine/make-repo.mjs';

const CLAIMERS = 16;
const TASKS = 8;
const ROUNDS = 20;
let cli = '';

interface Claim {
  ok: boolean;
  task_id: string | null;
  token: string | null;
  worker_id: string;
  reason: { code: string; message: string } | null;
  lease: { token: string; expires_at: string; pid: number | null } | null;
  context: { files: string[] } | null;
  expired: OrcEvent[];
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function agree(root: string): Promise<void> {
  expect(compareWithReplay(readSnapshot(root)!, await replay(root))).toEqual([]);
  const d = await doctor(root);
  expect(d.remaining.filter((i) => i.severity !== 'notice')).toEqual([]);
}

beforeAll(() => {
  cli = join(privateBuild(), 'bin', 'orc-state.js');
}, 120_000);

describe('orc-state claim across processes', () => {
  it(`${CLAIMERS} processes, ${TASKS} ready tasks: ${TASKS} distinct claims and ${CLAIMERS - TASKS} "nothing claimable", ${ROUNDS} rounds`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const root = makeRepo(flatSpec('ws', TASKS)) as string;
      await syncDefinitions(root);
      // a long lock timeout: the race is about atomicity; a loaded machine must not turn waiting into exit 3
      const results = await Promise.all(Array.from({ length: CLAIMERS }, (_, i) => run(['claim', '--worker', `r${round}w${i}`, '--json', '--lock-timeout', '120000', '--root', root])));
      const claims = results.map((r) => {
        expect(r.stderr).toBe('');
        return { code: r.code, claim: JSON.parse(r.stdout) as Claim };
      });
      const won = claims.filter((c) => c.claim.task_id !== null);
      const lost = claims.filter((c) => c.claim.task_id === null);
      expect(won).toHaveLength(TASKS);
      expect(new Set(won.map((c) => c.claim.task_id)).size).toBe(TASKS);
      expect(new Set(won.map((c) => c.claim.token)).size).toBe(TASKS);
      for (const c of won) expect(c).toMatchObject({ code: 0, claim: { ok: true } });
      for (const c of lost) {
        expect(c.code).toBe(1);
        expect(c.claim).toMatchObject({ ok: false, token: null, reason: { code: 'all_claimed' } });
      }
      // the snapshot holds exactly the winners' leases
      const snap = readSnapshot(root)!;
      const leases = snap.workers.filter((w) => w.lease).map((w) => `${w.worker_id}:${w.lease!.task_id}:${w.lease!.token}`).sort();
      expect(leases).toEqual(won.map((c) => `${c.claim.worker_id}:${c.claim.task_id}:${c.claim.token}`).sort());
      expect(snap.tasks.every((t) => t.status === 'running')).toBe(true);
      await agree(root);
    }
  }, 600_000);

  it("a killed agent's lease expires, the task is claimed again, and the old token is refused", async () => {
    const root = makeRepo({ ws: [{ id: 'solo', maxRetries: 2 }] }) as string;
    await syncDefinitions(root);
    // the agent: a shell that claims, keeps the answer, and then hangs until it is killed
    const out = join(root, 'claim.json');
    const agent = spawn('sh', ['-c', `"${process.execPath}" "${cli}" claim --worker agent1 --lease 60 --json --root "${root}" > "${out}"; exec sleep 600`], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        try {
          if (existsSync(out) && readFileSync(out, 'utf8').trim().endsWith('}')) {
            clearInterval(t);
            resolve();
          }
        } catch (error) {
          clearInterval(t);
          reject(error);
        }
      }, 20);
    });
    const first = JSON.parse(readFileSync(out, 'utf8')) as Claim;
    expect(first).toMatchObject({ ok: true, task_id: 'solo' });
    expect(first.lease!.pid).toBe(agent.pid);
    agent.kill('SIGKILL');
    await new Promise((resolve) => agent.once('exit', resolve));

    // before the lease ends, another agent finds the task claimed
    const early = await run(['claim', '--worker', 'agent2', '--json', '--root', root], { ORC_STATE_NOW: new Date(Date.parse(first.lease!.expires_at) - 1000).toISOString() });
    expect(early.code).toBe(1);
    expect((JSON.parse(early.stdout) as Claim).reason!.code).toBe('all_claimed');

    // one second after it ends, the next writer expires it and claims the task again; before that, read-only
    // status already says the lease has expired (and expires nothing itself)
    const later = new Date(Date.parse(first.lease!.expires_at) + 1000).toISOString();
    const leaseOf = async (now: string) => {
      const r = await run(['status', '--json', '--root', root], { ORC_STATE_NOW: now });
      return (JSON.parse(r.stdout) as { workers: Array<{ worker_id: string; lease?: { token: string; expired: boolean } }> }).workers.find((w) => w.worker_id === 'agent1')!.lease;
    };
    expect(await leaseOf(new Date(Date.parse(first.lease!.expires_at) - 1000).toISOString())).toMatchObject({ token: first.token, expired: false });
    const seqBefore = readSnapshot(root)!.last_seq;
    expect(await leaseOf(later)).toMatchObject({ token: first.token, expired: true });
    expect((await run(['status', '--root', root], { ORC_STATE_NOW: later })).stdout).toMatch(/agent1 busy \(running solo, lease expired at .*: the next command that commits recovers the task\)/);
    expect(readSnapshot(root)!.last_seq).toBe(seqBefore);
    const again = await run(['claim', '--worker', 'agent2', '--json', '--root', root], { ORC_STATE_NOW: later });
    expect(again.code).toBe(0);
    const second = JSON.parse(again.stdout) as Claim;
    expect(second).toMatchObject({ ok: true, task_id: 'solo' });
    expect(second.token).not.toBe(first.token);
    const timeout = second.expired.find((e) => e.entity_type === 'task')!;
    expect(timeout).toMatchObject({ trigger: 'task_timeout', to_state: 'retrying', metadata: { lease_expired: { token: first.token, expires_at: first.lease!.expires_at, worker_id: 'agent1' } } });
    expect(second.expired.find((e) => e.entity_type === 'worker')).toMatchObject({ trigger: 'health_check_timeout', to_state: 'unresponsive' });
    expect(readSnapshot(root)!.tasks[0]).toMatchObject({ status: 'running', assigned_worker: 'agent2', retry_count: 1 });

    // the old token: refused for a report and for a heartbeat, with a clear message and exit 1
    const stale = await run(['task', 'solo', 'execution_completed', '--worker', 'agent1', '--token', first.token!, '--root', root]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/refused: lease token \S+ is stale/);
    expect(stale.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const staleBeat = await run(['heartbeat', '--worker', 'agent1', '--token', first.token!, '--json', '--root', root]);
    expect(staleBeat.code).toBe(1);
    expect(JSON.parse(staleBeat.stdout)).toMatchObject({ ok: false, error: { code: 'LEASE_REFUSED' } });
    // nor may another worker use the live token
    const foreign = await run(['task', 'solo', 'execution_failed', '--worker', 'agent1', '--token', second.token!, '--root', root]);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain(`belongs to worker agent2, not agent1`);

    // the live lease renews and reports
    const beat = await run(['heartbeat', '--worker', 'agent2', '--token', second.token!, '--lease', '120', '--json', '--root', root]);
    expect(beat.code).toBe(0);
    expect(JSON.parse(beat.stdout)).toMatchObject({ ok: true, task_id: 'solo', lease: { seconds: 120 } });
    const done = await run(['task', 'solo', 'execution_completed', '--worker', 'agent2', '--token', second.token!, '--json', '--root', root]);
    expect(done.code).toBe(0);
    const events: OrcEvent[] = [];
    for await (const e of readEvents(root)) events.push(e);
    expect(events.filter((e) => e.event === 'lease_renewed')).toHaveLength(1);
    expect(events.find((e) => e.event === 'task_validating')!.metadata['lease_token']).toBe(second.token);
    await agree(root);
  }, 120_000);

  it('claim explains nothing claimable in plain words and exit 1; usage errors exit 2', () => {
    const root = makeRepo({ ws: [{ id: 'gpu_job', capabilities: ['gpu'] }] }) as string;
    spawnSync(process.execPath, [cli, 'sync', '--root', root]);
    const r = spawnSync(process.execPath, [cli, 'claim', '--worker', 'cpu1', '--root', root], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("nothing claimable for worker cpu1 (no_capability): no ready task matches worker cpu1's capabilities []: gpu_job needs [gpu]");
    const missing = spawnSync(process.execPath, [cli, 'claim', '--root', root], { encoding: 'utf8' });
    expect(missing.status).toBe(2);
    const badLease = spawnSync(process.execPath, [cli, 'claim', '--worker', 'x', '--lease', 'soon', '--root', root], { encoding: 'utf8' });
    expect(badLease.status).toBe(2);
    expect(badLease.stderr).toContain('--lease must be an integer');
    // report: a worker output that breaks the contract is located (file:line:column) and nothing is committed
    const before = readSnapshot(root)!.last_seq;
    writeFileSync(join(root, 'out.json'), '{\n  "schema_version": "1.0.0",\n  "status": "weird"\n}\n');
    const bad = spawnSync(process.execPath, [cli, 'report', 'gpu_job', '--worker', 'cpu1', '--token', '1-0123456789abcdef', '--output', join(root, 'out.json'), '--root', root], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/out\.json:1:1: the worker output does not follow schemas\/worker-output/);
    writeFileSync(join(root, 'out.json'), '{"schema_version": "1.0.0",}');
    const syntax = spawnSync(process.execPath, [cli, 'report', 'gpu_job', '--worker', 'cpu1', '--token', '1-0123456789abcdef', '--output', join(root, 'out.json'), '--root', root], { encoding: 'utf8' });
    expect(syntax.status).toBe(2);
    expect(syntax.stderr).toMatch(/out\.json:1:\d+: trailing comma/);
    expect(readSnapshot(root)!.last_seq).toBe(before);
  });
});
