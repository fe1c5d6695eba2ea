import { describe, expect, it } from 'vitest';
import {
  CaptureError,
  CaptureFileParser,
  DecodedPacket,
  decodePacket,
  FlowTable,
  LinkType,
  MemorySink,
  PcapngWriter,
  PcapWriter,
} from '../src/index';
import {
  arp,
  bytes,
  ethernet,
  extension,
  fragmentHeader,
  icmpEcho,
  ipv4,
  ipv6,
  nullLink,
  sll,
  sll2,
  tcp,
  udp,
} from './frames';

/** A small deterministic generator, so a failure can be replayed from its seed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s % n;
  };
}

const seeds: Array<[number, number[]]> = [
  [
    LinkType.ETHERNET,
    ethernet(
      0x0800,
      ipv4(6, '10.0.0.1', '10.0.0.2', tcp(1, 2, 0x12, [1, 2, 3], { options: [2, 4, 5, 180] })),
      [{ tpid: 0x8100, id: 3 }],
    ),
  ],
  [
    LinkType.ETHERNET,
    ethernet(
      0x86dd,
      ipv6(0, '::1', '::2', extension(43, extension(44, fragmentHeader(17, 0, true, udp(1, 2, [9])), 14))),
    ),
  ],
  [LinkType.ETHERNET, ethernet(0x0806, arp(1, '1.1.1.1', '2.2.2.2'))],
  [LinkType.LINUX_SLL, sll(4, 0x0800, ipv4(1, '1.1.1.1', '2.2.2.2', icmpEcho()))],
  [LinkType.LINUX_SLL2, sll2(0, 0x86dd, ipv6(58, '::1', '::2', icmpEcho(128)))],
  [LinkType.NULL, nullLink(30, true, ipv6(6, '::1', '::2', tcp(5, 6, 0x10)))],
  [LinkType.RAW, ipv4(17, '1.1.1.1', '2.2.2.2', udp(7, 8, [1, 2]), { options: [1, 1, 1, 0] })],
];
const linkTypes = [0, 1, 101, 108, 113, 228, 229, 276, 12345];

describe('fuzzing (no uncaught throw, no endless loop, no read past the end)', () => {
  it('1,000,000 random and mutated frames through every decoder and the flow table', () => {
    const next = rng(1);
    const p = new DecodedPacket();
    const table = new FlowTable({ maxFlows: 1024, localAddresses: ['10.0.0.1'] });
    const buffer = new Uint8Array(2048);
    let decodedSomething = 0;
    for (let i = 0; i < 1_000_000; i++) {
      let frame: Uint8Array;
      let linkType: number;
      if (i % 4 === 0) {
        // Pure noise of random length and link type.
        linkType = linkTypes[next(linkTypes.length)]!;
        const length = next(200);
        for (let k = 0; k < length; k++) buffer[k] = next(256);
        frame = buffer.subarray(0, length);
      } else {
        // A valid frame with a few bytes changed, then maybe cut or extended.
        const [type, seed] = seeds[next(seeds.length)]!;
        linkType = type;
        buffer.set(seed);
        let length = seed.length;
        for (let m = next(4) + 1; m > 0; m--) buffer[next(length)] = next(256);
        if (next(3) === 0) length = next(length + 1);
        else if (next(5) === 0) {
          const extra = next(64);
          for (let k = 0; k < extra; k++) buffer[length + k] = next(256);
          length += extra;
        }
        frame = buffer.subarray(0, length);
      }
      // Every other frame is decoded in place in the whole buffer, where earlier frames' bytes
      // follow its end: the range alone must bound the decoders.
      if (i % 2 === 0) decodePacket(frame, linkType, p);
      else decodePacket(buffer, linkType, p, 0, frame.length);
      // Whatever the decoder claims must lie inside the frame.
      if (p.end !== frame.length) throw new Error(`wrong end at ${i}`);
      if (p.payloadOffset >= 0 && p.payloadOffset + p.payloadLength > frame.length)
        throw new Error(`payload past the end at ${i}`);
      if (p.srcAddrOffset >= 0 && p.srcAddrOffset + (p.ipVersion === 6 ? 16 : 4) > frame.length)
        throw new Error(`address past the end at ${i}`);
      if (table.add(p, i, frame.length) >= 0) decodedSomething++;
    }
    expect(decodedSomething).toBeGreaterThan(100_000);
    expect(table.size).toBeLessThanOrEqual(1024);
  });

  it('mutated pcap and pcapng files: packets or a CaptureError, never anything else', () => {
    const next = rng(2);
    const pcapSink = new MemorySink();
    const pcap = new PcapWriter(pcapSink, { linkType: 1 });
    const ngSink = new MemorySink();
    const ng = new PcapngWriter(ngSink);
    ng.addInterface({ linkType: 1, name: 'eth0' });
    for (let i = 0; i < 20; i++) {
      const data = bytes(seeds[i % 3]![1]);
      pcap.writePacket({ data, seconds: i, nanoseconds: i });
      ng.writePacket({ data, seconds: i, nanoseconds: i, comment: `pid=${i}`, processId: i });
    }
    pcap.close();
    ng.close();
    const files = [pcapSink.bytes(), ngSink.bytes()];
    const outcomes = { ok: 0, format: 0, truncated: 0 };
    for (let i = 0; i < 20_000; i++) {
      const file = Uint8Array.from(files[i % 2]!);
      for (let m = next(6) + 1; m > 0; m--) file[next(file.length)] = next(256);
      const length = next(4) === 0 ? next(file.length) : file.length;
      const parser = new CaptureFileParser((r) => {
        if (r.data.length > 262144) throw new Error('impossible packet');
      });
      try {
        for (let at = 0; at < length; ) {
          const step = 1 + next(300);
          parser.push(file.subarray(at, Math.min(length, at + step)));
          at += step;
        }
        parser.end();
        outcomes.ok++;
      } catch (error) {
        if (!(error instanceof CaptureError)) throw error;
        if (error.code === 'E_FILE_TRUNCATED') outcomes.truncated++;
        else outcomes.format++;
      }
    }
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(outcomes.format).toBeGreaterThan(0);
    expect(outcomes.truncated).toBeGreaterThan(0);
  });
});
