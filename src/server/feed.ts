/**
 * The live event feed behind `GET /api/events` (Server-Sent Events): every
 * event appended to the log by any writer is pushed to every connected client
 * as `id: <seq>` / `event: transition` / `data: <the event's JSON line>`.
 * A client resumes after a reconnect with `Last-Event-ID` (or `?after=<seq>`
 * on its first connection): the events it missed are sent first, from memory
 * when recent, else read back from the log (archives included).
 *
 * Public API (stable): LiveFeed.open(root, options) → Promise<LiveFeed>;
 * feed.attach(req, res, after) → boolean (false: client cap reached);
 * feed.clients; feed.close(); FeedOptions. LiveFeed implements FeedFacts (./views.ts).
 * Frames: `retry: 1000`; `event: hello` (data {api_version, last_seq, resumed_after});
 * `event: transition` with `id:`; `event: problem` (data ProblemView: a corrupt
 * or torn log line, never fatal); `: keep-alive` comments every 15 s.
 * Limits: at most `maxClients` streams (default 16); a client that stops
 * reading (more than 8 MiB queued) is disconnected and resumes on its own.
 * Integration points: src/server/server.ts; src/live/log-follower.ts.
 * Dependencies: node:http (types), ../live/log-follower.js, ../engine/log.js, ../engine/paths.js, ./views.js.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readEvents } from '../engine/log.js';
import { rel, statePaths } from '../engine/paths.js';
import { followLog, type FollowProblem, type LogFollower } from '../live/log-follower.js';
import type { OrcEvent } from '../model.js';
import { API_VERSION, spendOf, type FeedFacts, type ProblemView, type Spend } from './views.js';

export interface FeedOptions {
  maxClients?: number;
  /** Events kept in memory for resumes and the metrics window (default 10,000). */
  ring?: number;
  pollMs?: number;
  watch?: boolean;
  keepAliveMs?: number;
  clock?: () => Date;
}

interface Client {
  res: ServerResponse;
  lastSent: number;
  /** Events that arrived while the client was catching up from the log. */
  queue: OrcEvent[] | null;
}

const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
const DAY_MS = 24 * 3600_000;

const frame = (e: OrcEvent) => `id: ${e.seq}\nevent: transition\ndata: ${JSON.stringify(e)}\n\n`;

export class LiveFeed implements FeedFacts {
  private readonly ring: OrcEvent[] = [];
  private readonly seen = new Map<string, string>();
  private spendTotal = 0;
  private spendEvents = 0;
  private readonly spendByWs: Record<string, number> = {};
  private readonly archiveProblems: ProblemView[] = [];
  private readonly set = new Set<Client>();
  private follower: LogFollower | null = null;
  private keepAlive: NodeJS.Timeout | null = null;
  private seq = 0;
  private readonly maxClients: number;
  private readonly ringSize: number;
  private readonly clock: () => Date;

  private constructor(
    readonly root: string,
    private readonly options: FeedOptions,
  ) {
    this.maxClients = options.maxClients ?? 16;
    this.ringSize = options.ring ?? 10_000;
    this.clock = options.clock ?? (() => new Date());
  }

  static async open(root: string, options: FeedOptions = {}): Promise<LiveFeed> {
    const feed = new LiveFeed(root, options);
    await feed.start();
    return feed;
  }

  private async start(): Promise<void> {
    const live = rel(this.root, statePaths(this.root).log);
    // One pass over archives + live log: spend, last-seen times, the in-memory window.
    try {
      for await (const e of readEvents(this.root, {
        mode: 'collect',
        onProblem: (p) => {
          if (p.file !== live && p.kind === 'corrupt') this.archiveProblems.push({ kind: p.kind, file: p.file, line: p.line, message: p.message });
        },
      })) {
        this.ingest(e);
      }
    } catch (error) {
      this.archiveProblems.push({ kind: 'io', file: '.state/archive', line: 0, message: error instanceof Error ? error.message : String(error) });
    }
    // From here on the follower hands over what is appended (it skips what was read above).
    this.follower = followLog(this.root, {
      afterSeq: this.seq,
      pollMs: this.options.pollMs,
      watch: this.options.watch,
      onEvents: (events) => {
        for (const e of events) this.ingest(e);
        this.broadcast(events);
      },
      onProblem: (p) => this.broadcastProblem(p),
    });
    this.keepAlive = setInterval(() => {
      for (const c of this.set) c.res.write(': keep-alive\n\n');
    }, this.options.keepAliveMs ?? 15_000);
    this.keepAlive.unref();
  }

  private ingest(e: OrcEvent): void {
    if (e.seq <= this.seq) return;
    this.seq = e.seq;
    this.ring.push(e);
    if (this.ring.length > this.ringSize) this.ring.splice(0, this.ring.length - this.ringSize);
    if (typeof e.timestamp === 'string') {
      this.seen.set(`${e.entity_type}\u0000${e.entity_id}`, e.timestamp);
      // A task event naming its worker is a sign of life of that worker too.
      const w = e.metadata?.worker_id;
      if (typeof w === 'string' && e.entity_type !== 'worker') this.seen.set(`worker\u0000${w}`, e.timestamp);
    }
    const cost = spendOf(e);
    if (cost > 0) {
      this.spendTotal += cost;
      this.spendEvents++;
      const ws = e.workstream_id ?? '(none)';
      this.spendByWs[ws] = (this.spendByWs[ws] ?? 0) + cost;
    }
  }

  get clients(): number {
    return this.set.size;
  }

  /** Read what is new in the log now (the watcher and the poll call this too). */
  check(): void {
    this.follower?.check();
  }

  lastSeq(): number {
    return this.seq;
  }

  recentEvents(): OrcEvent[] {
    const since = this.clock().getTime() - DAY_MS;
    return this.ring.filter((e) => Date.parse(e.timestamp) >= since);
  }

  lastSeenOf(entityType: string, entityId: string): string | undefined {
    return this.seen.get(`${entityType}\u0000${entityId}`);
  }

  spend(): Spend | null {
    if (!this.spendEvents) return null;
    return { total_usd: Math.round(this.spendTotal * 1e6) / 1e6, by_workstream: { ...this.spendByWs }, events: this.spendEvents };
  }

  problems(): ProblemView[] {
    return [...this.archiveProblems, ...(this.follower?.problems() ?? [])];
  }

  /**
   * Start streaming to `res`, after the events up to `after` (null: only new ones).
   * Returns false, without touching `res`, when the client cap is reached.
   */
  attach(req: IncomingMessage, res: ServerResponse, after: number | null): boolean {
    if (this.set.size >= this.maxClients) return false;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const start = after === null ? this.seq : Math.max(0, after);
    const client: Client = { res, lastSent: start, queue: null };
    this.set.add(client);
    const drop = () => this.set.delete(client);
    req.on('close', drop);
    res.on('error', drop);
    res.write(`retry: 1000\nevent: hello\ndata: ${JSON.stringify({ api_version: API_VERSION, last_seq: this.seq, resumed_after: after })}\n\n`);
    if (start < this.seq) {
      const first = this.ring[0];
      if (first && first.seq <= start + 1) {
        this.send(client, this.ring.filter((e) => e.seq > start));
      } else {
        client.queue = [];
        void this.catchUp(client, start);
      }
    }
    return true;
  }

  private async catchUp(client: Client, after: number): Promise<void> {
    const batch: OrcEvent[] = [];
    try {
      for await (const e of readEvents(this.root, { mode: 'collect', baseSeq: after })) {
        if (e.seq > this.seq) break; // the rest is in (or will be in) the queue
        batch.push(e);
        if (batch.length >= 512) this.send(client, batch.splice(0));
      }
    } catch {
      /* what could not be read is skipped; the queue below continues the stream */
    }
    this.send(client, batch);
    const queued = client.queue ?? [];
    client.queue = null;
    this.send(client, queued);
  }

  private send(client: Client, events: OrcEvent[]): void {
    if (!this.set.has(client)) return;
    let text = '';
    for (const e of events) {
      if (e.seq <= client.lastSent) continue;
      client.lastSent = e.seq;
      text += frame(e);
    }
    if (!text) return;
    client.res.write(text);
    if (client.res.writableLength > MAX_QUEUED_BYTES) {
      // A client that does not read: disconnect it; EventSource reconnects with Last-Event-ID.
      this.set.delete(client);
      client.res.destroy();
    }
  }

  private broadcast(events: OrcEvent[]): void {
    for (const c of this.set) {
      if (c.queue) c.queue.push(...events);
      else this.send(c, events);
    }
  }

  private broadcastProblem(p: FollowProblem): void {
    const text = `event: problem\ndata: ${JSON.stringify({ kind: p.kind, file: p.file, line: p.line, message: p.message })}\n\n`;
    for (const c of this.set) c.res.write(text);
  }

  close(): void {
    this.follower?.close();
    if (this.keepAlive) clearInterval(this.keepAlive);
    for (const c of this.set) c.res.end();
    this.set.clear();
  }
}
