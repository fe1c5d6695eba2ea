import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodedPacket, decodePacket, LiveCapture } from '../src/index';
import { describeCaptureBackend, fixture, vethPair } from './conformance';
import { hasTool, isRoot } from './tools';

const linux = process.platform === 'linux';
const tag = `nwr${process.pid % 10000}`;

// Our own TPACKET_V3 ring, and its TPACKET_V2 frames for immediate delivery: what every backend
// does, then what only the ring does.
describeCaptureBackend('ring', tag);
describeCaptureBackend('ring', `nwi${process.pid % 10000}`, { immediate: true });

/** Sends `count` datagrams of `size` bytes to 127.0.0.1:port from another process, as fast as it can. */
function sendFromAnotherProcess(port: number, count: number, size: number): void {
  const send = `const s=require('dgram').createSocket('udp4');const b=Buffer.alloc(${size});let i=0,done=0;
    (function next(){while(i<${count}&&i-done<64){i++;s.send(b,${port},'127.0.0.1',()=>{if(++done===${count})s.close();else next()})}})()`;
  execFileSync(process.execPath, ['-e', send]);
}

/**
 * The smallest ring (512 KiB) on a reader that is blocked (execFileSync) while another process
 * sends 20,000 datagrams of 32 bytes; what it delivered and counted once drained.
 */
async function stalledCapture(options: { immediate?: boolean; snapLength?: number }) {
  const receiver = await boundReceiver();
  const port = receiver.address().port;
  const capture = LiveCapture.open({
    device: 'lo',
    filter: `udp dst port ${port}`,
    backend: 'ring',
    bufferSize: 512 * 1024,
    ...options,
  });
  let delivered = 0;
  capture.on('packet', () => delivered++);
  sendFromAnotherProcess(port, 20_000, 32);
  expect(await capture.drain(5000)).toBe(true);
  const stats = capture.stats();
  capture.close();
  receiver.close();
  return { stats, delivered };
}

async function boundReceiver() {
  const receiver = createSocket('udp4');
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  return receiver;
}

describe.runIf(linux && isRoot)('ring backend on loopback', () => {
  it('stamps each packet with the kernel’s receive time: not before its send, before our read, monotonic', async () => {
    const receiver = await boundReceiver();
    const port = receiver.address().port;
    const capture = LiveCapture.open({ device: 'lo', filter: `udp dst port ${port}`, backend: 'ring' });
    const stamps: number[] = [];
    capture.on('packet', (p) => stamps.push(p.seconds * 1e3 + p.nanoseconds / 1e6));
    const sender = createSocket('udp4');
    // Date.now() reads CLOCK_REALTIME, the kernel's stamp clock (performance.timeOrigin is fixed
    // at start and drifts from it). The stamp is taken in the receive softirq, which a loaded machine
    // may run in ksoftirqd after the send returned; so the upper bound is the read, held back 300 ms.
    const sentAt: number[] = [];
    for (let i = 0; i < 50; i++) {
      sentAt.push(Date.now());
      await new Promise<void>((resolve) => sender.send(Buffer.alloc(16), port, '127.0.0.1', () => resolve()));
    }
    const heldFrom = Date.now();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    expect(await capture.drain()).toBe(true);
    capture.close();
    sender.close();
    receiver.close();
    expect(stamps).toHaveLength(50);
    stamps.forEach((t, i) => {
      expect(t).toBeGreaterThanOrEqual(sentAt[i]!); // Date.now() is the stamp's time floored to 1 ms
      expect(t).toBeLessThan(heldFrom + 300);
    });
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
  });

  it('counts every packet it could not keep: delivered + dropped by the kernel = sent, with a stalled reader', async () => {
    // The smallest ring (8 blocks of 64 KiB, about 2,500 small packets) and a reader that is blocked
    // (execFileSync) while another process sends 20,000 datagrams: most must be dropped, and counted.
    const { stats, delivered } = await stalledCapture({});
    const lo = stats.devices.lo!;
    expect(lo.kernelDropped).toBeGreaterThan(0);
    expect(lo.freezes).toBeGreaterThan(0);
    expect(delivered).toBe(lo.delivered);
    expect(lo.delivered + lo.kernelDropped!).toBe(20_000);
    expect(lo.received).toBe(20_000);
    expect(stats.kernelDropped).toBe(lo.kernelDropped);
  });

  it('hands over a block that is not full after blockTimeoutMs', async () => {
    const receiver = await boundReceiver();
    const port = receiver.address().port;
    const capture = LiveCapture.open({
      device: 'lo',
      filter: `udp dst port ${port}`,
      backend: 'ring',
      blockTimeoutMs: 5,
    });
    const seen = new Promise<number>((resolve) => {
      const sentAt = performance.now();
      capture.once('packet', () => resolve(performance.now() - sentAt));
      const sender = createSocket('udp4');
      sender.send(Buffer.alloc(8), port, '127.0.0.1', () => sender.close());
    });
    // One datagram fills no block: it arrives through the timeout (no timing asserted: a slow machine is not a failure).
    expect(await seen).toBeGreaterThanOrEqual(0);
    capture.close();
    receiver.close();
  });

  it('in immediate mode, hands each packet over at once, not at the block timeout', async () => {
    const receiver = await boundReceiver();
    const port = receiver.address().port;
    const capture = LiveCapture.open({
      device: 'lo',
      filter: `udp dst port ${port}`,
      backend: 'ring',
      immediate: true,
      blockTimeoutMs: 1000, // what a TPACKET_V3 ring would hold a lone packet for
    });
    const sentAt = performance.now();
    const seen = new Promise<number>((resolve) =>
      capture.once('packet', () => resolve(performance.now() - sentAt)),
    );
    const sender = createSocket('udp4');
    sender.send(Buffer.alloc(8), port, '127.0.0.1', () => sender.close());
    expect(await seen).toBeLessThan(500);
    capture.close();
    receiver.close();
  });

  it('in immediate mode, counts every packet it could not keep, with a stalled reader', async () => {
    // 8 blocks of 64 KiB in frames of 2048 + 128 bytes: 240 frames, and 20,000 datagrams while the reader is blocked.
    const { stats, delivered } = await stalledCapture({ immediate: true, snapLength: 2048 });
    const lo = stats.devices.lo!;
    expect(lo.delivered).toBe(240);
    expect(delivered).toBe(240);
    expect(lo.delivered + lo.kernelDropped!).toBe(20_000);
    expect(lo.received).toBe(20_000);
    expect(lo.freezes).toBe(0); // V2 has no blocks to freeze
  });

  it('waits in the event loop on the main thread, and in poll(2) on a pool thread in a worker (moving no thread)', async () => {
    const capture = LiveCapture.open({ device: 'lo', filter: 'udp dst port 9', backend: 'ring' });
    expect(capture.stats().waiting).toBe('event-loop');
    capture.close();
    const receiver = await boundReceiver();
    const port = receiver.address().port;
    const child = spawn(process.execPath, [fixture('capture-in-worker.mjs'), String(port), '50'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    expect(JSON.parse((await lines.next()).value)).toEqual({ ready: true });
    sendFromAnotherProcess(port, 50, 16);
    expect(JSON.parse((await lines.next()).value)).toEqual({
      delivered: 50,
      waiting: 'thread',
      dropped: 0,
      helpers: { moved: 0, reason: expect.stringMatching(/not on the main thread/) },
      readerCpu: { moved: 0, reason: expect.stringMatching(/not on the main thread/) },
    });
    await once(child, 'exit');
    receiver.close();
  });

  it('falls back to libpcap when the kernel filter cannot see what the filter tests, and says why', () => {
    const capture = LiveCapture.open({ device: 'lo', filter: 'vlan or udp' });
    expect(capture.backendKind).toBe('cap');
    expect(capture.stats().fallbackReason).toMatch(/VLAN/);
    capture.close();
    expect(() => LiveCapture.open({ device: 'lo', filter: 'vlan or udp', backend: 'ring' })).toThrow(
      expect.objectContaining({ code: 'E_RING' }),
    );
  });

  it('a listener that closes the capture mid-block stops delivery there', async () => {
    const receiver = await boundReceiver();
    const port = receiver.address().port;
    const capture = LiveCapture.open({ device: 'lo', filter: `udp dst port ${port}`, backend: 'ring' });
    let seen = 0;
    capture.on('packet', () => {
      if (++seen === 3) capture.close();
    });
    sendFromAnotherProcess(port, 10, 8);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toBe(3);
    receiver.close();
  });
});

describe.runIf(linux && isRoot && hasTool('ip'))('ring backend between namespaces', () => {
  const pair = vethPair(`${tag}n`, '10.213.4');
  beforeAll(() => pair.create());
  afterAll(() => pair.remove());

  it.each([false, true])(
    'puts VLAN tags the kernel stripped back into the frame (immediate: %s)',
    (immediate) => {
      // A frame tagged VLAN 100 sent from B: A's kernel takes the tag out on receipt (skb_vlan_untag)
      // and hands it to the capture in tp_vlan_tci; the ring must put it back where it was.
      const udp = ['0009', '0009', '000c', '0000', '61626364']; // ports 9 -> 9, length 12, no checksum
      const ipv4 = ['4500', '0020', '0000', '4000', '4011', '0000', '0ad50402', '0ad50401'];
      const frame = ['ffffffffffff', '020000000002', '8100', '0064', '0800', ...ipv4, ...udp].join('');
      const result = pair.runInA('capture-udp.mjs', {
        device: pair.deviceA,
        count: 20,
        backend: 'ring',
        filter: '',
        inject: { ns: pair.nsB, device: pair.deviceB, frame },
        immediate,
      });
      expect(result.error).toBeUndefined();
      expect(result.vlans).toEqual({ 100: 20 });
      const flow = result.flows.find((f: { remote: { port: number } }) => f.remote.port === 9);
      // Each frame as sent: Ethernet 14 + tag 4 + IPv4 20 + UDP 8 + 4 bytes of payload.
      expect(flow).toMatchObject({ packetsIn: 20, bytesIn: 20 * (14 + 4 + 20 + 8 + 4) });
    },
  );

  it('promiscuous mode only when asked', () => {
    const args = { device: pair.deviceA, peer: pair.addressB, count: 1, size: 10, backend: 'ring' };
    expect(pair.runInA('capture-udp.mjs', args).promiscuous).toBe(false);
    expect(pair.runInA('capture-udp.mjs', { ...args, promiscuous: true }).promiscuous).toBe(true);
  });

  it('a device that goes down, then is removed, is an error event each time, and the capture ends', () => {
    pair.ip('-n', pair.nsA, 'link', 'add', 'gone0', 'type', 'veth', 'peer', 'name', 'gone1');
    pair.ip('-n', pair.nsA, 'link', 'set', 'gone0', 'up');
    pair.ip('-n', pair.nsA, 'link', 'set', 'gone1', 'up');
    const result = pair.runInA('device-removed.mjs', { device: 'gone0', backend: 'ring' });
    expect(result.events.map((e: { code: string }) => e.code)).toEqual(['E_DEVICE_DOWN', 'E_DEVICE_GONE']);
    expect(result.stateWhenDown).toBe('down');
    expect(result.closed).toBe(true);
    expect(result.stats.devices.gone0.state).toBe('gone');
    expect(spawnSync('ip', ['-n', pair.nsA, 'link', 'show', 'gone0']).status).not.toBe(0);
  });
});

describe('ring frames decode as the decoders expect (any device, cooked)', () => {
  it.runIf(linux && isRoot).each([false, true])(
    'SLL2 headers carry the interface index and packet type (immediate: %s)',
    async (immediate) => {
      const receiver = await boundReceiver();
      const port = receiver.address().port;
      const capture = LiveCapture.open({
        device: 'any',
        filter: `udp dst port ${port}`,
        backend: 'ring',
        immediate,
      });
      const frames: Uint8Array[] = [];
      capture.on('packet', (p) => frames.push(p.data.slice()));
      sendFromAnotherProcess(port, 3, 20);
      await capture.drain();
      capture.close();
      receiver.close();
      expect(frames).toHaveLength(3);
      const view = new DataView(frames[0]!.buffer);
      expect(view.getUint16(0)).toBe(0x0800); // protocol
      expect(view.getUint32(4)).toBe(
        Number(execFileSync('cat', ['/sys/class/net/lo/ifindex'], { encoding: 'utf8' })),
      );
      expect(view.getUint16(8)).toBe(772); // ARPHRD_LOOPBACK
      const p = decodePacket(frames[0]!, 276, new DecodedPacket());
      expect(p).toMatchObject({ error: undefined, dstPort: port, payloadLength: 20, linuxPacketType: 0 });
    },
  );
});
