import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpExport, ProcessMetrics, parseHeaders } from '../src';

/** An OTLP/HTTP receiver (JSON, as the -http exporters send): every request body it got, by path. */
interface Receiver {
  server: Server;
  url: string;
  bodies: Map<string, unknown[]>;
  headers: IncomingMessage['headers'][];
}

async function startReceiver(status = 200): Promise<Receiver> {
  const bodies = new Map<string, unknown[]>();
  const headers: IncomingMessage['headers'][] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      headers.push(req.headers);
      const list = bodies.get(req.url!) ?? [];
      list.push(JSON.parse(body));
      bodies.set(req.url!, list);
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, headers };
}

const until = async (check: () => boolean, ms = 10_000) => {
  for (const end = Date.now() + ms; !check() && Date.now() < end; )
    await new Promise((r) => setTimeout(r, 50));
  return check();
};

const connection = {
  protocol: 'TCP',
  local: { address: '10.0.0.2', port: 40_000 },
  remote: { address: '10.0.0.9', port: 443 },
  label: { status: 'known' as const, process: { pid: 42, name: 'curl', path: '/usr/bin/curl' } },
  bytesIn: 1000,
  bytesOut: 100,
  firstSeen: Date.now() - 500,
  lastSeen: Date.now(),
  remoteName: 'example.test',
};

describe('OtlpExport', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.server.close());

  it('is off without an endpoint or with OTEL_SDK_DISABLED', () => {
    const m = new ProcessMetrics();
    expect(OtlpExport.fromEnv(m, { env: {} })).toBeUndefined();
    expect(
      OtlpExport.fromEnv(m, {
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: 'true' },
      }),
    ).toBeUndefined();
  });

  it('pushes process.network.io and a log record per ended connection, configured by the standard variables', async () => {
    const metrics = new ProcessMetrics();
    metrics.observe({
      at: Date.now(),
      programs: [
        { key: 'pid:42', process: connection.label.process, bytesIn: 1000, bytesOut: 100, connections: 1 },
      ],
    });
    const otlp = OtlpExport.fromEnv(metrics, {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url}/`,
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20s3cret,x-team=net',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test',
        OTEL_METRIC_EXPORT_INTERVAL: '200',
      },
    })!;
    otlp.connectionEnded(connection);
    expect(
      await until(
        () => (receiver.bodies.get('/v1/metrics')?.length ?? 0) > 0 && receiver.bodies.has('/v1/logs'),
      ),
    ).toBe(true);
    await otlp.shutdown();

    const text = JSON.stringify(receiver.bodies.get('/v1/metrics'));
    expect(text).toContain('"process.network.io"');
    expect(text).toContain('"network.io.direction"');
    expect(text).toContain('"/usr/bin/curl"');
    expect(text).toContain('"deployment.environment"');
    const logs = JSON.stringify(receiver.bodies.get('/v1/logs'));
    for (const key of [
      'network.peer.address',
      'network.peer.port',
      'process.pid',
      'process.executable.path',
      'netwho.remote.name',
    ])
      expect(logs).toContain(`"${key}"`);
    expect(logs).toContain('example.test');
    expect(receiver.headers.some((h) => h.authorization === 'Bearer s3cret' && h['x-team'] === 'net')).toBe(
      true,
    );
    expect(otlp.stats()).toMatchObject({ failures: 0, droppedLogs: 0 });
    expect(otlp.stats().exports).toBeGreaterThan(0);
  });

  it('with the collector down: counts what it could not send, keeps its queue bounded, never waits', async () => {
    const down = await startReceiver();
    down.server.close(); // nothing listens on its port now
    await once(down.server, 'close');
    const otlp = new OtlpExport(new ProcessMetrics(), {
      endpoint: down.url,
      env: {},
      intervalMs: 200,
      maxQueuedLogs: 5,
      timeoutMs: 500,
    });
    const started = performance.now();
    for (let i = 0; i < 50; i++) otlp.connectionEnded(connection);
    expect(performance.now() - started).toBeLessThan(1000); // emitting is only queueing
    expect(otlp.stats().droppedLogs).toBeGreaterThanOrEqual(45);
    expect(await until(() => otlp.stats().failures > 0)).toBe(true);
    await otlp.shutdown();
    expect(otlp.stats().droppedLogs).toBe(50);
  });

  it('reads OTEL_EXPORTER_OTLP_HEADERS as the SDKs do', () => {
    expect(parseHeaders('a=1, b = two%20words,broken,=x')).toEqual({ a: '1', b: 'two words' });
    expect(parseHeaders(undefined)).toEqual({});
  });
});
