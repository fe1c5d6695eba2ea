import { execFileSync, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DecodedPacket,
  decodePacket,
  defaultDevice,
  FlowTable,
  LiveCapture,
  type LivePacket,
  listDevices,
  TcpFlag,
  TcpSeen,
} from '../src/index';
import { hasTool, isRoot } from './tools';
import { makeLoopbackTraffic } from './traffic';

const linux = process.platform === 'linux';
const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);

/** Captures on `device` while `traffic` runs, then delivers what the kernel still holds and closes. */
async function captureDuring<T>(options: Parameters<typeof LiveCapture.open>[0], traffic: () => Promise<T>) {
  const capture = LiveCapture.open(options);
  const packets: LivePacket[] = [];
  capture.on('packet', (p) => packets.push({ ...p, data: new Uint8Array(p.data) }));
  const result = await traffic();
  await capture.drain();
  const stats = capture.stats();
  capture.close();
  return { packets, result, stats };
}

describe.runIf(linux)('devices', () => {
  it('lists devices with addresses and state, loopback included', () => {
    const devices = listDevices();
    const lo = devices.find((d) => d.name === 'lo');
    expect(lo).toMatchObject({ loopback: true, up: true });
    expect(lo!.flags).toContain('LOOPBACK');
    expect(lo!.addresses.map((a) => a.address)).toContain('127.0.0.1');
    expect(devices.some((d) => d.name === 'any')).toBe(true);
  });

  it('picks the default route’s device by default', () => {
    const name = defaultDevice();
    expect(listDevices().some((d) => d.name === name)).toBe(true);
    const route = spawnSync('ip', ['-o', 'route', 'show', 'default'], { encoding: 'utf8' }).stdout;
    const routed = /dev (\S+)/.exec(route)?.[1];
    if (routed) expect(name).toBe(routed);
  });
});

describe.runIf(linux && isRoot)('live capture on loopback (real packets)', () => {
  it('sees every datagram and the whole TCP exchange, with sizes and flags as sent', async () => {
    const {
      packets,
      result: ports,
      stats,
    } = await captureDuring({ device: 'lo', filter: 'udp or tcp' }, () =>
      makeLoopbackTraffic({ udpDatagrams: 200, udpSize: 500, tcpBytes: 300_000 }),
    );
    const table = new FlowTable({ localAddresses: ['127.0.0.1'] });
    const p = new DecodedPacket();
    // Payload bytes each way, by sequence number: a segment the kernel retransmits (loopback under
    // load does) is seen twice but covers the same bytes.
    let tcpPayloadOut = 0;
    let tcpPayloadIn = 0;
    const isn = { out: -1, in: -1 };
    const reach = (start: number, seq: number, length: number) => (seq - start - 1 + length) >>> 0;
    for (const packet of packets) {
      expect(packet.linkType).toBe(1);
      decodePacket(packet.data, packet.linkType, p);
      expect(p.error).toBeUndefined();
      table.add(p, packet.seconds * 1000 + packet.nanoseconds / 1e6, packet.data.length);
      if (p.protocol === 6 && p.srcPort === ports.tcpClientPort) {
        if (p.tcpFlags & TcpFlag.SYN) isn.out = p.seq;
        else if (p.payloadLength > 0)
          tcpPayloadOut = Math.max(tcpPayloadOut, reach(isn.out, p.seq, p.payloadLength));
      }
      if (p.protocol === 6 && p.dstPort === ports.tcpClientPort) {
        if (p.tcpFlags & TcpFlag.SYN) isn.in = p.seq;
        else if (p.payloadLength > 0)
          tcpPayloadIn = Math.max(tcpPayloadIn, reach(isn.in, p.seq, p.payloadLength));
      }
    }
    const flows = table.flows();
    const udpFlow = flows.find((f) => f.protocol === 17 && f.local.port === ports.udpSourcePort);
    expect(udpFlow).toMatchObject({ packetsOut: 200, packetsIn: 0, bytesOut: 200 * (500 + 8 + 20 + 14) });
    const tcpFlow = flows.find((f) => f.protocol === 6 && f.local.port === ports.tcpClientPort);
    expect(tcpFlow).toMatchObject({ remote: { port: ports.tcpServerPort } });
    expect(tcpFlow!.tcp & TcpSeen.SYN).toBeTruthy();
    expect(tcpFlow!.tcp & (TcpSeen.FIN_LOCAL | TcpSeen.FIN_REMOTE)).toBe(
      TcpSeen.FIN_LOCAL | TcpSeen.FIN_REMOTE,
    );
    expect([tcpPayloadOut, tcpPayloadIn]).toEqual([300_000, 300_000]);
    expect(stats.delivered).toBe(packets.length);
    expect(stats.kernel.lo).toMatchObject({ dropped: 0 });
    expect(stats.kernel.lo!.received).toBeGreaterThanOrEqual(packets.length);
    // Timestamps come in order and close to now.
    const times = packets.map((x) => x.seconds * 1e9 + x.nanoseconds);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.abs(packets[0]!.seconds - Date.now() / 1000)).toBeLessThan(60);
  });

  it('drain() delivers the packets that wait in the kernel ring while the process was busy', async () => {
    const receiver = createSocket('udp4');
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
    const port = receiver.address().port;
    const capture = LiveCapture.open({ device: 'lo', filter: `udp dst port ${port}` });
    let seen = 0;
    capture.on('packet', () => seen++);
    // Sent by another process while this one is blocked: every datagram waits in the ring.
    const send = `const s=require('dgram').createSocket('udp4');let i=0;const b=Buffer.alloc(32);(function next(){if(i++<40)s.send(b,${port},'127.0.0.1',next);else s.close()})()`;
    execFileSync(process.execPath, ['-e', send]);
    expect(seen).toBe(0);
    expect(await capture.drain()).toBe(true);
    expect(seen).toBe(40);
    expect(capture.stats().kernel.lo).toMatchObject({ dropped: 0 });
    capture.close();
    receiver.close();
    expect(await capture.drain()).toBe(false);
  });

  it('cuts packets at the snap length and says so', async () => {
    const { packets, result: ports } = await captureDuring(
      { device: 'lo', filter: 'udp', snapLength: 100 },
      () => makeLoopbackTraffic({ udpDatagrams: 3, udpSize: 1000 }),
    );
    const ours = packets.filter((x) => decodePacket(x.data, x.linkType).dstPort === ports.udpPort);
    expect(ours).toHaveLength(3);
    for (const x of ours) expect([x.data.length, x.truncated]).toEqual([100, true]);
    // The IP header still tells the real size.
    expect(decodePacket(ours[0]!.data, 1).ipLength).toBe(1000 + 8 + 20);
  });

  it('captures on several devices at once, each packet tagged with its device', async () => {
    const { packets, result: ports } = await captureDuring({ device: ['lo', 'any'], filter: 'udp' }, () =>
      makeLoopbackTraffic({ udpDatagrams: 5, udpSize: 10 }),
    );
    const ours = packets.filter((x) => decodePacket(x.data, x.linkType).dstPort === ports.udpPort);
    expect(ours.filter((x) => x.device === 'lo')).toHaveLength(5);
    // `any` sees loopback packets in Linux cooked form.
    const viaAny = ours.filter((x) => x.device === 'any');
    expect(viaAny.length).toBeGreaterThanOrEqual(5);
    expect(viaAny[0]!.linkType).toBe(113);
  });

  it('is async-iterable; breaking out closes the capture', async () => {
    const capture = LiveCapture.open({ device: 'lo', filter: 'udp' });
    const traffic = makeLoopbackTraffic({ udpDatagrams: 20, udpSize: 10 });
    const seen: LivePacket[] = [];
    for await (const packet of capture) {
      seen.push(packet);
      if (seen.length === 10) break;
    }
    await traffic;
    expect(seen).toHaveLength(10);
    expect(capture.isClosed).toBe(true);
    // Iterated packets own their bytes.
    expect(new Set(seen.map((x) => x.data.buffer)).size).toBe(10);
  });

  it('closed captures survive garbage collection (cap’s destructor would crash Node)', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', fixture('open-close-gc.mjs')], {
      encoding: 'utf8',
    });
    expect(out).toBe('ok');
  });

  it('errors say what went wrong: no such device, bad filter, bad options', () => {
    expect(() => LiveCapture.open({ device: 'nosuch0' })).toThrow(
      expect.objectContaining({ code: 'E_NO_DEVICE', message: expect.stringContaining('lo') }),
    );
    expect(() => LiveCapture.open({ device: 'lo', filter: 'tcp port (((' })).toThrow(
      expect.objectContaining({ code: 'E_BAD_FILTER', message: expect.stringContaining('syntax error') }),
    );
    expect(() => LiveCapture.open({ device: 'lo', snapLength: 10 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    );
  });
});

describe.runIf(linux && isRoot && hasTool('setpriv'))('without capture rights', () => {
  it('E_PERMISSION tells how to get them', () => {
    const out = execFileSync(
      'setpriv',
      [
        '--reuid=nobody',
        '--regid=nogroup',
        '--clear-groups',
        '--inh-caps=-all',
        process.execPath,
        fixture('open-capture.mjs'),
        'lo',
      ],
      // Only PATH: the test runner's NODE_OPTIONS point at files the nobody user may not read.
      { encoding: 'utf8', env: { PATH: process.env.PATH } },
    );
    const result = JSON.parse(out) as { code: string; message: string };
    expect(result.code).toBe('E_PERMISSION');
    expect(result.message).toMatch(/root|setcap cap_net_raw,cap_net_admin=eip/);
  });
});

/**
 * Two network namespaces joined by a veth pair, with addresses from 10.213.0.0/30 that exist only
 * inside them: the capture runs in one namespace and sees exactly the datagrams it sends to the other.
 */
describe.runIf(linux && isRoot && hasTool('ip'))('live capture across a veth pair between namespaces', () => {
  const tag = `nw${process.pid % 100000}`;
  const [nsA, nsB] = [`${tag}a`, `${tag}b`];
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

  beforeAll(() => {
    ip('netns', 'add', nsA);
    ip('netns', 'add', nsB);
    ip('link', 'add', `${tag}va`, 'netns', nsA, 'type', 'veth', 'peer', 'name', `${tag}vb`, 'netns', nsB);
    ip('-n', nsA, 'addr', 'add', '10.213.0.1/30', 'dev', `${tag}va`);
    ip('-n', nsB, 'addr', 'add', '10.213.0.2/30', 'dev', `${tag}vb`);
    for (const [ns, dev] of [
      [nsA, `${tag}va`],
      [nsB, `${tag}vb`],
    ] as const) {
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
  });
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', nsA]);
    spawnSync('ip', ['netns', 'del', nsB]);
  });

  it('counts every datagram sent, with exact bytes, and the kernel reports no drops', () => {
    const args = JSON.stringify({ device: `${tag}va`, peer: '10.213.0.2', count: 500, size: 1200 });
    const out = execFileSync(
      'ip',
      ['netns', 'exec', nsA, process.execPath, fixture('capture-udp.mjs'), args],
      {
        encoding: 'utf8',
      },
    );
    const result = JSON.parse(out);
    expect(result.error).toBeUndefined();
    expect(result.drained).toBe(true);
    expect(result.devices[0]).toMatchObject({ up: true, loopback: false });
    expect(result.devices[0].addresses.map((a: { address: string }) => a.address)).toContain('10.213.0.1');
    const flow = result.flows.find((f: { remote: { port: number } }) => f.remote.port === 9);
    expect(flow).toMatchObject({
      localKnown: true,
      local: { address: '10.213.0.1' },
      packetsOut: 500,
      bytesOut: 500 * (1200 + 8 + 20 + 14),
    });
    expect(result.stats.kernel[`${tag}va`]).toMatchObject({ dropped: 0 });
  });
});
