// `ready` reads task statuses from .state/by_status.json when that index was derived from the snapshot that
// current.json holds now (src/derive/status-view.ts); otherwise it reads the snapshot.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyTransitions, syncDefinitions } from '../src/engine/commit.js';
import { readSnapshot } from '../src/engine/snapshot.js';
import { readStatusView } from '../src/derive/status-view.js';
// @ts-expect-error plain JS fixture
import { makeRepo } from './fixtures/engine/make-repo.mjs';

const statuses = (tasks: Array<{ task_id: string; status: string }>) => Object.fromEntries(tasks.map((t) => [t.task_id, t.status]));

describe('status view', () => {
  it('gives every task status of the current snapshot, and nothing once the index is behind', async () => {
    const root = makeRepo({ ws1: [{ id: 'a' }, { id: 'b', deps: ['a'] }], ws2: [{ id: 'c' }] }) as string;
    await syncDefinitions(root);
    await applyTransitions(root, [{ entity_type: 'task', entity_id: 'a', trigger: 'scheduler_assigned', timestamp: new Date().toISOString() }]);
    const snap = readSnapshot(root)!;
    const view = readStatusView(root)!;
    expect(view.last_seq).toBe(snap.last_seq);
    expect(view.timestamp).toBe(snap.timestamp);
    expect(statuses(view.tasks)).toEqual(statuses(snap.tasks));
    expect(statuses(view.tasks).a).toBe('queued');
    // A commit whose derived files are not refreshed: the index is stale, the view refuses.
    await applyTransitions(root, [{ entity_type: 'task', entity_id: 'c', trigger: 'scheduler_assigned', timestamp: new Date().toISOString() }], { derive: false });
    expect(readStatusView(root)).toBeNull();
    // A snapshot not laid out as serializeSnapshot writes it: the view refuses too.
    const current = join(root, '.state/current.json');
    writeFileSync(current, JSON.stringify(JSON.parse(readFileSync(current, 'utf8'))));
    expect(readStatusView(root)).toBeNull();
  });
});
