import { timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CliError, Exit } from '../errors';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** "127.0.0.1:9464", "[::1]:9464", ":9464" (all addresses), "9464" -> host and port. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65_535)
    throw new CliError(`--metrics '${text}': use HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464`, Exit.USAGE);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/**
 * Serves GET /metrics (and nothing else). With a token, every request must carry
 * `Authorization: Bearer TOKEN` (what Prometheus sends from `authorization` in a scrape config).
 */
export async function serveMetrics(
  listen: { host: string; port: number },
  token: string | undefined,
  render: () => { body: string; contentType: string },
): Promise<MetricsServer> {
  const expected = token ? Buffer.from(`Bearer ${token}`) : undefined;
  const server: Server = createServer((req, res) => {
    if (expected) {
      const got = Buffer.from(req.headers.authorization ?? '');
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
        res
          .writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' })
          .end('unauthorized\n');
        return;
      }
    }
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('netwho agent: see /metrics\n');
      return;
    }
    const { body, contentType } = render();
    res
      .writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' })
      .end(req.method === 'HEAD' ? undefined : body);
  });
  server.listen(listen.port, listen.host);
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new CliError(`--metrics ${listen.host}:${listen.port} is in use: pick another port`, Exit.USAGE);
    if (code === 'EADDRNOTAVAIL')
      throw new CliError(`--metrics ${listen.host}: no such address on this machine`, Exit.USAGE);
    if (code === 'EACCES')
      throw new CliError(`--metrics port ${listen.port} needs more rights`, Exit.PERMISSION);
    throw error;
  }
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${host}:${a.port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
