// The per-user run-history cache (src/graph/history-cache.ts): a continued history equals one read from
// the whole log; a rotated or rewritten log is never continued.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyTransitions, syncDefinitions } from '../src/engine/commit.js';
import { readEvents } from '../src/engine/log.js';
import { rotateLog } from '../src/engine/rotate.js';
import { runHistoryFromAsync, type RunHistory } from '../src/graph/estimates.js';
import { loadCachedHistory, saveCachedHistory } from '../src/graph/history-cache.js';
import type { TransitionRequest } from '../src/machines/index.js';
// @ts-expect-error plain JS fixture
import { flatSpec, makeRepo } from './fixtures/engine/make-repo.mjs';

let clock = Date.parse('2026-12-01T08:00:00.000Z');
const now = () => new Date((clock += 7000));
const t = (id: string, trigger: string, extra: Partial<TransitionRequest> = {}): TransitionRequest => ({ entity_type: 'task', entity_id: id, trigger, timestamp: now().toISOString(), ...extra });
const run = (id: string) => [t(id, 'scheduler_assigned'), t(id, 'worker_started', { worker_id: 'w1' }), t(id, 'execution_completed', { metadata: { exit_code: 0 } })];
const full = (root: string) => runHistoryFromAsync(readEvents(root));
const plain = (h: RunHistory | null) => (h ? { lastSeq: h.lastSeq, durations: [...h.durations].sort() } : null);

describe('run-history cache', () => {
  it('continues with only the appended events and matches a full read', async () => {
    const root = makeRepo(flatSpec('ws', 4)) as string;
    await syncDefinitions(root, { clock: now });
    await applyTransitions(root, [{ entity_type: 'worker', entity_id: 'w1', trigger: 'worker_registered', timestamp: now().toISOString(), metadata: { capabilities: [] } }, { entity_type: 'worker', entity_id: 'w1', trigger: 'registration_complete', timestamp: now().toISOString() }]);
    await applyTransitions(root, run('t0'));
    saveCachedHistory(root, await full(root));
    await applyTransitions(root, [t('t0', 'validation_passed'), ...run('t1'), t('t1', 'validation_passed')]);
    const continued = loadCachedHistory(root);
    expect(plain(continued)).toEqual(plain(await full(root)));
    expect(continued!.durations.get('t1')).toHaveLength(1);
    // A torn tail (incomplete line) is not applied.
    appendFileSync(join(root, '.state/transitions.jsonl'), '{"seq": 999, "entity_ty');
    expect(plain(loadCachedHistory(root))).toEqual(plain(continued));
    // Saved while that torn tail is there: the cache ends at the last newline, so after the next writer cut the
    // torn bytes and appended, the continuation starts at a line boundary and still equals a full read.
    saveCachedHistory(root, continued!);
    await applyTransitions(root, [...run('t2'), t('t2', 'validation_passed')]);
    expect(plain(loadCachedHistory(root))).toEqual(plain(await full(root)));
    expect(loadCachedHistory(root)!.durations.get('t2')).toHaveLength(1);
  });

  it('is not saved when the history is behind the log, and not used after rotation or a rewrite', async () => {
    const root = makeRepo(flatSpec('ws', 2)) as string;
    await syncDefinitions(root, { clock: now });
    const behind = await full(root);
    await applyTransitions(root, [t('t0', 'scheduler_assigned')]);
    saveCachedHistory(root, behind); // lastSeq is older than the log's last line: refused
    expect(loadCachedHistory(root)).toBeNull();
    saveCachedHistory(root, await full(root));
    expect(loadCachedHistory(root)).not.toBeNull();
    await rotateLog(root);
    expect(loadCachedHistory(root)).toBeNull();
    saveCachedHistory(root, await full(root));
    const log = join(root, '.state/transitions.jsonl');
    writeFileSync(log, readFileSync(log, 'utf8').replace('"actor":', '"actor" :')); // same size class, new head
    expect(loadCachedHistory(root)).toBeNull();
  });
});
