/**
 * Atomic claims: under the `.state` lock, register a worker if it is new,
 * pick the best ready task it can run, queue and start it under a lease, in
 * ONE batch; or say why nothing is claimable. Heartbeats renew the lease.
 *
 * Public API (stable):
 *   - claimTask(root, options): Promise<ClaimResult>
 *   - renewLease(root, options): Promise<HeartbeatResult>
 *   - ClaimOptions, ClaimResult, ClaimReason, ClaimReasonCode, HeartbeatOptions, HeartbeatResult
 * Choice: the order of `orc-state ready` (src/graph/ready.ts: least slack on the
 * critical path, then priority, then id, with resources admitted), computed under
 * the lock from the live state, where a `retrying` task whose retry_delay_seconds
 * has passed counts as queued; the first task whose worker_requirements the
 * worker's capabilities cover is taken. Requests, in one batch: worker_registered +
 * registration_complete (new worker), registration_complete (initializing) or
 * health_check_recovered (unresponsive without a task); scheduler_assigned
 * (pending) or retry_delay_elapsed (retrying); worker_started with metadata.lease.
 * The result carries the definition, its file, the context files the task may use
 * (src/runner/context.ts selectContext) and the lease token.
 * Nothing claimable (ok: false, task_id null): reason.code is worker_busy,
 * worker_shutdown, no_capability, blocked, all_claimed or nothing_left, with a sentence.
 * Integration points: CLI `claim` / `heartbeat`, the MCP server (src/mcp/server.ts), `run`.
 * Dependencies: ./commit.js, ./leases.js, ../graph/{repo,files,ready}.js,
 * ../runner/context.js, ../runner/shell.js (hasCapabilities), ../machines/index.js.
 */
import { hostname } from 'node:os';
import { OrcError } from '../errors.js';
import type { OrcEvent, TaskDefinition, TaskState, WorkerLease } from '../model.js';
import { toSnapshot, type LiveState, type TransitionRequest } from '../machines/index.js';
import { analyze } from '../graph/files.js';
import { computeReady } from '../graph/ready.js';
import { loadGraphInputs } from '../graph/repo.js';
import { selectContext, type ContextSelection } from '../runner/context.js';
import { hasCapabilities } from '../runner/shell.js';
import { openStore, type CommitNotice, type Store } from './commit.js';
import { loadTasksCached } from './definitions-cache.js';
import { clockOf, heartbeatRequest, leaseSeconds, newLease } from './leases.js';

export interface ClaimOptions {
  worker_id: string;
  /** Capabilities of a new worker (an existing worker keeps those it registered with). */
  capabilities?: string[];
  workstream?: string;
  /** Lease length in seconds (default leases.DEFAULT_LEASE_SECONDS). */
  lease_seconds?: number;
  /** The claiming process recorded on the lease (default: this process's parent, the agent that ran the CLI). */
  pid?: number | null;
  host?: string | null;
  now?: Date;
  lockTimeoutMs?: number;
  actor?: string;
  /** A long-lived store (run, MCP); default a one-shot store. */
  store?: Store;
}

export type ClaimReasonCode = 'worker_busy' | 'worker_shutdown' | 'no_capability' | 'blocked' | 'all_claimed' | 'nothing_left';

export interface ClaimReason {
  code: ClaimReasonCode;
  message: string;
}

export interface ClaimResult {
  ok: boolean;
  task_id: string | null;
  token: string | null;
  worker_id: string;
  lease: WorkerLease | null;
  task: TaskDefinition | null;
  /** The task file, repo-relative. */
  file: string | null;
  context: ContextSelection | null;
  /** Why this task: its place in the ready order. */
  rank: { slack_seconds: number; priority: number; critical: boolean } | null;
  reason: ClaimReason | null;
  events: OrcEvent[];
  expired: OrcEvent[];
  last_seq: number;
  notices: CommitNotice[];
}

interface Decision {
  task: TaskDefinition | null;
  lease: Omit<WorkerLease, 'task_id'> | null;
  rank: ClaimResult['rank'];
  reason: ClaimReason | null;
}

const list = (xs: string[], max = 3): string => (xs.length <= max ? xs.join('; ') : `${xs.slice(0, max).join('; ')}; and ${xs.length - max} more`);

export async function claimTask(root: string, options: ClaimOptions): Promise<ClaimResult> {
  const now = clockOf(options);
  const seconds = leaseSeconds(options.lease_seconds);
  const inputs = await loadGraphInputs(root, { taskSet: loadTasksCached(root) });
  if (options.workstream !== undefined && !inputs.analysis.graph.workstreams.includes(options.workstream)) {
    throw new OrcError('NOT_FOUND', `no workstream "${options.workstream}" (known: ${inputs.analysis.graph.workstreams.join(', ') || 'none'})`, {
      fix: 'name a directory under tasks/, or omit --workstream',
    });
  }
  const store = options.store ?? openStore(root, { cacheDefinitions: false });
  const workerId = options.worker_id;
  const decision: Decision = { task: null, lease: null, rank: null, reason: null };

  const planner = (state: Readonly<LiveState>): TransitionRequest[] => {
    const timestamp = now.toISOString();
    const requests: TransitionRequest[] = [];
    const worker = state.workers.get(workerId);
    const held = worker?.current_task ?? null;
    if (worker && (worker.status === 'busy' || held !== null)) {
      decision.reason = {
        code: 'worker_busy',
        message: `worker ${workerId} is ${worker.status} and still holds task ${held}${worker.lease ? ` (lease ${worker.lease.token} until ${worker.lease.expires_at})` : ''}: report it (orc-state task ${held} <trigger>) before claiming another`,
      };
      return [];
    }
    if (worker?.status === 'shutdown') {
      decision.reason = { code: 'worker_shutdown', message: `worker ${workerId} is shut down (terminal): claim with a new worker id` };
      return [];
    }
    const capabilities = worker ? worker.capabilities : (options.capabilities ?? []);
    const base = { timestamp, actor: options.actor ?? workerId };
    if (!worker) {
      requests.push({ ...base, entity_type: 'worker', entity_id: workerId, trigger: 'worker_registered', metadata: { capabilities } });
      requests.push({ ...base, entity_type: 'worker', entity_id: workerId, trigger: 'registration_complete' });
    } else if (worker.status === 'initializing') {
      requests.push({ ...base, entity_type: 'worker', entity_id: workerId, trigger: 'registration_complete' });
    } else if (worker.status === 'unresponsive') {
      requests.push({ ...base, entity_type: 'worker', entity_id: workerId, trigger: 'health_check_recovered' });
    }

    // The ready order from the live state; a retrying task whose delay passed counts as queued.
    const defs = inputs.taskSet.tasks;
    const snapshot = toSnapshot(state as LiveState, []);
    const retryWaits: string[] = [];
    snapshot.tasks = snapshot.tasks.map((t) => {
      if (t.status !== 'retrying') return t;
      const delay = defs.get(t.task_id)?.task.execution?.retry_delay_seconds ?? 0;
      const due = Date.parse(t.updated_at) + delay * 1000;
      if (due <= now.getTime()) return { ...t, status: 'queued' };
      if (options.workstream === undefined || t.workstream_id === options.workstream) retryWaits.push(`${t.task_id} retries after ${new Date(due).toISOString()}`);
      return t;
    });
    const analysis = analyze({ taskSet: inputs.taskSet, snapshot, resources: inputs.registry.resources, history: inputs.history, maxParallel: inputs.maxParallel });
    const report = computeReady(analysis, options.workstream !== undefined ? { workstream: options.workstream } : {});
    const lacking: string[] = [];
    for (const r of report.ready) {
      const taskState = state.tasks.get(r.task_id);
      const def = defs.get(r.task_id)?.task;
      if (!taskState || !def || taskState.orphaned) continue; // not synced yet
      if (!hasCapabilities(capabilities, def)) {
        lacking.push(`${r.task_id} needs [${def.worker_requirements.capabilities.join(', ')}]`);
        continue;
      }
      const lease = newLease(state, now, { seconds, pid: options.pid === undefined ? process.ppid : options.pid, host: options.host === undefined ? hostname() : options.host });
      if (taskState.status === 'pending') requests.push({ ...base, entity_type: 'task', entity_id: r.task_id, trigger: 'scheduler_assigned' });
      else if (taskState.status === 'retrying') requests.push({ ...base, entity_type: 'task', entity_id: r.task_id, trigger: 'retry_delay_elapsed' });
      requests.push({ ...base, entity_type: 'task', entity_id: r.task_id, trigger: 'worker_started', worker_id: workerId, metadata: { lease } });
      decision.task = def;
      decision.lease = lease;
      decision.rank = { slack_seconds: r.slack_seconds, priority: r.priority, critical: r.critical };
      return requests;
    }
    decision.reason = nothingClaimable(state, workerId, capabilities, lacking, report.blocked.map((b) => `${b.task_id}: ${b.reasons.join(', ')}`).concat(retryWaits), options.workstream);
    return requests;
  };

  const r = await store.applyTransitions(planner, {
    taskSet: inputs.taskSet,
    now,
    ...(options.lockTimeoutMs !== undefined ? { lockTimeoutMs: options.lockTimeoutMs } : {}),
    ...(options.actor !== undefined ? { actor: options.actor } : {}),
  });
  const task = decision.task;
  const lease = task && decision.lease ? { ...decision.lease, task_id: task.task_id } : null;
  return {
    ok: task !== null,
    task_id: task?.task_id ?? null,
    token: lease?.token ?? null,
    worker_id: workerId,
    lease,
    task,
    file: task ? (inputs.taskSet.tasks.get(task.task_id)?.file ?? null) : null,
    context: task ? selectContext(root, task) : null,
    rank: decision.rank,
    reason: decision.reason,
    events: r.events,
    expired: r.expired ?? [],
    last_seq: r.snapshot.last_seq,
    notices: r.notices,
  };
}

function nothingClaimable(state: Readonly<LiveState>, workerId: string, capabilities: string[], lacking: string[], blocked: string[], workstream: string | undefined): ClaimReason {
  if (lacking.length) {
    return { code: 'no_capability', message: `no ready task matches worker ${workerId}'s capabilities [${capabilities.join(', ')}]: ${list(lacking)}` };
  }
  const inScope = (t: TaskState) => workstream === undefined || t.workstream_id === workstream;
  const claimed: string[] = [];
  const counts: Record<string, number> = {};
  for (const t of state.tasks.values()) {
    if (!inScope(t)) continue;
    counts[t.status] = (counts[t.status] ?? 0) + 1;
    if (t.status === 'running') claimed.push(`${t.task_id} (running on ${t.assigned_worker ?? 'unknown'})`);
    else if (t.status === 'validating') claimed.push(`${t.task_id} (validating)`);
  }
  const scope = workstream === undefined ? '' : ` in workstream ${workstream}`;
  if (blocked.length) {
    return { code: 'blocked', message: `nothing is ready${scope}: ${list(blocked)}${claimed.length ? ` (${claimed.length} task(s) claimed)` : ''}` };
  }
  if (claimed.length) return { code: 'all_claimed', message: `every ready task${scope} is claimed: ${list(claimed)}` };
  const summary = Object.entries(counts).sort().map(([k, v]) => `${k} ${v}`).join(', ') || 'no tasks';
  return { code: 'nothing_left', message: `no pending, queued or retrying task is left${scope} (${summary}); run \`orc-state sync\` if task files were added` };
}

export interface HeartbeatOptions {
  worker_id: string;
  token: string;
  /** New lease length from now (default: the lease's own length). */
  lease_seconds?: number;
  now?: Date;
  lockTimeoutMs?: number;
  store?: Store;
}

export interface HeartbeatResult {
  ok: true;
  worker_id: string;
  task_id: string;
  token: string;
  lease: WorkerLease;
  events: OrcEvent[];
  expired: OrcEvent[];
  last_seq: number;
  notices: CommitNotice[];
}

export async function renewLease(root: string, options: HeartbeatOptions): Promise<HeartbeatResult> {
  const now = clockOf(options);
  const store = options.store ?? openStore(root, { cacheDefinitions: false });
  const r = await store.applyTransitions([heartbeatRequest(options.worker_id, options.token, now, options.lease_seconds)], {
    now,
    actor: options.worker_id,
    ...(options.lockTimeoutMs !== undefined ? { lockTimeoutMs: options.lockTimeoutMs } : {}),
  });
  const worker = r.snapshot.workers.find((w) => w.worker_id === options.worker_id);
  const lease = worker?.lease;
  if (!lease) throw new OrcError('INTERNAL', `worker ${options.worker_id} has no lease after its heartbeat was committed`, { fix: 'run `orc-state doctor`' });
  return { ok: true, worker_id: options.worker_id, task_id: lease.task_id, token: lease.token, lease, events: r.events, expired: r.expired ?? [], last_seq: r.snapshot.last_seq, notices: r.notices };
}
