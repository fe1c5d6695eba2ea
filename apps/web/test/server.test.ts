import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SocketTableMonitor } from '@netwho/monitor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Dashboard, type ProgramView, type ServerMessage, startDashboard } from '../src/index';
import { isRoot, startTraffic, type Traffic, waitFor } from './helpers';

const json = async <T>(url: string, init?: RequestInit) => (await (await fetch(url, init)).json()) as T;

/** Opens a WebSocket and collects its messages. */
function openSocket(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  const messages: ServerMessage[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as ServerMessage));
  return { ws, messages };
}

/** A raw HTTP GET with a Host header of our choice (fetch does not let us set it). */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe.runIf(process.platform === 'linux' && isRoot)(
  'dashboard server on a real pipeline (loopback)',
  () => {
    let traffic: Traffic;
    let dashboard: Dashboard;
    beforeAll(async () => {
      traffic = await startTraffic('netwho-webtraffic', [0, 150, 20_000]);
      dashboard = await startDashboard({
        port: 0,
        devices: ['lo'],
        filter: `tcp port ${traffic.port}`,
        intervalMs: 300,
        dns: false,
        history: { path: join(mkdtempSync(join(tmpdir(), 'netwho-web-history-')), 'h.db') },
      });
    });
    afterAll(async () => {
      await dashboard?.close();
      await traffic?.stop();
    });

    const mine = (programs: ProgramView[]) =>
      programs.find((p) => p.process?.pid === traffic.pid && p.bytesOut > 0);

    it('binds 127.0.0.1 without a token and reports capture mode', async () => {
      expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(dashboard.token).toBeUndefined();
      expect(await json(`${dashboard.url}api/status`)).toMatchObject({
        mode: 'capture',
        banner: null,
        devices: ['lo'],
      });
    });

    it('readerCpu is passed on to the capture, and the banner says why when it cannot bind', async () => {
      const unbound = await startDashboard({ port: 0, devices: ['lo'], dns: false, readerCpu: 1023 });
      try {
        expect(((await json(`${unbound.url}api/status`)) as { banner: string | null }).banner).toMatch(
          /--reader-cpu 1023: not bound \(CPU 1023 is not one this process may use/,
        );
      } finally {
        await unbound.close();
      }
    });

    it('the JSON API shows the test program with traffic, its connections and its chart', async () => {
      const program = await waitFor(async () =>
        mine(await json<ProgramView[]>(`${dashboard.url}api/programs`)),
      );
      expect(program.process?.name).toBe('netwho-webtraffic');
      expect(program.bytesIn).toBeGreaterThan(0);
      expect(program.icon).toBe(`/api/icon/pid%3A${traffic.pid}`);
      const detail = await json<{ connections: unknown[]; history: unknown[] }>(
        `${dashboard.url}api/programs/${encodeURIComponent(program.key)}`,
      );
      expect(detail.connections.length).toBeGreaterThan(0);
      const filtered = await json<Array<{ program: string; protocol: string }>>(
        `${dashboard.url}api/connections?program=${encodeURIComponent(program.key)}&protocol=tcp&port=${traffic.port}`,
      );
      expect(filtered.length).toBeGreaterThan(0);
      expect(filtered.every((c) => c.program === program.key && c.protocol === 'TCP')).toBe(true);
      const history = await json<unknown[]>(`${dashboard.url}api/history`);
      expect(history.length).toBeGreaterThan(0);
    });

    it('the WebSocket sends the full state, then diffs per tick that bring the program', async () => {
      const { ws, messages } = openSocket(`${dashboard.url.replace('http', 'ws')}ws`);
      try {
        await waitFor(() => (messages.filter((m) => m.type === 'tick').length >= 3 ? true : undefined));
        expect(messages[0]!.type).toBe('full');
        const ticks = messages.filter(
          (m): m is Extract<ServerMessage, { type: 'tick' }> => m.type === 'tick',
        );
        const seen =
          ticks.some((t) => t.programs.upsert.some((p) => p.process?.pid === traffic.pid)) ||
          (messages[0]!.type === 'full' && !!mine(messages[0]!.programs));
        expect(seen).toBe(true);
        // Diffs, not the state: an unchanged row is not sent again.
        const total = ticks.reduce((n, t) => n + t.connections.upsert.length, 0);
        expect(total).toBeLessThan(
          ticks.length * Math.max(1, (messages[0] as { connections: unknown[] }).connections.length + 20),
        );
      } finally {
        ws.close();
      }
    });

    it('serves icons with caching headers (304 on a matching ETag), and 404 for unknown programs', async () => {
      const program = await waitFor(async () =>
        mine(await json<ProgramView[]>(`${dashboard.url}api/programs`)),
      );
      const first = await fetch(`${dashboard.url.slice(0, -1)}${program.icon}`);
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toMatch(/^image\/(png|svg\+xml)/);
      expect(first.headers.get('cache-control')).toContain('max-age=3600');
      const etag = first.headers.get('etag')!;
      const again = await fetch(`${dashboard.url.slice(0, -1)}${program.icon}`, {
        headers: { 'If-None-Match': etag },
      });
      expect(again.status).toBe(304);
      expect((await fetch(`${dashboard.url}api/icon/pid%3A1234567`)).status).toBe(404);
      expect((await fetch(`${dashboard.url.slice(0, -1)}${program.icon}?size=9999`)).status).toBe(400);
    });

    it('/metrics is OpenMetrics with per-program series under OpenTelemetry names, without pids', async () => {
      await waitFor(async () => mine(await json<ProgramView[]>(`${dashboard.url}api/programs`)));
      const res = await fetch(`${dashboard.url}metrics`);
      expect(res.headers.get('content-type')).toContain('application/openmetrics-text');
      const text = await res.text();
      expect(text).toMatch(
        /process_network_io_bytes_total\{network_io_direction="transmit",process_executable_name="netwho-webtraffic",process_executable_path="[^"]+"\} [1-9]/,
      );
      expect(text).not.toContain(String(traffic.pid));
      expect(text.trimEnd().endsWith('# EOF')).toBe(true);
    });

    it('records history and serves it to the History page: programs, series, hosts, connections', async () => {
      // The first interval is written 10 s after the start.
      const programs = await waitFor(async () => {
        const rows = await json<{ program: { name: string }; bytesOut: number }[]>(
          `${dashboard.url}api/history/programs`,
        );
        return rows.find((r) => r.program.name === 'netwho-webtraffic' && r.bytesOut > 0);
      }, 20_000);
      expect(programs.bytesOut).toBeGreaterThan(0);
      const series = await json<{
        buckets: number[];
        series: { program: { name: string } | 'other'; bytesOut: number[] }[];
      }>(`${dashboard.url}api/history/series?from=${Date.now() - 600_000}&to=${Date.now()}`);
      expect(series.buckets.length).toBeGreaterThan(0);
      expect(
        series.series.some(
          (s) => s !== undefined && s.program !== 'other' && s.program.name === 'netwho-webtraffic',
        ),
      ).toBe(true);
      // Connections are written with the interval in which they ended (closed + 5 s, then up to 10 s).
      const conns = await waitFor(async () => {
        const rows = await json<{ program: { name: string }; remotePort: number }[]>(
          `${dashboard.url}api/history/connections?program=netwho-webtraffic`,
        );
        return rows.length > 0 ? rows : undefined;
      }, 40_000);
      expect(conns.length).toBeGreaterThan(0);
      expect(conns.every((c) => c.program.name === 'netwho-webtraffic')).toBe(true);
      expect((await fetch(`${dashboard.url}api/history/programs?by=colour`)).status).toBe(400);
      expect((await fetch(`${dashboard.url}api/history/programs?from=10&to=5`)).status).toBe(400);
      expect((await json<{ history: boolean }>(`${dashboard.url}api/status`)).history).toBe(true);
    });

    it('bad requests get 4xx: wrong Host (DNS rebinding), unknown API, bad query, oversized body', async () => {
      expect(await getWithHost(`${dashboard.url}api/status`, 'evil.example:80')).toBe(403);
      expect(await getWithHost(`${dashboard.url}api/status`, `localhost:1`)).toBe(200);
      expect((await fetch(`${dashboard.url}api/nothing`)).status).toBe(404);
      expect((await fetch(`${dashboard.url}api/connections?port=http`)).status).toBe(400);
      expect(
        (await fetch(`${dashboard.url}api/status`, { method: 'POST', body: 'x'.repeat(100_000) })).status,
      ).toBe(413);
      expect((await fetch(`${dashboard.url}${'a'.repeat(3000)}`)).status).toBe(414);
      expect((await fetch(`${dashboard.url}api/status`)).status).toBe(200); // still serving
    });

    it('a WebSocket that floods or speaks nonsense is closed; the server goes on', async () => {
      const flood = openSocket(`${dashboard.url.replace('http', 'ws')}ws`);
      await new Promise((r) => flood.ws.once('open', r));
      const closed = new Promise<number>((r) => flood.ws.once('close', (code) => r(code)));
      for (let i = 0; i < 50; i++) flood.ws.send(JSON.stringify({ type: 'pause' }));
      expect(await closed).toBe(1008);
      const nonsense = openSocket(`${dashboard.url.replace('http', 'ws')}ws`);
      await new Promise((r) => nonsense.ws.once('open', r));
      const closed2 = new Promise<number>((r) => nonsense.ws.once('close', (code) => r(code)));
      nonsense.ws.send('not json');
      expect(await closed2).toBe(1003);
      expect((await fetch(`${dashboard.url}api/status`)).status).toBe(200);
    });
  },
);

describe.runIf(process.platform === 'linux')('token and bind rules', () => {
  let dashboard: Dashboard;
  beforeAll(async () => {
    dashboard = await startDashboard({
      host: '0.0.0.0',
      port: 0,
      monitor: new SocketTableMonitor(),
      intervalMs: 500,
      dns: false,
    });
  });
  afterAll(() => dashboard?.close());

  it('binding another address generates a token and prints it in the URL to open', () => {
    expect(dashboard.token).toMatch(/^[\w-]{32}$/);
    expect(dashboard.openUrl).toBe(`${dashboard.url}?token=${dashboard.token}`);
  });

  it('every HTTP request needs the token: bearer, cookie, or ?token= (which sets the cookie)', async () => {
    const base = dashboard.url.replace('0.0.0.0', '127.0.0.1');
    expect((await fetch(`${base}api/status`)).status).toBe(401);
    expect((await fetch(`${base}api/status`, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(
      401,
    );
    expect(
      (await fetch(`${base}api/status`, { headers: { Authorization: `Bearer ${dashboard.token}` } })).status,
    ).toBe(200);
    const viaQuery = await fetch(`${base}?token=${dashboard.token}`);
    expect(viaQuery.status).toBe(200);
    expect(viaQuery.headers.get('set-cookie')).toContain('HttpOnly; SameSite=Strict');
    expect(
      (await fetch(`${base}api/status`, { headers: { Cookie: `netwho_token=${dashboard.token}` } })).status,
    ).toBe(200);
    // No CORS: nothing invites other origins to read answers.
    expect(viaQuery.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('every WebSocket needs the token too', async () => {
    const base = dashboard.url.replace('http://0.0.0.0', 'ws://127.0.0.1');
    const refused = openSocket(`${base}ws`);
    const status = await new Promise<number>((r) =>
      refused.ws.once('unexpected-response', (_req, res) => r(res.statusCode ?? 0)),
    );
    expect(status).toBe(401);
    const allowed = openSocket(`${base}ws`, { Cookie: `netwho_token=${dashboard.token}` });
    await waitFor(() => (allowed.messages[0]?.type === 'full' ? true : undefined));
    expect(allowed.messages[0]).toMatchObject({ type: 'full', status: { mode: 'socket-table' } });
    allowed.ws.close();
  });
});
