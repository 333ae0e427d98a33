/**
 * The dashboard in a real headless browser (Debian's chromium driven by
 * playwright-core; no browser is ever downloaded): `orc-state serve` runs as
 * a child process on a copy of the example repo; every task of every
 * workstream must be drawn, with no console error and no failed request; a
 * transition committed by the CLI must recolour its node without a reload.
 * Screenshots go to test-artifacts/ (gitignored); with
 * ORC_STATE_UPDATE_SCREENSHOT=1 the README's docs/images/dashboard.png is
 * refreshed from the same run.
 * Chromium missing is a failure with the command that installs it, never a skip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readSnapshot } from '../src/engine/snapshot.js';
import { CLI, PKG, cli, copyExample } from './fixtures/serve/helpers.js';

const CHROMIUM = process.env.ORC_STATE_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(PKG, 'test-artifacts');

let root = '';
let server: ChildProcess | null = null;
let url = '';
let browser: Browser | null = null;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`chromium is not installed at ${CHROMIUM}: run \`apt-get update && apt-get install -y chromium\` (.ci/run does), or set ORC_STATE_CHROMIUM to a Chromium binary`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  // With docs/ and specifications/ the example's required_files exist: no definition problem on the page.
  root = copyExample(['docs', 'specifications', 'schemas']);
  // A log for the running task's attempt, as the runner writes it.
  const running = readSnapshot(root)!.tasks.find((t) => t.status === 'running')!;
  mkdirSync(join(root, '.state/logs', running.task_id), { recursive: true });
  writeFileSync(join(root, '.state/logs', running.task_id, 'attempt-1.log'), '$ aider --message "tighten the task schema"\nreading schemas/task.v2.0.0.schema.json\napplying 3 edits\n');

  server = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--json', '--root', root], { stdio: ['ignore', 'pipe', 'pipe'] });
  const first = await new Promise<string>((done, fail) => {
    const rl = createInterface({ input: server!.stdout! });
    rl.once('line', done);
    server!.once('exit', (code) => fail(new Error(`serve exited with ${code} before printing its URL`)));
  });
  url = (JSON.parse(first) as { url: string }).url;

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // The event stream is cut when the page closes; anything else is a real failure.
    if (!r.url().includes('/api/events')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    if (!r.url().startsWith(url)) problems.push(`request outside the server: ${r.url()}`);
  });
});

afterAll(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill('SIGINT');
    await new Promise((r) => server!.once('exit', r));
  }
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('dashboard in headless chromium', () => {
  test('draws every task of every workstream, with no console error', async () => {
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const snapshot = readSnapshot(root)!;
    for (const ws of snapshot.workstreams) {
      await page.click(`#workstreams li[data-ws="${ws.workstream_id}"]`);
      await page.waitForFunction((id) => document.getElementById('dag-title')?.textContent === id, ws.workstream_id);
      const want = snapshot.tasks.filter((t) => t.workstream_id === ws.workstream_id);
      await page.waitForFunction((n) => document.querySelectorAll('#dag .node:not(.external)').length === n, want.length);
      const drawn = await page.$$eval('#dag .node:not(.external)', (nodes) => nodes.map((n) => [n.getAttribute('data-task-id'), n.getAttribute('data-status')]));
      expect(drawn.map(([id]) => id).sort()).toEqual(want.map((t) => t.task_id).sort());
      for (const [id, status] of drawn) expect(status, id ?? '').toBe(want.find((t) => t.task_id === id)!.status);
      // Laid out (dagre): every node has its own position.
      const positions = await page.$$eval('#dag .node', (nodes) => nodes.map((n) => n.getAttribute('transform')));
      expect(new Set(positions).size).toBe(positions.length);
      expect(await page.locator('#dag .node.critical').count()).toBeGreaterThan(0);
      await page.screenshot({ path: join(ARTIFACTS, `dashboard-${ws.workstream_id}.png`), fullPage: true });
    }
    expect(await page.locator('#workers tr[data-worker]').count()).toBe(snapshot.workers.length);
    expect(problems).toEqual([]);
  });

  test('a CLI commit recolours its node without a reload', async () => {
    await page.click('#workstreams li[data-ws="api-hardening"]');
    await page.waitForFunction(() => document.getElementById('dag-title')?.textContent === 'api-hardening');
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    const queued = readSnapshot(root)!.tasks.find((t) => t.workstream_id === 'api-hardening' && t.status === 'queued')!;
    const node = `#dag .node[data-task-id="${queued.task_id}"]`;
    expect(await page.getAttribute(node, 'data-status')).toBe('queued');

    const r = await cli(['task', queued.task_id, 'user_cancelled', '--root', root]);
    expect(r.code, r.stderr).toBe(0);
    await page.waitForSelector(`${node}[data-status="cancelled"]`, { timeout: 15_000 });
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    const seq = readSnapshot(root)!.last_seq;
    await page.waitForFunction((s) => document.body.dataset.seq === String(s), seq);
    expect(await page.textContent('#feed li:first-child')).toContain(`seq ${seq}`);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-after-commit.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  test('the task panel shows state, attempts, the why chain and the log tail', async () => {
    const running = readSnapshot(root)!.tasks.find((t) => t.status === 'running')!;
    await page.click(`#dag .node[data-task-id="${running.task_id}"]`);
    await page.waitForFunction((id) => document.getElementById('task-title')?.textContent === id && !!document.querySelector('#task pre.log'), running.task_id);
    const text = (await page.textContent('#task')) ?? '';
    expect(text).toContain('running');
    expect(text).toContain('applying 3 edits');
    expect(text).toContain('task_started');
    expect(await page.locator('#task table.attempts tbody tr').count()).toBeGreaterThan(0);
    // The log grows without any event: the panel follows it.
    appendFileSync(join(root, '.state/logs', running.task_id, 'attempt-1.log'), 'tests passed: 42\n');
    await page.waitForFunction(() => document.querySelector('#task pre.log')?.textContent?.includes('tests passed: 42'), undefined, { timeout: 20_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-task.png'), fullPage: true });
    if (process.env.ORC_STATE_UPDATE_SCREENSHOT === '1') {
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-readme.png'), clip: { x: 0, y: 0, width: 1600, height: 1000 } });
      mkdirSync(join(PKG, 'docs/images'), { recursive: true });
      copyFileSync(join(ARTIFACTS, 'dashboard-readme.png'), join(PKG, 'docs/images/dashboard.png'));
    }
    expect(problems).toEqual([]);
  });

  test('serve stops cleanly on SIGINT', async () => {
    await browser?.close();
    browser = null;
    server!.kill('SIGINT');
    const code = await new Promise<number | null>((r) => server!.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  });
});
