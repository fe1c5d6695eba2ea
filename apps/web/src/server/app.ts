import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import type { HistoryQueries } from '@netwho/history';
import { getAll, socketRecord } from '@netwho/listeners';
import type { IconFinder } from '@netwho/picon';
import { OPENMETRICS_CONTENT_TYPE, type ProcessMetrics, renderOpenMetrics } from '@netwho/telemetry';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { historyRoutes } from './history-api';
import { hostAllowed, isLoopback, presentedToken, tokenMatches } from './security';
import type { DashboardState } from './state';

export interface AppOptions {
  state: DashboardState;
  host: string;
  token: string | undefined;
  icons: IconFinder;
  /** Folder of the built browser app. */
  clientDir: string;
  /** The /metrics counters (fed by the dashboard's snapshots). */
  metrics: ProcessMetrics;
  /** What the History page reads, when history is kept or readable. */
  history?: HistoryQueries;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

const PORTS_CACHE_MS = 2000;

/**
 * The HTTP side: the JSON API (documented in the README), icons, /metrics and the browser app.
 * Every request passes the Host check (loopback) and the token check (other addresses); no CORS
 * headers are ever sent, so other origins cannot read the answers.
 */
export function createApp(options: AppOptions): Hono {
  const { state, token } = options;
  const app = new Hono();
  let ports: { at: number; body: unknown } | undefined;

  app.use(
    '*',
    bodyLimit({ maxSize: 16 * 1024, onError: (c) => c.json({ error: 'request too large' }, 413) }),
  );
  app.use('*', async (c, next) => {
    if (c.req.url.length > 2048) return c.json({ error: 'URL too long' }, 414);
    if (!hostAllowed(c.req.header('host'), options.host))
      return c.json({ error: 'unexpected Host header' }, 403);
    if (token) {
      const url = new URL(c.req.url);
      const presented = presentedToken(
        { authorization: c.req.header('authorization'), cookie: c.req.header('cookie') },
        url,
      );
      if (!tokenMatches(token, presented))
        return c.json({ error: 'a token is needed: open the URL printed at start' }, 401);
      // A token given in the URL becomes a cookie, so the page's own requests carry it.
      if (url.searchParams.get('token')) {
        c.header(
          'Set-Cookie',
          `netwho_token=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`,
        );
      }
    }
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    await next();
  });

  app.get('/api/status', (c) => c.json(state.status));
  app.get('/api/history', (c) => c.json(state.chart()));
  app.get('/api/alerts', (c) => c.json(state.alerts()));
  app.get('/api/programs', (c) => c.json(state.programs()));
  app.get('/api/programs/:key', (c) => {
    const key = c.req.param('key');
    const program = state.program(key);
    if (!program) return c.json({ error: `no program ${key}` }, 404);
    return c.json({
      program,
      connections: state.connections().filter((x) => x.program === key),
      history: state.chart(key),
    });
  });
  app.get('/api/connections', (c) => {
    const q = c.req.query();
    const port = q.port === undefined ? undefined : Number(q.port);
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
      return c.json({ error: 'port must be an integer from 0 to 65535' }, 400);
    }
    const protocol = q.protocol?.toUpperCase();
    const text = q.q?.toLowerCase();
    const rows = state
      .connections()
      .filter(
        (x) =>
          (!q.program || x.program === q.program) &&
          (!protocol || x.protocol === protocol) &&
          (port === undefined || x.local.port === port || x.remote.port === port) &&
          (!text || JSON.stringify(x).toLowerCase().includes(text)),
      );
    return c.json(rows);
  });
  app.get('/api/ports', async (c) => {
    if (!ports || Date.now() - ports.at > PORTS_CACHE_MS || c.req.query('fresh') === '1') {
      const listeners = await getAll();
      ports = {
        at: Date.now(),
        body: listeners.map(socketRecord),
      };
    }
    return c.json({ at: ports.at, sockets: ports.body });
  });
  app.get('/api/icon/:key', (c) => {
    const program = state.program(c.req.param('key'))?.process;
    if (!program) return c.json({ error: 'no such program' }, 404);
    const size = Number(c.req.query('size') ?? 32);
    if (!Number.isInteger(size) || size < 8 || size > 512)
      return c.json({ error: 'size must be 8-512' }, 400);
    const found = options.icons.lookUp({ path: program.path, name: program.name }, { size, fallback: true });
    const icon = found.icon!;
    const etag = `"${createHash('sha1').update(icon.data).digest('base64url')}"`;
    c.header('Cache-Control', 'private, max-age=3600');
    c.header('ETag', etag);
    if (c.req.header('if-none-match') === etag) return c.body(null, 304);
    return c.body(new Uint8Array(icon.data), 200, {
      'Content-Type': icon.format === 'svg' ? 'image/svg+xml' : 'image/png',
    });
  });
  app.get('/metrics', (c) => {
    const { capture, owners } = state.health();
    const body = renderOpenMetrics(options.metrics, {
      ...(capture && { capture }),
      ...(owners && {
        attribution: {
          fromEbpf: owners.fromEbpf,
          fromSocketTable: owners.fromSocketTable,
          unknown: {},
          dropped: {
            pending_queue: owners.lookupsDropped ?? 0,
            kernel_waits: owners.kernelWaitsDropped ?? 0,
          },
        },
      }),
    });
    return c.text(body, 200, { 'Content-Type': OPENMETRICS_CONTENT_TYPE });
  });
  historyRoutes(app, options.history);
  app.all('/api/*', (c) => c.json({ error: 'no such API' }, 404));

  // The browser app: files of the Vite build; every other path is the single page.
  app.get('*', (c) => {
    const path = normalize(decodeURIComponent(new URL(c.req.url).pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = path === '/' || !extname(path) ? 'index.html' : path.slice(1);
    try {
      const data = readFileSync(join(options.clientDir, file));
      const immutable = file.startsWith('assets/');
      return c.body(new Uint8Array(data), 200, {
        'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
        'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        ...(file === 'index.html' && {
          'Content-Security-Policy':
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'",
        }),
      });
    } catch {
      return c.json({ error: 'not found' }, 404);
    }
  });
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}

export { isLoopback };
