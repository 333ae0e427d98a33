/**
 * `orc-state serve`: a read-only HTTP server for one repository: the live
 * dashboard (static assets of the package), a versioned JSON API, a
 * Server-Sent Events feed of the log and Prometheus text metrics.
 * Routes and shapes: docs/api/SERVE_API.md.
 *
 * Public API (stable): startServer(options) → Promise<RunningServer>;
 * ServeOptions, RunningServer, DEFAULT_PORT, DEFAULT_HOST, isLoopback(host).
 * Why plain node:http: five GET routes, one SSE stream and a fixed set of
 * files; a framework would add a dependency without removing any code here
 * (the Host check, the SSE feed and the static allowlist would stay ours).
 * Safety: binds 127.0.0.1 unless told otherwise; every request whose Host
 * header is not the served host (or an alias given with allowHosts) is
 * refused with 403 (DNS rebinding); only GET and HEAD; static files come from
 * an allowlist built at start-up from the package's assets/dashboard/ folder
 * and the layout library's own file, so any other path (traversal included)
 * is a 404; no CORS header at all; a strict Content-Security-Policy; a
 * bounded number of event streams (503 beyond). Never writes a file.
 * Integration points: src/cli/commands/serve.ts; ./views.ts, ./feed.ts.
 * Dependencies: node:http, node:fs, @dagrejs/dagre (its browser build is
 * served, resolved with import.meta.resolve), ../derive/*.js, ../paths.js.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeMetrics } from '../derive/metrics.js';
import { OPENMETRICS_CONTENT_TYPE, toOpenMetrics } from '../derive/openmetrics.js';
import { OrcError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { LiveFeed } from './feed.js';
import { TASK_ID_PATTERN } from '../model.js';
import { API_VERSION, RepoViews, readLogTail } from './views.js';

export const DEFAULT_PORT = 4870;
export const DEFAULT_HOST = '127.0.0.1';

export interface ServeOptions {
  root: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** More Host header names (without port) to accept, e.g. a machine name when bound to 0.0.0.0. */
  allowHosts?: string[];
  maxClients?: number;
  /** Events kept in memory for resumes (default 10,000; older resumes read the log). */
  ring?: number;
  pollMs?: number;
  watch?: boolean;
  clock?: () => Date;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  feed: LiveFeed;
  close(): Promise<void>;
}

interface StaticFile {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

const COMMON_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The dashboard's files: every regular file of assets/dashboard/ plus the layout library's browser build. */
export function staticFiles(): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const dir = join(packageRoot(), 'assets', 'dashboard');
  for (const name of readdirSync(dir)) {
    const abs = join(dir, name);
    if (!statSync(abs).isFile() || !TYPES[extname(name)]) continue;
    files.set(`/assets/${name}`, { body: readFileSync(abs), type: TYPES[extname(name)] as string });
  }
  const index = files.get('/assets/index.html');
  if (!index) throw new OrcError('UNREADABLE_INPUT', `the dashboard's index.html is missing from ${dir}`, { fix: 'reinstall orc-state' });
  files.set('/', index);
  const dagreDir = dirname(fileURLToPath(import.meta.resolve('@dagrejs/dagre')));
  files.set('/vendor/dagre.min.js', { body: readFileSync(join(dagreDir, 'dagre.min.js')), type: TYPES['.js'] as string });
  return files;
}

function hostAliases(host: string, port: number, extra: readonly string[]): Set<string> {
  const names = new Set<string>([host.includes(':') ? `[${host}]` : host, ...extra]);
  if (isLoopback(host)) for (const n of ['localhost', '127.0.0.1', '[::1]']) names.add(n);
  const out = new Set<string>();
  for (const n of names) out.add(`${n.toLowerCase()}:${port}`);
  return out;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? DEFAULT_HOST;
  const files = staticFiles();
  const feed = await LiveFeed.open(options.root, {
    maxClients: options.maxClients,
    ring: options.ring,
    pollMs: options.pollMs,
    watch: options.watch,
    clock: options.clock,
  });
  const views = new RepoViews(options.root, feed, options.clock);
  const clock = options.clock ?? (() => new Date());
  let allowed = new Set<string>();
  let stateCache: { key: string; at: number; body: string } | null = null;
  const byId: Array<{ pattern: RegExp; what: string; load: (id: string) => Promise<unknown> }> = [
    { pattern: /^\/api\/tasks\/([^/]+)$/, what: 'task', load: (id) => views.taskView(id) },
    { pattern: /^\/api\/plan\/([^/]+)$/, what: 'workstream', load: (ws) => views.planView(ws) },
  ];

  const send = (req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}) => {
    res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const json = (req: IncomingMessage, res: ServerResponse, status: number, value: unknown) =>
    send(req, res, status, 'application/json; charset=utf-8', JSON.stringify(value), { 'Cache-Control': 'no-store' });
  const fail = (req: IncomingMessage, res: ServerResponse, status: number, error: string, fix?: string) =>
    json(req, res, status, { api_version: API_VERSION, error, ...(fix ? { fix } : {}) });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    if (!allowed.has(hostHeader)) {
      fail(req, res, 403, `Host "${req.headers.host ?? ''}" is not served here`, `open ${[...allowed][0] ? `http://${[...allowed][0]}/` : 'the URL serve printed'} (or start serve with --allow-host NAME)`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(req, res, 405, 'application/json; charset=utf-8', JSON.stringify({ api_version: API_VERSION, error: `${req.method} is not allowed: the server is read-only` }), { Allow: 'GET, HEAD' });
      return;
    }
    let path: string;
    let query: URLSearchParams;
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      path = url.pathname;
      query = url.searchParams;
    } catch {
      fail(req, res, 404, 'not found');
      return;
    }
    const file = files.get(path);
    if (file) {
      send(req, res, 200, file.type, file.body, path === '/' || file.type.startsWith('text/html') ? { 'Content-Security-Policy': CSP, 'Cache-Control': 'no-cache' } : { 'Cache-Control': 'no-cache' });
      return;
    }
    if (path === '/api' || path === '/api/') {
      json(req, res, 200, { api_version: API_VERSION, endpoints: ['/api/state', '/api/tasks/:id', '/api/tasks/:id/log?attempt=N', '/api/plan/:workstream', '/api/events', '/metrics'] });
      return;
    }
    if (path === '/api/state') {
      // Tabs that ask for the same state in the same second share one rendering.
      const key = views.stateKey();
      const now = clock().getTime();
      if (!stateCache || stateCache.key !== key || now - stateCache.at >= 1000) stateCache = { key, at: now, body: JSON.stringify(views.stateView()) };
      send(req, res, 200, 'application/json; charset=utf-8', stateCache.body, { 'Cache-Control': 'no-store' });
      return;
    }
    const logRoute = /^\/api\/tasks\/([^/]+)\/log$/.exec(path);
    if (logRoute) {
      const id = safeDecode(logRoute[1] as string);
      const attempt = query.get('attempt') ?? '';
      if (id === null || !TASK_ID_PATTERN.test(id)) {
        fail(req, res, 404, `no task "${id ?? logRoute[1]}"`, 'GET /api/state lists the tasks');
        return;
      }
      if (!/^[1-9]\d{0,5}$/.test(attempt)) {
        fail(req, res, 400, `attempt must be a whole number from 1 (got "${attempt}")`, 'GET /api/tasks/:id gives current_attempt');
        return;
      }
      json(req, res, 200, { api_version: API_VERSION, task_id: id, ...readLogTail(options.root, id, Number(attempt)) });
      return;
    }
    for (const route of byId) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      const id = safeDecode(m[1] as string);
      const view = id === null ? null : await route.load(id);
      if (!view) fail(req, res, 404, `no ${route.what} "${id ?? m[1]}"`, `GET /api/state lists the ${route.what}s`);
      else json(req, res, 200, view);
      return;
    }
    if (path === '/api/events') {
      const header = req.headers['last-event-id'];
      const raw = (Array.isArray(header) ? header[0] : header) ?? query.get('after') ?? undefined;
      let after: number | null = null;
      if (raw !== undefined && raw !== '') {
        if (!/^\d+$/.test(raw)) {
          fail(req, res, 400, `Last-Event-ID / after must be a seq (a whole number), got "${raw}"`);
          return;
        }
        after = Number(raw);
      }
      if (req.method === 'HEAD') {
        send(req, res, 200, 'text/event-stream; charset=utf-8', '');
        return;
      }
      res.setHeaders(new Map(Object.entries(COMMON_HEADERS)));
      if (!feed.attach(req, res, after)) fail(req, res, 503, `too many event streams (${feed.clients} open)`, 'close another dashboard tab, or start serve with a higher --max-clients');
      return;
    }
    if (path === '/metrics') {
      const { snapshot, problem } = views.snapshot();
      if (!snapshot) {
        send(req, res, 503, 'text/plain; charset=utf-8', `no snapshot: ${problem ?? 'unknown'}\n`);
        return;
      }
      const text = toOpenMetrics(computeMetrics(snapshot, feed.recentEvents(), clock()));
      const accept = String(req.headers.accept ?? '');
      send(req, res, 200, accept.includes('application/openmetrics-text') ? OPENMETRICS_CONTENT_TYPE : 'text/plain; version=0.0.4; charset=utf-8', text, { 'Cache-Control': 'no-store' });
      return;
    }
    fail(req, res, 404, 'not found');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // One bad request (an unreadable file, a corrupt line) never stops the server.
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) fail(req, res, 500, message);
      else res.destroy();
    });
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      feed.close();
      rejectListen(
        error.code === 'EADDRINUSE'
          ? new OrcError('USAGE', `port ${options.port ?? DEFAULT_PORT} on ${host} is in use`, { fix: 'pass another --port, or --port 0 for a free one' })
          : new OrcError('USAGE', `cannot listen on ${host}:${options.port ?? DEFAULT_PORT} (${error.code ?? error.message})`, { fix: 'check --host and --port' }),
      );
    });
    server.listen(options.port ?? DEFAULT_PORT, host, () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  allowed = hostAliases(host, port, options.allowHosts ?? []);
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  if (host === '0.0.0.0' || host === '::') for (const n of ['localhost', '127.0.0.1', '[::1]']) allowed.add(`${n}:${port}`);
  return {
    url: `http://${urlHost}:${port}/`,
    host,
    port,
    feed,
    close: () =>
      new Promise<void>((done) => {
        feed.close();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}
