import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, isRoot, netwhoAsync, STATE_HOME, sleep, startTraffic, type Traffic } from './helpers';

const until = async (check: () => boolean, ms = 20_000) => {
  for (const end = Date.now() + ms; !check() && Date.now() < end; ) await sleep(100);
  return check();
};

describe('netwho agent', () => {
  it('refuses to serve /metrics beyond loopback without a token (exit 2), and an empty or missing token file', async () => {
    const r = await netwhoAsync(['agent', '--no-capture', '--no-history', '--metrics', '0.0.0.0:0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--token');
    const missing = await netwhoAsync([
      'agent',
      '--no-capture',
      '--no-history',
      '--token-file',
      '/nonexistent/token',
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--token-file');
    const log = await netwhoAsync([
      'agent',
      '--no-capture',
      '--no-history',
      '--log',
      '/nonexistent/dir/agent.log',
    ]);
    expect(log.code).toBe(2);
    expect(log.stderr).toContain('--log /nonexistent/dir/agent.log');
  });
});

describe.runIf(process.platform === 'linux' && isRoot)('netwho agent as an unprivileged user', () => {
  it('captures and loads its eBPF hooks with the capabilities the systemd unit in docs/fleet.md grants', async () => {
    const caps = '+net_raw,+net_admin,+bpf,+perfmon,+sys_ptrace,+dac_read_search';
    const child = spawn(
      'setpriv',
      [
        '--reuid=nobody',
        '--regid=nogroup',
        '--clear-groups',
        `--inh-caps=${caps}`,
        `--ambient-caps=${caps}`,
        process.execPath,
        BIN,
        'agent',
        '-i',
        'lo',
        '--no-history',
        '--metrics',
        '127.0.0.1:0',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH } },
    );
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    expect(await until(() => err.includes('agent.start'))).toBe(true);
    child.kill('SIGTERM');
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    // A signal here would be a crash on the way out (the last lines of its log say where).
    expect({ code, signal, log: code === 0 ? '' : err.slice(-2000) }).toEqual({
      code: 0,
      signal: null,
      log: '',
    });
    expect(JSON.parse(err.split('\n')[0]!)).toMatchObject({
      'event.name': 'agent.start',
      mode: 'capture',
      ebpf: true,
    });
  });
});

describe.runIf(process.platform === 'linux' && isRoot)('netwho agent, live on loopback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netwho-agent-'));
  let traffic: Traffic;
  let receiver: Server;
  const received = new Map<string, string[]>();
  let agent: ChildProcess;
  let metricsUrl = '';

  beforeAll(async () => {
    traffic = await startTraffic('agent-traffic');
    // An OTLP/HTTP receiver (the -http exporters send JSON): every body, by path.
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.set(req.url!, [...(received.get(req.url!) ?? []), body]);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const otlp = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    agent = spawn(
      process.execPath,
      [
        BIN,
        'agent',
        '-i',
        'lo',
        '-f',
        `tcp port ${traffic.port}`,
        '--metrics',
        '127.0.0.1:0',
        '--log',
        join(dir, 'agent.log'),
        '--db',
        join(dir, 'agent.db'),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH,
          XDG_STATE_HOME: STATE_HOME,
          OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
          OTEL_METRIC_EXPORT_INTERVAL: '500',
        },
      },
    );
    const log = () => readFileSync(join(dir, 'agent.log'), 'utf8');
    expect(
      await until(() => {
        try {
          return log().includes('agent.start');
        } catch {
          return false;
        }
      }),
    ).toBe(true);
    metricsUrl = (JSON.parse(log().split('\n')[0]!) as { metrics: string }).metrics;
  });

  afterAll(async () => {
    if (agent.exitCode === null) agent.kill('SIGKILL');
    await traffic?.stop();
    receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the traffic program under OpenTelemetry names, without its pid', async () => {
    const scrape = async () => (await fetch(metricsUrl)).text();
    const line =
      /process_network_io_bytes_total\{network_io_direction="transmit",process_executable_name="agent-traffic",process_executable_path="[^"]+"\} (\d+)/;
    await sleep(3000); // a few ticks of traffic
    const text = await scrape();
    expect(text).toMatch(line);
    const first = Number(line.exec(text)![1]);
    await sleep(1500);
    const second = Number(line.exec(await scrape())![1]);
    expect(second).toBeGreaterThan(first); // growing, and never down
    expect(text).not.toContain('process_pid');
    expect(text).toContain('netwho_capture_packets_total{outcome="delivered"}');
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect((await fetch(metricsUrl.replace('/metrics', '/other'))).status).toBe(404);
  });

  it('pushes the same counters and a log record per ended connection over OTLP', async () => {
    expect(
      await until(() => (received.get('/v1/metrics') ?? []).some((b) => b.includes('agent-traffic'))),
    ).toBe(true);
    expect(received.get('/v1/metrics')!.join('')).toContain('"process.network.io"');
    expect(await until(() => (received.get('/v1/logs') ?? []).some((b) => b.includes('agent-traffic')))).toBe(
      true,
    );
    const logs = received.get('/v1/logs')!.join('');
    expect(logs).toContain('"network.peer.port"');
    expect(logs).toContain('"process.pid"');
  });

  it('re-opens its log on SIGHUP and stops cleanly on SIGTERM', async () => {
    renameSync(join(dir, 'agent.log'), join(dir, 'agent.log.1'));
    agent.kill('SIGHUP');
    expect(
      await until(() => {
        try {
          return readFileSync(join(dir, 'agent.log'), 'utf8').includes('log.reopen');
        } catch {
          return false;
        }
      }),
    ).toBe(true);
    agent.kill('SIGTERM');
    const [code] = (await once(agent, 'exit')) as [number];
    expect(code).toBe(0);
    const stop = readFileSync(join(dir, 'agent.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .at(-1)!;
    expect(stop).toMatchObject({
      'event.name': 'agent.stop',
      signal: 'SIGTERM',
      history: { writeErrors: 0 },
    });
    expect((stop.history as { writes: number }).writes).toBeGreaterThan(0);
  });
});
