// The per-user cache directory is pruned as it is written: temp files a killed writer left, caches untouched
// for the maximum age, then the oldest while the directory is over its size cap (the clock is injected).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pruneUserCache, writeCacheFile } from '../src/core/user-cache.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const HOUR = 3_600_000;

function file(dir: string, name: string, ageMs: number, bytes = 10): void {
  writeFileSync(join(dir, name), 'x'.repeat(bytes));
  const t = (NOW - ageMs) / 1000;
  utimesSync(join(dir, name), t, t);
}

describe('pruneUserCache', () => {
  it('removes stale temp files and caches past the maximum age, keeps the rest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orc-cache-'));
    file(dir, 'definitions-a.json', 2 * HOUR);
    file(dir, 'definitions-a.json.123.tmp', 2 * HOUR);
    file(dir, 'history-b.json.456.tmp', HOUR / 2); // a writer may still be busy with it
    file(dir, 'history-old.json', 15 * 24 * HOUR);
    mkdirSync(join(dir, 'sub'));
    const removed = pruneUserCache(dir, { now: NOW });
    expect(removed.sort()).toEqual(['definitions-a.json.123.tmp', 'history-old.json']);
    expect(readdirSync(dir).sort()).toEqual(['definitions-a.json', 'history-b.json.456.tmp', 'sub']);
  });

  it('over the size cap, removes the oldest files until half the cap is left', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orc-cache-'));
    for (let i = 0; i < 10; i++) file(dir, `definitions-${i}.json`, (10 - i) * HOUR, 100); // 0 is the oldest
    const removed = pruneUserCache(dir, { now: NOW, maxBytes: 800 });
    expect(removed.sort()).toEqual(['definitions-0.json', 'definitions-1.json', 'definitions-2.json', 'definitions-3.json', 'definitions-4.json', 'definitions-5.json']);
    expect(readdirSync(dir)).toHaveLength(4);
  });

  it('a directory that does not exist prunes nothing', () => {
    expect(pruneUserCache(join(tmpdir(), 'orc-cache-missing-' + process.pid), { now: NOW })).toEqual([]);
  });
});

describe('writeCacheFile', () => {
  it('writes the JSON by rename, leaves no temp file, and never throws', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orc-cache-'));
    const target = join(dir, 'nested', 'resources-x.json');
    writeCacheFile(target, { a: 1 });
    expect(JSON.parse(readFileSync(target, 'utf8'))).toEqual({ a: 1 });
    expect(readdirSync(join(dir, 'nested')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    writeFileSync(join(dir, 'blocker'), '');
    expect(() => writeCacheFile(join(dir, 'blocker', 'x.json'), {})).not.toThrow(); // parent is a file
    expect(existsSync(join(dir, 'blocker', 'x.json'))).toBe(false);
  });
});
