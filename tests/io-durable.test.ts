import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isTempFileName, tempPathFor, writeFileDurable, writeFileDurableSync } from '../src/io/atomic-write.js';
import { appendDurable, inspectTail, readLineBatches, readTailLines, repairTornTail } from '../src/io/jsonl-log.js';
import { acquireLock, judgeLock, LOCK_FILE, readLockInfo, withLock } from '../src/io/lock.js';
import { OrcError } from '../src/errors.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'orc-io-'));

/** Lines read in 7-byte chunks; the streamed and the synchronous reads must give the same batches and torn tail. */
async function collect(path: string, gzip = false, onTorn?: (t: string, l: number) => void): Promise<string[]> {
  const read = async (sync: boolean) => {
    const batches: Array<{ lines: string[]; firstLine: number }> = [];
    const torn: Array<[string, number]> = [];
    for await (const b of readLineBatches(path, { gzip, chunkBytes: 7, sync, onTorn: (t, l) => torn.push([t, l]) })) batches.push(b);
    return { batches, torn };
  };
  const streamed = await read(false);
  expect(await read(true)).toEqual(streamed);
  for (const [t, l] of streamed.torn) onTorn?.(t, l);
  return streamed.batches.flatMap((b) => b.lines);
}

describe('writeFileDurable', () => {
  it('replaces the file and leaves no temp file; current.json goes through current.json.tmp', async () => {
    const dir = tmp();
    const target = join(dir, 'current.json');
    expect(tempPathFor(target)).toBe(join(dir, 'current.json.tmp'));
    expect(tempPathFor(join(dir, 'by_status.json'))).toMatch(/by_status\.json\.\d+\.[0-9a-f]{8}\.tmp$/);
    await writeFileDurable(target, '{"a":1}\n');
    await writeFileDurable(target, '{"a":2}\n');
    writeFileDurableSync(join(dir, 'x.json'), 'sync');
    expect(readFileSync(target, 'utf8')).toBe('{"a":2}\n');
    expect(readFileSync(join(dir, 'x.json'), 'utf8')).toBe('sync');
    expect(readdirSync(dir).filter(isTempFileName)).toEqual([]);
  });

  it('leaves the target untouched and removes its temp file when the write fails', async () => {
    const dir = tmp();
    const target = join(dir, 'current.json');
    writeFileSync(target, 'old');
    mkdirSync(join(dir, 'current.json.tmp')); // the temp path is a directory: open fails
    await expect(writeFileDurable(target, 'new')).rejects.toThrow();
    expect(readFileSync(target, 'utf8')).toBe('old');
  });

  it('recognises temp files of interrupted writes', () => {
    expect(isTempFileName('current.json.tmp')).toBe(true);
    expect(isTempFileName('current.json.1234567')).toBe(true); // write-file-atomic
    expect(isTempFileName('current.json')).toBe(false);
    expect(isTempFileName('transitions.jsonl')).toBe(false);
  });
});

describe('JSONL log', () => {
  it('appends durably and streams complete lines across chunk boundaries, including multi-byte text', async () => {
    const dir = tmp();
    const log = join(dir, 'log.jsonl');
    await appendDurable(log, '{"seq":1,"t":"é✓"}\n');
    await appendDurable(log, '{"seq":2}\n{"seq":3}\n');
    expect(await collect(log)).toEqual(['{"seq":1,"t":"é✓"}', '{"seq":2}', '{"seq":3}']);
    expect(readTailLines(log, 1 << 20)).toEqual(['{"seq":1,"t":"é✓"}', '{"seq":2}', '{"seq":3}']);
    expect(readTailLines(log, 12)).toEqual(['{"seq":3}']);
    expect(inspectTail(log)).toMatchObject({ tornBytes: 0, lastLine: '{"seq":3}' });
  });

  it('never yields a torn tail; repair keeps the bytes aside and truncates to the last newline', async () => {
    const dir = tmp();
    const log = join(dir, 'log.jsonl');
    writeFileSync(log, '{"seq":1}\n{"seq":2}\n{"seq":3,"ev');
    const torn: string[] = [];
    expect(await collect(log, false, (t) => torn.push(t))).toEqual(['{"seq":1}', '{"seq":2}']);
    expect(torn).toEqual(['{"seq":3,"ev']);
    expect(inspectTail(log)).toMatchObject({ tornBytes: 12, lastLine: '{"seq":2}', completeBytes: 20 });
    const repair = await repairTornTail(log, join(dir, 'recovered'));
    expect(repair).not.toBeNull();
    expect(readFileSync(log, 'utf8')).toBe('{"seq":1}\n{"seq":2}\n');
    expect(readFileSync(repair!.savedTo, 'utf8')).toBe('{"seq":3,"ev');
    expect(await repairTornTail(log, join(dir, 'recovered'))).toBeNull();
  });

  it('treats a file without any newline as entirely torn, and reads gzip archives', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.jsonl'), 'partial');
    expect(inspectTail(join(dir, 'a.jsonl'))).toMatchObject({ completeBytes: 0, tornBytes: 7, lastLine: null });
    writeFileSync(join(dir, 'b.jsonl.gz'), gzipSync('{"seq":1}\n{"seq":2}\n'));
    expect(await collect(join(dir, 'b.jsonl.gz'), true)).toEqual(['{"seq":1}', '{"seq":2}']);
    expect(inspectTail(join(dir, 'missing.jsonl'))).toMatchObject({ exists: false });
  });
});

describe('lock', () => {
  it('excludes a second holder until release, then lets it in; times out naming the holder', async () => {
    const dir = tmp();
    const first = await acquireLock(dir, { command: 'test-holder' });
    const info = readLockInfo(dir);
    expect(info).toMatchObject({ pid: process.pid, hostname: hostname(), token: first.info.token, command: 'test-holder' });
    const err = await acquireLock(dir, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OrcError);
    expect((err as OrcError).code).toBe('LOCK_TIMEOUT');
    expect((err as OrcError).message).toContain(`pid ${process.pid}`);
    expect((err as OrcError).message).toContain('test-holder');
    const waiting = acquireLock(dir, { timeoutMs: 5000 });
    setTimeout(() => first.release(), 50);
    const second = await waiting;
    expect(readLockInfo(dir)?.token).toBe(second.info.token);
    second.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    expect(readdirSync(dir).filter(isTempFileName)).toEqual([]);
  });

  it('serialises concurrent holders in one process', async () => {
    const dir = tmp();
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        withLock(dir, { timeoutMs: 10_000 }, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((r) => setTimeout(r, 3));
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
  });

  it('breaks the lock of a process that is gone, and reports it', async () => {
    const dir = tmp();
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid as number;
    const stale = { pid: dead, hostname: hostname(), pid_namespace: readLockInfoNs(), token: 'deadbeef', acquired_at: new Date().toISOString() };
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(stale));
    expect(judgeLock(readLockInfo(dir)).stale).toBe(true);
    const broken: string[] = [];
    const h = await acquireLock(dir, { timeoutMs: 1000, onStaleBroken: (_i, reason) => broken.push(reason) });
    expect(broken[0]).toContain(`process ${dead}`);
    h.release();
  });

  it('does not remove a lock that is no longer ours (token check on release)', async () => {
    const dir = tmp();
    const h = await acquireLock(dir);
    const foreign = { ...h.info, token: 'someone-else' };
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(foreign));
    h.release();
    expect(readLockInfo(dir)?.token).toBe('someone-else');
  });

  it('judges an old lock of another host stale only after the stale timeout', () => {
    const info = { pid: 1, hostname: 'elsewhere', pid_namespace: null, token: 't', acquired_at: new Date(Date.now() - 5_000).toISOString() };
    expect(judgeLock(info, 60_000).stale).toBe(false);
    expect(judgeLock(info, 1_000).stale).toBe(true);
  });
});

function readLockInfoNs(): string | null {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}
