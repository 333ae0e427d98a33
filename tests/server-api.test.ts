/**
 * `orc-state serve` over real HTTP: the JSON API, the event stream (live
 * commits by the CLI, Last-Event-ID resume from memory and from the log,
 * the poll fallback), and the safety rules (Host refusal, traversal 404, no
 * CORS, read-only methods, the stream cap, torn and malformed log lines).
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { applyTransitions } from '../src/engine/commit.js';
import { readSnapshot } from '../src/engine/snapshot.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import type { OrcEvent } from '../src/model.js';
import { cli, copyExample, openStream, raw } from './fixtures/serve/helpers.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function serve(options: Partial<Parameters<typeof startServer>[0]> = {}): Promise<{ root: string; server: RunningServer }> {
  const root = copyExample();
  const server = await startServer({ root, port: 0, pollMs: 100, ...options });
  cleanup.push(() => rmSync(root, { recursive: true, force: true }));
  cleanup.push(() => server.close());
  return { root, server };
}

const json = (body: string) => JSON.parse(body) as Record<string, any>;

describe('JSON API', async () => {
  const { root, server } = await serve();
  const port = server.port;

  test('prints a loopback URL and serves the snapshot', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${port}/`);
    const r = await raw(port, '/api/state');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toContain('application/json');
    const s = json(r.body);
    const snap = readSnapshot(root)!;
    expect(s.api_version).toBe('1.0.0');
    expect(s.last_seq).toBe(snap.last_seq);
    expect(s.log_last_seq).toBe(snap.last_seq);
    expect(s.tasks.map((t: any) => t.task_id).sort()).toEqual(snap.tasks.map((t) => t.task_id).sort());
    const ah = s.workstreams.find((w: any) => w.workstream_id === 'api-hardening');
    expect(ah.total).toBe(6);
    expect(ah.completed).toBe(ah.counts.completed);
    expect(ah.progress).toBeCloseTo(ah.completed / 6);
    expect(s.workers.map((w: any) => w.worker_id).sort()).toEqual(snap.workers.map((w) => w.worker_id).sort());
    // last_heartbeat: the latest of updated_at, the worker's own events and events naming it as their worker.
    const events = readFileSync(join(root, '.state/transitions.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as OrcEvent);
    for (const w of snap.workers) {
      const times = [w.updated_at, ...events.filter((e) => (e.entity_type === 'worker' && e.entity_id === w.worker_id) || e.metadata?.worker_id === w.worker_id).map((e) => e.timestamp)];
      const latest = times.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
      expect(s.workers.find((x: any) => x.worker_id === w.worker_id).last_heartbeat, w.worker_id).toBe(latest);
    }
    expect(s.metrics.completion.total).toBe(snap.tasks.length);
    expect(s.metrics.durations.length).toBeGreaterThan(0);
    expect(s.metrics.spend).toBeNull();
    expect(s.metrics.summary.tasks.total).toBe(snap.tasks.length);
  });

  test('a task: definition, state, attempts, why chain, log tail (and its absence)', async () => {
    const running = readSnapshot(root)!.tasks.find((t) => t.status === 'running')!;
    let v = json((await raw(port, `/api/tasks/${running.task_id}`)).body);
    expect(v.task.status).toBe('running');
    expect(v.definition.task_id).toBe(running.task_id);
    expect(v.definition_file).toBe(`tasks/${running.workstream_id}/${running.task_id}.json`);
    expect(v.why.events.length).toBeGreaterThan(0);
    expect(v.why.attempts.length).toBe(v.current_attempt);
    expect(v.log.exists).toBe(false);
    expect(v.log_note).toContain(`.state/logs/${running.task_id}/attempt-${v.current_attempt}.log does not exist`);

    const dir = join(root, '.state', 'logs', running.task_id);
    mkdirSync(dir, { recursive: true });
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i + 1} of the attempt`);
    writeFileSync(join(dir, `attempt-${v.current_attempt}.log`), `${lines.join('\n')}\n`);
    v = json((await raw(port, `/api/tasks/${running.task_id}`)).body);
    expect(v.log.exists).toBe(true);
    expect(v.log.truncated).toBe(true);
    expect(v.log.text.endsWith('line 3000 of the attempt\n')).toBe(true);
    expect(v.log.text.startsWith('line ')).toBe(true); // starts on a whole line
    expect(v.log_note).toBeNull();
    const tail = json((await raw(port, `/api/tasks/${running.task_id}/log?attempt=${v.current_attempt}`)).body);
    expect(tail).toMatchObject({ task_id: running.task_id, attempt: v.current_attempt, exists: true, truncated: true, text: v.log.text });
    expect(json((await raw(port, `/api/tasks/${running.task_id}/log?attempt=9`)).body).exists).toBe(false);
    for (const bad of ['', '0', '-1', '1e3', '../1']) expect((await raw(port, `/api/tasks/${running.task_id}/log?attempt=${bad}`)).status, bad).toBe(400);
    expect((await raw(port, `/api/tasks/..%2F..%2Fetc/log?attempt=1`)).status).toBe(404);

    const pending = readSnapshot(root)!.tasks.find((t) => t.status === 'pending')!;
    v = json((await raw(port, `/api/tasks/${pending.task_id}`)).body);
    expect(v.current_attempt).toBeNull();
    expect(v.log).toBeNull();
    expect(v.log_note).toBe('no attempt has started yet');
  });

  test('unknown task or workstream: 404 with a fix', async () => {
    for (const path of ['/api/tasks/no-such-task', '/api/tasks/..%2F..%2Fpackage.json', '/api/tasks/%E0%A4%A', '/api/plan/nope']) {
      const r = await raw(port, path);
      expect(r.status, path).toBe(404);
      expect(json(r.body).fix, path).toBeTruthy();
    }
  });

  test("a workstream's plan: DAG, critical path", async () => {
    const v = json((await raw(port, '/api/plan/api-hardening')).body);
    expect(v.api_version).toBe('1.0.0');
    expect(v.dag.nodes.length).toBe(6);
    expect(v.plan.critical_path_tasks.length).toBeGreaterThan(0);
    for (const id of v.plan.critical_path_tasks) expect(v.dag.nodes.some((n: any) => n.task_id === id)).toBe(true);
  });

  test('refuses a foreign Host (DNS rebinding), accepts the served host and its loopback aliases', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, `localhost.evil.example:${port}`]) {
      const r = await raw(port, '/api/state', { Host: host });
      expect(r.status, host).toBe(403);
      expect(r.body).not.toContain('"tasks"');
    }
    const noHost = await raw(port, '/api/state', {}, 'GET', { noHost: true });
    expect(noHost.status).toBe(400); // node:http refuses an HTTP/1.1 request without Host before it reaches us
    expect(noHost.body).not.toContain('"tasks"');
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) expect((await raw(port, '/api/state', { Host: host })).status, host).toBe(200);
    const s = await openStream(port, '/api/events', { Host: `evil.example:${port}` });
    expect(s.status).toBe(403);
  });

  test('static files only from the asset folder: any traversal is a 404', async () => {
    expect((await raw(port, '/')).headers['content-security-policy']).toContain("default-src 'none'");
    const js = await raw(port, '/assets/dashboard.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toContain('text/javascript');
    expect((await raw(port, '/vendor/dagre.min.js')).body).toContain('dagre');
    for (const path of [
      '/assets/../package.json',
      '/assets/%2e%2e/package.json',
      '/assets/..%2f..%2fpackage.json',
      '/assets/%2e%2e%2f%2e%2e%2fpackage.json',
      '/vendor/../../../etc/passwd',
      '//etc/passwd',
      '/assets/',
      '/assets/dashboard.js/..',
      '/.state/current.json',
      '/tasks/api-hardening/ah-lint-final.json',
      '/node_modules/@dagrejs/dagre/package.json',
      '/assets/..\\..\\package.json',
    ]) {
      const r = await raw(port, path);
      expect(r.status, path).toBe(404);
      expect(r.body, path).not.toContain('"name"');
    }
  });

  test('no CORS header, even for a cross-origin request; read-only methods', async () => {
    for (const path of ['/', '/api/state', '/metrics', '/nope']) {
      const r = await raw(port, path, { Origin: 'http://evil.example' });
      expect(r.headers['access-control-allow-origin'], path).toBeUndefined();
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const r = await raw(port, '/api/state', {}, method);
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
    const head = await raw(port, '/api/state', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  test('/metrics is Prometheus text from the snapshot', async () => {
    const r = await raw(port, '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toContain('text/plain; version=0.0.4');
    expect(r.body).toContain(`orc_state_source_last_seq ${readSnapshot(root)!.last_seq}`);
    expect((await raw(port, '/metrics', { Accept: 'application/openmetrics-text' })).headers['content-type']).toContain('application/openmetrics-text');
  });
});

/** Every file under dir with its size, mtime and content hash-free identity (inode). */
function tree(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(`${prefix}${e.name}/`, ...tree(p, `${prefix}${e.name}/`));
    else {
      const st = statSync(p);
      out.push(`${prefix}${e.name} ${st.size} ${st.mtimeMs} ${st.ino}`);
    }
  }
  return out.sort();
}

describe('read-only', () => {
  test('no request writes anything under the repository', async () => {
    const { root, server } = await serve();
    const before = tree(root);
    const s = await openStream(server.port, '/api/events', { 'Last-Event-ID': '0' });
    cleanup.push(() => s.close());
    await s.waitFor((f) => f.id === String(readSnapshot(root)!.last_seq), 'the whole log');
    for (const path of ['/', '/api', '/api/state', '/api/tasks/ah-lint-final', '/api/tasks/ah-harden-task-schema', '/api/plan/api-hardening', '/api/plan/release-0-2', '/metrics', '/nope']) {
      for (const method of ['GET', 'HEAD', 'POST', 'DELETE']) await raw(server.port, path, {}, method);
    }
    expect(tree(root)).toEqual(before);
  });
});

describe('event stream', () => {
  test('a CLI commit reaches the stream with id = seq; Last-Event-ID resumes in order', async () => {
    const { root, server } = await serve();
    const start = readSnapshot(root)!.last_seq;
    const s = await openStream(server.port);
    cleanup.push(() => s.close());
    const hello = await s.waitFor((f) => f.event === 'hello', 'hello');
    expect(json(hello.data).last_seq).toBe(start);
    expect(s.frames.filter((f) => f.event === 'transition')).toEqual([]); // no history without Last-Event-ID

    const r = await cli(['task', 'rel-tag', 'user_cancelled', '--root', root]);
    expect(r.code, r.stderr).toBe(0);
    const f = await s.waitFor((x) => x.event === 'transition', 'the CLI commit');
    const e = JSON.parse(f.data) as OrcEvent;
    expect(f.id).toBe(String(start + 1));
    expect(e.seq).toBe(start + 1);
    expect(e.entity_id).toBe('rel-tag');
    expect(e.to_state).toBe('cancelled');
    // Byte for byte the line of the log.
    const lines = readFileSync(join(root, '.state/transitions.jsonl'), 'utf8').trimEnd().split('\n');
    expect(JSON.parse(lines[lines.length - 1] as string)).toEqual(e);

    const resumed = await openStream(server.port, '/api/events', { 'Last-Event-ID': String(start - 3) });
    cleanup.push(() => resumed.close());
    await resumed.waitFor((x) => x.id === String(start + 1), 'the resumed tail');
    expect(resumed.frames.filter((x) => x.event === 'transition').map((x) => Number(x.id))).toEqual([start - 2, start - 1, start, start + 1]);
    // ?after= is the same for a first connection; the header wins on a reconnect.
    const both = await openStream(server.port, `/api/events?after=1`, { 'Last-Event-ID': String(start) });
    cleanup.push(() => both.close());
    await both.waitFor((x) => x.id === String(start + 1), 'the header resume');
    expect(both.frames.filter((x) => x.event === 'transition').map((x) => x.id)).toEqual([String(start + 1)]);
    expect((await openStream(server.port, '/api/events', { 'Last-Event-ID': 'abc' })).status).toBe(400);
  });

  test('a resume older than the events kept in memory is read back from the log', async () => {
    const { root, server } = await serve({ ring: 5 });
    const last = readSnapshot(root)!.last_seq;
    const s = await openStream(server.port, '/api/events', { 'Last-Event-ID': '10' });
    cleanup.push(() => s.close());
    await s.waitFor((x) => x.id === String(last), 'the last event');
    const ids = s.frames.filter((x) => x.event === 'transition').map((x) => Number(x.id));
    expect(ids).toEqual(Array.from({ length: last - 10 }, (_, i) => 11 + i));
  });

  test('without fs.watch, the poll alone delivers a commit', async () => {
    const { root, server } = await serve({ watch: false, pollMs: 50 });
    const s = await openStream(server.port);
    cleanup.push(() => s.close());
    await s.waitFor((f) => f.event === 'hello', 'hello');
    await applyTransitions(root, [{ entity_type: 'task', entity_id: 'rel-bench', trigger: 'user_cancelled', timestamp: new Date().toISOString(), metadata: { cost_usd: 0.25 } }]);
    const f = await s.waitFor((x) => x.event === 'transition', 'the polled commit');
    expect(JSON.parse(f.data).entity_id).toBe('rel-bench');
    // Spend recorded by a worker (metadata.cost_usd) is summed per workstream.
    expect(json((await raw(server.port, '/api/state')).body).metrics.spend).toEqual({ total_usd: 0.25, by_workstream: { 'release-0-2': 0.25 }, events: 1 });
  });

  test('the number of streams is bounded: 503 beyond, room again once one closes', async () => {
    const { server } = await serve({ maxClients: 2 });
    const a = await openStream(server.port);
    const b = await openStream(server.port);
    cleanup.push(() => a.close(), () => b.close());
    await a.waitFor((f) => f.event === 'hello', 'hello a');
    await b.waitFor((f) => f.event === 'hello', 'hello b');
    const c = await openStream(server.port);
    expect(c.status).toBe(503);
    await c.waitFor((f) => f.event === 'body', 'the refusal body');
    expect(c.frames.at(-1)?.data).toContain('too many event streams');
    expect((await raw(server.port, '/api/state')).status).toBe(200); // the rest of the API still answers
    a.close();
    // The server notices the closed socket asynchronously: retry until it has (bounded).
    let d = await openStream(server.port);
    for (let i = 0; d.status === 503 && i < 800; i++) {
      await new Promise((r) => setTimeout(r, 25));
      d = await openStream(server.port);
    }
    cleanup.push(() => d.close());
    expect(d.status).toBe(200);
  });

  test('a malformed line and a torn tail are shown as problems; the server keeps serving and following', async () => {
    const { root, server } = await serve({ watch: false, pollMs: 0 });
    const log = join(root, '.state/transitions.jsonl');
    const s = await openStream(server.port);
    cleanup.push(() => s.close());
    await s.waitFor((f) => f.event === 'hello', 'hello');
    const last = readSnapshot(root)!.last_seq;
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    const template = JSON.parse(lines[lines.length - 1] as string) as OrcEvent;

    // 1. a complete line that is no event, then a valid one after it
    appendFileSync(log, 'this is {not json\n');
    appendFileSync(log, `${JSON.stringify({ ...template, seq: last + 1, event_id: 'after-garbage' })}\n`);
    server.feed.check();
    const corrupt = await s.waitFor((f) => f.event === 'problem' && json(f.data).kind === 'corrupt', 'the corrupt-line problem');
    expect(json(corrupt.data)).toMatchObject({ file: '.state/transitions.jsonl', line: lines.length + 1 });
    await s.waitFor((f) => f.id === String(last + 1), 'the event after the bad line');

    // 2. a torn tail: reported once it stays (two reads), never handed over
    appendFileSync(log, '{"seq": 99999, "event_id": "to');
    server.feed.check();
    expect(s.frames.some((f) => f.event === 'problem' && json(f.data).kind === 'torn')).toBe(false);
    server.feed.check();
    const torn = await s.waitFor((f) => f.event === 'problem' && json(f.data).kind === 'torn', 'the torn-tail problem');
    expect(json(torn.data).line).toBe(lines.length + 3);
    const state = json((await raw(server.port, '/api/state')).body);
    expect(state.problems.map((p: any) => p.kind).filter((k: string) => k !== 'definition').sort()).toEqual(['corrupt', 'torn']);
    expect(state.problems.find((p: any) => p.kind === 'corrupt').line).toBe(lines.length + 1);
    expect(s.frames.some((f) => f.id === '99999')).toBe(false);
    expect((await raw(server.port, '/')).status).toBe(200);

    // 3. the tail completes: the event is handed over, the torn problem goes away
    appendFileSync(log, `rn", "later": true}\n`);
    server.feed.check();
    await s.waitFor((f) => f.id === '99999', 'the completed line');
    const after = json((await raw(server.port, '/api/state')).body);
    expect(after.problems.map((p: any) => p.kind).filter((k: string) => k !== 'definition')).toEqual(['corrupt']);
  });
});
