/**
 * Leases on claims: a worker holds its task under a lease with a fencing
 * token, renews it with heartbeats, and loses it when a commit happens after
 * it expired. Everything here runs inside the commit path, under the `.state`
 * lock, against the live state; nothing writes on its own.
 *
 * Public API (stable):
 *   - DEFAULT_LEASE_SECONDS, MAX_LEASE_SECONDS, NOW_ENV, HEARTBEAT_TRIGGER, LEASE_TOKEN_KEY
 *   - clockOf({ now? }): Date — the commit clock: options.now, else $ORC_STATE_NOW
 *     (a test hook: an ISO-8601 time), else the wall clock
 *   - leaseSeconds(value?): number — a validated lease length (default 300 s)
 *   - newLease(state, now, { seconds?, pid?, host? }): LeaseGrant — the value of
 *     metadata.lease on a worker_started request; its token is `<seq>-<16 hex>` with
 *     seq = state.last_seq + 1, so a later claim always has a larger seq part
 *   - tokenOrder(token): number | null — the seq part of a token (compare claims)
 *   - heartbeatRequest(workerId, token, now, seconds?): TransitionRequest
 *   - leaseExpiryRequests(state, now): TransitionRequest[] — for every worker holding
 *     a lease that expired (expires_at <= now): worker health_check_timeout (when it is
 *     busy; an unresponsive one already is), then task task_timeout (the task machine picks retrying or failed and counts the
 *     attempt); both carry metadata.lease_expired { token, task_id, worker_id,
 *     expires_at, pid, host } and an error naming the lease
 *   - planLeaseRequest(state, req, planMachine): PendingEvent[] | null — the commit path's hook
 *     for every request: refuses (USAGE) a metadata.lease that newLease did not make or
 *     that is not on a task worker_started; refuses (LEASE_REFUSED) a request whose metadata.lease_token
 *     is stale, belongs to another worker or to another task; plans a heartbeat
 *     (worker request with trigger `heartbeat`) as a `lease_renewed` system event, followed by
 *     the worker's health_check_recovered (planned by planMachine) when it was unresponsive;
 *     returns null for every other request (the machines plan it)
 *   - findLease(state, token): { worker, lease } | null
 *   - expiryMessages(events): string[] — one sentence per expired lease
 *   - LeaseGrant (type)
 * Where the lease lives: `workers[].lease` in current.json (model.ts WorkerLease),
 * set by the task_assigned event that follows a worker_started carrying
 * metadata.lease, moved by `lease_renewed` events, removed when the worker no longer
 * holds the task (task released, shutdown); replaying the log rebuilds it exactly (compareWithReplay compares it).
 * Integration points: src/engine/commit.ts (expiry before every batch, planLeaseRequest
 * per request), src/engine/claim.ts, the CLI (claim, heartbeat, task --token), the MCP server, `run`.
 * Dependencies: node:crypto, node:os, ../errors.js, ../machines/index.js, ../model.js (types).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { OrcError } from '../errors.js';
import type { OrcEvent, WorkerLease, WorkerState } from '../model.js';
import { EVENT_SCHEMA_VERSION, LEASE_RENEWED_EVENT, type LiveState, type PendingEvent, type TransitionRequest } from '../machines/index.js';

export const DEFAULT_LEASE_SECONDS = 300;
export const MAX_LEASE_SECONDS = 7 * 24 * 3600;
export { NOW_ENV } from '../core/clock.js';
/** The request trigger of a heartbeat (not a machine trigger: it becomes a `lease_renewed` system event). */
export const HEARTBEAT_TRIGGER = 'heartbeat';
/** The request metadata key carrying a fencing token. */
export const LEASE_TOKEN_KEY = 'lease_token';

/** metadata.lease of a worker_started request. */
export type LeaseGrant = Omit<WorkerLease, 'task_id'>;

export { clockOf } from '../core/clock.js';

export function leaseSeconds(value?: number): number {
  if (value === undefined) return DEFAULT_LEASE_SECONDS;
  if (!Number.isInteger(value) || value < 1 || value > MAX_LEASE_SECONDS) {
    throw new OrcError('USAGE', `a lease lasts 1..${MAX_LEASE_SECONDS} seconds (got ${String(value)})`, {
      fix: `e.g. --lease ${DEFAULT_LEASE_SECONDS}; renew it with \`orc-state heartbeat\` before it ends`,
    });
  }
  return value;
}

export function newLease(state: Readonly<Pick<LiveState, 'last_seq'>>, now: Date, input: { seconds?: number; pid?: number | null; host?: string | null } = {}): LeaseGrant {
  const seconds = leaseSeconds(input.seconds);
  return {
    token: `${state.last_seq + 1}-${randomBytes(8).toString('hex')}`,
    acquired_at: now.toISOString(),
    expires_at: new Date(now.getTime() + seconds * 1000).toISOString(),
    seconds,
    pid: input.pid ?? null,
    host: input.host === undefined ? hostname() : input.host,
  };
}

export function tokenOrder(token: string): number | null {
  const m = /^(\d+)-[0-9a-f]{16}$/.exec(token);
  return m ? Number(m[1]) : null;
}

export function findLease(state: LiveState, token: string): { worker: WorkerState; lease: WorkerLease } | null {
  for (const worker of state.workers.values()) {
    if (worker.lease?.token === token) return { worker, lease: worker.lease };
  }
  return null;
}

export function heartbeatRequest(workerId: string, token: string, now: Date, seconds?: number): TransitionRequest {
  return {
    entity_type: 'worker',
    entity_id: workerId,
    trigger: HEARTBEAT_TRIGGER,
    timestamp: now.toISOString(),
    worker_id: workerId,
    metadata: { [LEASE_TOKEN_KEY]: token, ...(seconds !== undefined ? { lease_seconds: leaseSeconds(seconds) } : {}) },
  };
}

export function leaseExpiryRequests(state: LiveState, now: Date): TransitionRequest[] {
  const out: TransitionRequest[] = [];
  const at = now.getTime();
  const timestamp = now.toISOString();
  const workers = [...state.workers.values()].filter((w) => w.lease && (w.status === 'busy' || w.status === 'unresponsive') && Date.parse(w.lease.expires_at) <= at);
  workers.sort((a, b) => (a.worker_id < b.worker_id ? -1 : a.worker_id > b.worker_id ? 1 : 0));
  for (const w of workers) {
    const l = w.lease as WorkerLease;
    const error = `lease ${l.token} of worker ${w.worker_id} on task ${l.task_id} expired at ${l.expires_at} without a heartbeat${l.pid !== null ? ` (claimed by pid ${l.pid}${l.host ? ` on ${l.host}` : ''})` : ''}`;
    const metadata = { lease_expired: { token: l.token, task_id: l.task_id, worker_id: w.worker_id, expires_at: l.expires_at, pid: l.pid, host: l.host } };
    if (w.status === 'busy') out.push({ entity_type: 'worker', entity_id: w.worker_id, trigger: 'health_check_timeout', timestamp, error, metadata });
    const task = state.tasks.get(l.task_id);
    if (task && task.status === 'running' && task.assigned_worker === w.worker_id) {
      out.push({ entity_type: 'task', entity_id: task.task_id, trigger: 'task_timeout', timestamp, error, metadata });
    }
  }
  return out;
}

/** One sentence per expired lease, from the events of an expiry (CommitResult.expired). */
export function expiryMessages(events: readonly OrcEvent[]): string[] {
  return [...new Set(events.filter((e) => e.metadata['lease_expired'] !== undefined && typeof e.metadata.error === 'string').map((e) => e.metadata.error as string))];
}

function refused(message: string, fix: string, data: Record<string, unknown>): OrcError {
  return new OrcError('LEASE_REFUSED', message, { fix, data });
}

/** The lease a request's token names, after checking it fits the request (throws LEASE_REFUSED). */
function checkToken(state: LiveState, req: TransitionRequest, token: unknown): { worker: WorkerState; lease: WorkerLease } {
  if (typeof token !== 'string' || token === '') {
    throw new OrcError('USAGE', `the lease token must be a non-empty string (got ${JSON.stringify(token)})`, { fix: 'pass the token `orc-state claim` printed' });
  }
  const held = findLease(state, token);
  const what = `${req.entity_type} ${req.entity_id} ${req.trigger}`;
  if (!held) {
    const task = req.entity_type === 'task' ? state.tasks.get(req.entity_id) : undefined;
    const now = task?.assigned_worker ? state.workers.get(task.assigned_worker)?.lease : undefined;
    throw refused(
      `${what} refused: lease token ${token} is stale (no worker holds it: it expired, or its task finished or was claimed again)${task ? `; task ${task.task_id} is ${task.status}${now ? ` under lease ${now.token} of worker ${task.assigned_worker}` : ''}` : ''}`,
      'work done under an expired lease must not be reported; claim again with `orc-state claim --worker <id>`',
      { token, reason: 'stale' },
    );
  }
  const claimed = req.worker_id ?? (req.entity_type === 'worker' ? req.entity_id : null);
  if (claimed !== null && claimed !== held.worker.worker_id) {
    throw refused(`${what} refused: lease token ${token} belongs to worker ${held.worker.worker_id}, not ${claimed}`, 'pass the token your own claim returned', {
      token,
      reason: 'other_worker',
      holder: held.worker.worker_id,
    });
  }
  if (req.entity_type === 'task' && req.entity_id !== held.lease.task_id) {
    throw refused(`${what} refused: lease token ${token} is the lease on task ${held.lease.task_id}, not ${req.entity_id}`, `report on task ${held.lease.task_id}, or claim ${req.entity_id} first`, {
      token,
      reason: 'other_task',
      task_id: held.lease.task_id,
    });
  }
  return held;
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A lease handed to worker_started must be what newLease makes (the snapshot schema holds it to that shape). */
function checkGrant(req: TransitionRequest, value: unknown): void {
  const l = (value ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  if (!(req.entity_type === 'task' && req.trigger === 'worker_started')) problems.push('a lease is granted only by a task worker_started request');
  if (typeof value !== 'object' || value === null) problems.push('it is not an object');
  if (typeof l['token'] !== 'string' || tokenOrder(l['token']) === null) problems.push('token is not <seq>-<16 hex>');
  for (const k of ['acquired_at', 'expires_at']) if (typeof l[k] !== 'string' || !ISO_MS.test(l[k] as string)) problems.push(`${k} is not an ISO-8601 UTC time with milliseconds`);
  if (!Number.isInteger(l['seconds']) || (l['seconds'] as number) < 1) problems.push('seconds is not a whole number >= 1');
  if (l['pid'] !== null && !Number.isInteger(l['pid'])) problems.push('pid is not an integer or null');
  if (l['host'] !== null && typeof l['host'] !== 'string') problems.push('host is not a string or null');
  if (problems.length) {
    throw new OrcError('USAGE', `${req.entity_type} ${req.entity_id} ${req.trigger}: metadata.lease is invalid (${problems.join('; ')})`, {
      fix: 'build the lease with newLease(state, now, { seconds, pid, host }) (src/engine/leases.ts)',
    });
  }
}

export function planLeaseRequest(state: LiveState, req: TransitionRequest, planMachine: (req: TransitionRequest) => PendingEvent[]): PendingEvent[] | null {
  if (req.metadata?.['lease'] !== undefined) checkGrant(req, req.metadata['lease']);
  const token = req.metadata?.[LEASE_TOKEN_KEY];
  const heartbeat = req.entity_type === 'worker' && req.trigger === HEARTBEAT_TRIGGER;
  if (token === undefined) {
    if (heartbeat) throw new OrcError('USAGE', `worker ${req.entity_id} heartbeat needs the lease token`, { fix: 'pass --token <token from orc-state claim>' });
    return null;
  }
  const held = checkToken(state, req, token);
  if (!heartbeat) return null;
  const requested = req.metadata?.['lease_seconds'];
  const seconds = leaseSeconds(typeof requested === 'number' ? requested : held.lease.seconds || DEFAULT_LEASE_SECONDS);
  const lease: WorkerLease = { ...held.lease, seconds, expires_at: new Date(Date.parse(req.timestamp) + seconds * 1000).toISOString() };
  const ev: PendingEvent = {
    schema_version: EVENT_SCHEMA_VERSION,
    timestamp: req.timestamp,
    event: LEASE_RENEWED_EVENT,
    trigger: HEARTBEAT_TRIGGER,
    entity_type: 'system',
    entity_id: held.worker.worker_id,
    workstream_id: state.tasks.get(held.lease.task_id)?.workstream_id ?? null,
    from_state: null,
    to_state: null,
    severity: 'info',
    caused_by: req.caused_by ?? null,
    metadata: { worker_id: held.worker.worker_id, task_id: held.lease.task_id, [LEASE_TOKEN_KEY]: held.lease.token, previous_expires_at: held.lease.expires_at, lease },
  };
  if (req.actor !== undefined) ev.actor = req.actor;
  if (held.worker.status !== 'unresponsive') return [ev];
  // a worker marked unresponsive that reports again has recovered (back to busy: it holds the task)
  const { metadata: _m, worker_id: _w, ...rest } = req;
  return [ev, ...planMachine({ ...rest, trigger: 'health_check_recovered', caused_by: null })];
}
