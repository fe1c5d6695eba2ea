import type { LivePacket } from '@netwho/capture';
import { describe, expect, it } from 'vitest';
import { HeldPackets, type Release } from '../src/capture/held-packets';
import { summaryLines } from '../src/capture/summary';

/** A packet whose bytes are all `n` (mod 256), `size` long. */
function packet(n: number, size: number): LivePacket {
  const data = new Uint8Array(size).fill(n & 0xff);
  return {
    data,
    buffer: data,
    offset: 0,
    length: size,
    wireLength: size + 1,
    device: 'lo',
    linkType: 1,
    truncated: false,
    seconds: 1000 + n,
    nanoseconds: n,
    packetType: 0,
  };
}

type Label = 'pending' | 'known';

function collect() {
  const out: Array<{ n: number; first: number; size: number; label: Label; why: Release; wire: number }> = [];
  const write = (
    p: { data: Uint8Array; nanoseconds: number; wireLength: number },
    label: Label,
    why: Release,
  ) => out.push({ n: p.nanoseconds, first: p.data[0]!, size: p.data.length, label, why, wire: p.wireLength });
  return { out, write };
}

describe('packets held for their labels', () => {
  it('waits for a label, then writes in capture order with the bytes as they were', () => {
    const q = new HeldPackets({ maxBytes: 1000, maxPackets: 10, maxWaitMs: 100 });
    const labels = new Map<number, Label>([
      [1, 'pending'],
      [2, 'pending'],
    ]);
    const labelOf = (flow: number) => labels.get(flow) ?? 'pending';
    const { out, write } = collect();
    q.push(packet(1, 50), 1, 0, true, 0, labelOf, write);
    q.push(packet(2, 60), 2, 0, false, 0, labelOf, write);
    q.release(10, false, labelOf, (l) => l !== 'pending', write);
    expect(out).toHaveLength(0);
    labels.set(2, 'known'); // the second is settled, but the first still waits: order is kept
    q.release(20, false, labelOf, (l) => l !== 'pending', write);
    expect(out).toHaveLength(0);
    labels.set(1, 'known');
    q.release(30, false, labelOf, (l) => l !== 'pending', write);
    expect(out).toEqual([
      { n: 1, first: 1, size: 50, label: 'known', why: 'settled', wire: 51 },
      { n: 2, first: 2, size: 60, label: 'known', why: 'settled', wire: 61 },
    ]);
  });

  it('writes a packet that waited too long with what is known, and counts it', () => {
    const q = new HeldPackets({ maxBytes: 1000, maxPackets: 10, maxWaitMs: 100 });
    const { out, write } = collect();
    q.push(packet(1, 10), 1, 0, true, 0, () => 'pending' as Label, write);
    q.release(
      150,
      false,
      () => 'pending' as Label,
      () => false,
      write,
    );
    expect(out.map((o) => [o.n, o.why, o.label])).toEqual([[1, 'waited', 'pending']]);
    expect(q.released.waited).toBe(1);
  });

  it('never drops: past a bound the oldest is written first, and the byte ring wraps without overwriting', () => {
    const q = new HeldPackets({ maxBytes: 250, maxPackets: 4, maxWaitMs: 1e9 });
    const { out, write } = collect();
    const pending = () => 'pending' as Label;
    for (let n = 0; n < 40; n++) q.push(packet(n, 30 + (n % 5) * 20), n, 0, n % 2 === 0, 0, pending, write);
    q.release(0, true, pending, () => false, write);
    expect(out.map((o) => o.n)).toEqual(Array.from({ length: 40 }, (_, n) => n));
    for (const o of out) {
      expect(o.first).toBe(o.n);
      expect(o.size).toBe(30 + (o.n % 5) * 20);
    }
    expect(q.released.full + q.released.end).toBe(40);
    expect(q.released.full).toBeGreaterThan(0);
    expect(q.size).toBe(0);
  });
});

describe('capture summary', () => {
  it('says what tcpdump says, plus the packets written before their program was known', () => {
    const lines = summaryLines({
      file: 'out.pcapng',
      written: 10,
      labelled: 8,
      writtenBeforeLabel: 2,
      heldFull: 1,
      backend: 'ring',
      owners: {
        ebpf: true,
        ebpfMissing: [{ hook: 'udp4-bind', reason: 'attaching to the root cgroup was refused (errno 1)' }],
        fromEbpf: 5,
        fromSocketTable: 3,
      },
      devices: [
        { name: 'lo', received: 7, kernelDropped: 1, netwhoDropped: 0, state: 'up' },
        { name: 'eth0', received: 5, kernelDropped: 1, netwhoDropped: 0, state: 'gone' },
      ],
    });
    expect(lines).toEqual([
      '10 packets written to out.pcapng, 8 with their program',
      '2 written before their program was known (1 because the wait queue was full)',
      '12 packets received by filter, 2 dropped by kernel, 0 dropped by netwho',
      'owners: 5 connection ends from eBPF, 3 from the socket table',
      'eBPF hook udp4-bind is off: attaching to the root cgroup was refused (errno 1)',
      'eth0 is gone',
    ]);
  });
});
