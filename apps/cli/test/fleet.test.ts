import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, hasTool, isRoot, sleep } from './helpers';

// A fleet on this machine: two hosts (network namespaces joined by a veth pair, addresses only
// inside them), a netwho agent on each, traffic between them, and Debian's Prometheus (started
// here, in host A) scraping both with a bearer token, asked in PromQL who moved what.
const ready =
  process.platform === 'linux' && isRoot && hasTool('prometheus') && hasTool('ip') && hasTool('curl');
const tag = `${process.pid % 100_000}`;
const NS = { a: `nwfa${tag}`, b: `nwfb${tag}` };
const DEV = { a: `nwa${tag}`, b: `nwb${tag}` };
const IP = { a: '10.231.7.1', b: '10.231.7.2' };
const TOKEN = 'fleet-test-token';
const PORT = 7000;

const sh = (args: string[]) => spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
const inNs = (ns: string, args: string[]) => sh(['ip', 'netns', 'exec', ns, ...args]);

/** A program started inside a namespace; `name` makes node's kernel name that (through a symlink). */
function startIn(ns: string, command: string[], name?: string): ChildProcess {
  let argv = command;
  if (name) {
    const program = join(mkdtempSync(join(tmpdir(), 'netwho-fleet-bin-')), name);
    symlinkSync(process.execPath, program);
    argv = [program, ...command.slice(1)];
  }
  return spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
}

async function firstLine(child: ChildProcess): Promise<string> {
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return line;
}

/** A PromQL instant query, asked of the Prometheus in host A: [labels, value] per series. */
function query(promql: string): [Record<string, string>, number][] {
  const r = inNs(NS.a, [
    'curl',
    '-s',
    '--get',
    `http://${IP.a}:9090/api/v1/query`,
    '--data-urlencode',
    `query=${promql}`,
  ]);
  let body: { data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  try {
    body = JSON.parse(r.stdout || '{}');
  } catch {
    return []; // "Service Unavailable" while Prometheus starts
  }
  return (body.data?.result ?? []).map((s) => [s.metric, Number(s.value[1])]);
}

const value = (promql: string) => query(promql)[0]?.[1];

async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(250)) if (check()) return true;
  return check();
}

describe.runIf(ready)('a fleet: an agent per host, scraped by a real Prometheus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netwho-fleet-'));
  const children: ChildProcess[] = [];
  let server: ChildProcess;

  beforeAll(async () => {
    for (const ns of Object.values(NS)) sh(['ip', 'netns', 'add', ns]);
    sh(['ip', 'link', 'add', DEV.a, 'netns', NS.a, 'type', 'veth', 'peer', 'name', DEV.b, 'netns', NS.b]);
    for (const side of ['a', 'b'] as const) {
      inNs(NS[side], ['ip', 'addr', 'add', `${IP[side]}/24`, 'dev', DEV[side]]);
      inNs(NS[side], ['ip', 'link', 'set', DEV[side], 'up']);
      inNs(NS[side], ['ip', 'link', 'set', 'lo', 'up']);
    }
    for (const side of ['a', 'b'] as const) {
      const agent = startIn(NS[side], [
        process.execPath,
        BIN,
        'agent',
        '-i',
        DEV[side],
        '-f',
        `tcp port ${PORT}`,
        '--metrics',
        `${IP[side]}:9464`,
        '--token',
        TOKEN,
        '--db',
        join(dir, `${side}.db`),
        '--no-dns',
      ]);
      children.push(agent);
      const started = JSON.parse(
        await new Promise<string>((resolve) => {
          createInterface({ input: agent.stderr! }).once('line', resolve);
        }),
      ) as Record<string, unknown>;
      expect(started['event.name']).toBe('agent.start');
    }
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, scrape_timeout: 1s }',
        'scrape_configs:',
        '  - job_name: netwho',
        `    authorization: { type: Bearer, credentials: ${TOKEN} }`,
        `    static_configs: [{ targets: ['${IP.a}:9464', '${IP.b}:9464'] }]`,
      ].join('\n'),
    );
    children.push(
      startIn(NS.a, [
        'prometheus',
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
        `--web.listen-address=${IP.a}:9090`,
        '--log.level=warn',
      ]),
    );
    server = startIn(
      NS.b,
      [
        process.execPath,
        join(import.meta.dirname, 'fixtures', 'fleet-peer.mjs'),
        'server',
        IP.b,
        String(PORT),
      ],
      'fleet-server',
    );
    children.push(server);
    await firstLine(server);
    expect(await until(() => query('up').length === 2 && query('up == 1').length === 2, 30_000)).toBe(true);
  });

  afterAll(async () => {
    for (const child of children.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.stdin?.end();
      child.kill('SIGTERM');
      await Promise.race([once(child, 'exit'), sleep(5000)]);
    }
    for (const ns of Object.values(NS)) sh(['ip', 'netns', 'delete', ns]);
    rmSync(dir, { recursive: true, force: true });
  });

  async function client(name: string, bytes: number, connections: number): Promise<number> {
    const c = startIn(
      NS.a,
      [
        process.execPath,
        join(import.meta.dirname, 'fixtures', 'fleet-peer.mjs'),
        'client',
        IP.b,
        String(PORT),
        String(bytes),
        String(connections),
      ],
      name,
    );
    const { sent } = JSON.parse(await firstLine(c)) as { sent: number };
    await once(c, 'exit');
    return sent;
  }

  it('answers in PromQL which program on which host moved how many bytes, the same from both ends', async () => {
    const sent = await client('fleet-client', 200_000, 3);
    const series = (direction: string, name: string, ip: string) =>
      `sum(process_network_io_bytes_total{network_io_direction="${direction}",process_executable_name="${name}",instance="${ip}:9464"})`;
    // Host A's agent saw the client send; host B's saw the server receive.
    expect(await until(() => (value(series('transmit', 'fleet-client', IP.a)) ?? 0) >= sent, 30_000)).toBe(
      true,
    );
    expect(await until(() => (value(series('receive', 'fleet-server', IP.b)) ?? 0) >= sent, 30_000)).toBe(
      true,
    );
    // Once both were scraped after the traffic ended, the two ends agree to the byte, each way.
    await sleep(3000);
    expect(value(series('transmit', 'fleet-client', IP.a))).toBe(
      value(series('receive', 'fleet-server', IP.b)),
    );
    expect(value(series('receive', 'fleet-client', IP.a))).toBe(
      value(series('transmit', 'fleet-server', IP.b)),
    );
    // Wire bytes: the payload plus at most a few hundred bytes of headers per connection and packet.
    expect(value(series('transmit', 'fleet-client', IP.a))).toBeLessThan(sent * 1.2);
    // The per-host, per-program view an operator would ask for.
    const byHost = query('sum by (instance, process_executable_name) (process_network_io_bytes_total)');
    expect(byHost.map(([m]) => `${m.instance} ${m.process_executable_name}`)).toEqual(
      expect.arrayContaining([`${IP.a}:9464 fleet-client`, `${IP.b}:9464 fleet-server`]),
    );
    // No pid label unless asked for.
    expect(query('process_network_io_bytes_total{process_pid!=""}')).toEqual([]);
  });

  it('keeps every counter monotonic while programs come and go', async () => {
    for (let round = 0; round < 3; round++) {
      await client('fleet-burst', 50_000 * (round + 1), 1);
      await sleep(1500);
    }
    expect(
      await until(
        () =>
          (value(
            'sum(process_network_io_bytes_total{process_executable_name="fleet-burst",network_io_direction="transmit"})',
          ) ?? 0) >= 300_000,
        30_000,
      ),
    ).toBe(true);
    expect(value('sum(resets(process_network_io_bytes_total[5m]))')).toBe(0);
    expect(value('sum(resets(netwho_capture_packets_total[5m]))')).toBe(0);
    expect(value('sum(netwho_capture_packets_total{outcome=~".*dropped"})')).toBe(0);
  });

  it('refuses a scrape without the token', () => {
    const r = inNs(NS.a, [
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      `http://${IP.b}:9464/metrics`,
    ]);
    expect(r.stdout).toBe('401');
    const ok = inNs(NS.a, [
      'curl',
      '-s',
      '-H',
      `Authorization: Bearer ${TOKEN}`,
      `http://${IP.b}:9464/metrics`,
    ]);
    expect(ok.stdout).toContain('# EOF');
  });
});
