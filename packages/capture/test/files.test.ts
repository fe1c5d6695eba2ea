import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CaptureFileParser,
  copyRecord,
  DecodedPacket,
  decodePacket,
  FlowTable,
  LinkType,
  MemorySink,
  type PacketRecord,
  PcapngWriter,
  PcapWriter,
  parseCaptureFile,
  parseCaptureFileSync,
  readPackets,
} from '../src/index';
import { bytes, ethernet, ipv4, ipv6, tcp, udp } from './frames';
import { hasTool, isRoot, startTcpdump, tempDir, tshark, tsharkConversations } from './tools';
import { makeLoopbackTraffic } from './traffic';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const frames = [
  bytes(ethernet(0x0800, ipv4(6, '10.0.0.1', '10.0.0.2', tcp(40000, 80, 0x02)))),
  bytes(ethernet(0x0800, ipv4(17, '10.0.0.2', '10.0.0.1', udp(53, 40001, [1, 2, 3, 4, 5])))),
  bytes(ethernet(0x86dd, ipv6(6, '2001:db8::1', '2001:db8::2', tcp(1, 2, 0x10, new Array(333).fill(7))))),
];
const times = [
  { seconds: 1_700_000_000, nanoseconds: 123_456_789 },
  { seconds: 1_700_000_001, nanoseconds: 999_999_999 },
  { seconds: 4_000_000_000, nanoseconds: 1 }, // past 2^31: unsigned all the way
];

function readAll(
  file: Uint8Array,
  chunk = file.length,
): { records: PacketRecord[]; parser: CaptureFileParser } {
  const records: PacketRecord[] = [];
  const parser = new CaptureFileParser((r) => records.push(copyRecord(r)));
  for (let at = 0; at < file.length; at += chunk) parser.push(file.subarray(at, at + chunk));
  parser.end();
  return { records, parser };
}

function pcapngFile(): Buffer {
  const sink = new MemorySink();
  const w = new PcapngWriter(sink, { os: 'Linux' });
  w.addInterface({ linkType: LinkType.ETHERNET, name: 'eth0' });
  w.addInterface({ linkType: LinkType.RAW, name: 'tun0', snapLength: 100 });
  for (const [i, data] of frames.entries()) {
    w.writePacket({
      data,
      ...times[i]!,
      comment: `pid=${100 + i} name=prog${i}`,
      processId: 100 + i,
      direction: 'out',
    });
  }
  w.writePacket({
    interfaceId: 1,
    data: bytes(ipv4(17, '1.1.1.1', '2.2.2.2', udp(1, 2, new Array(200).fill(1)))),
    seconds: 5,
    nanoseconds: 6,
  });
  w.close();
  return sink.bytes();
}

describe('pcap and pcapng round trips', () => {
  it.each([true, false])('pcap (nanoseconds: %s) keeps bytes, lengths and time', (nanoseconds) => {
    const sink = new MemorySink();
    const w = new PcapWriter(sink, { linkType: LinkType.ETHERNET, nanoseconds });
    for (const [i, data] of frames.entries()) {
      w.writePacket({ data, ...times[i]!, originalLength: data.length + (i === 2 ? 1000 : 0) });
    }
    w.close();
    const { records, parser } = readAll(sink.bytes());
    expect(parser.info).toMatchObject({ format: 'pcap', byteOrder: 'little' });
    expect(records.map((r) => [...r.data])).toEqual(frames.map((f) => [...f]));
    expect(records.map((r) => r.seconds)).toEqual(times.map((t) => t.seconds));
    const expectedNs = times.map((t) =>
      nanoseconds ? t.nanoseconds : Math.floor(t.nanoseconds / 1000) * 1000,
    );
    expect(records.map((r) => r.nanoseconds)).toEqual(expectedNs);
    expect(records[2]!.originalLength).toBe(frames[2]!.length + 1000);
  });

  it('pcapng keeps interfaces, comments, process ids, direction and snaplen', () => {
    const { records, parser } = readAll(pcapngFile());
    expect(parser.info.format).toBe('pcapng');
    expect(parser.info.interfaces).toMatchObject([
      { linkType: 1, name: 'eth0', unitsPerSecond: 1e9 },
      { linkType: 101, name: 'tun0', snapLength: 100 },
    ]);
    expect(parser.info).toMatchObject({ application: 'netwho', os: 'Linux' });
    expect(records).toHaveLength(4);
    expect(records.slice(0, 3).map((r) => [r.seconds, r.nanoseconds])).toEqual(
      times.map((t) => [t.seconds, t.nanoseconds]),
    );
    expect(records[1]).toMatchObject({
      comment: 'pid=101 name=prog1',
      processId: 101,
      threadId: 0,
      direction: 'out',
    });
    expect(records[3]).toMatchObject({
      interfaceId: 1,
      linkType: 101,
      originalLength: 228,
      comment: undefined,
    });
    expect(records[3]!.data.length).toBe(100);
  });

  it('a record points into the read buffer; data is that range, copyRecord owns its bytes', () => {
    const file = pcapngFile();
    const seen: Array<{ inChunk: boolean; same: boolean }> = [];
    const copies: PacketRecord[] = [];
    const parser = new CaptureFileParser((r) => {
      seen.push({
        inChunk: r.buffer === file,
        same: [...r.data].join() === [...file.subarray(r.offset, r.offset + r.capturedLength)].join(),
      });
      copies.push(copyRecord(r));
    });
    parser.push(file);
    parser.end();
    // Three frames on eth0, then one on tun0 cut to its snap length of 100.
    const expected = [
      ...frames.map((f) => [...f]),
      [...bytes(ipv4(17, '1.1.1.1', '2.2.2.2', udp(1, 2, new Array(200).fill(1)))).subarray(0, 100)],
    ];
    expect(seen).toEqual(expected.map(() => ({ inChunk: true, same: true })));
    expect(copies.map((c) => [c.offset, c.capturedLength, c.buffer.length])).toEqual(
      expected.map((e) => [0, e.length, e.length]),
    );
    file.fill(0);
    expect(copies.map((c) => [...c.data])).toEqual(expected);
  });

  it('gives the same packets whatever the chunk size', () => {
    const file = pcapngFile();
    const whole = readAll(file).records;
    for (const chunk of [1, 2, 3, 5, 7, 13, 64, 100, 4096])
      expect(readAll(file, chunk).records).toEqual(whole);
  });
});

/** Big-endian files built byte by byte, as a big-endian machine writes them. */
describe('big-endian and less common layouts', () => {
  const be32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
  const be16 = (v: number) => [(v >>> 8) & 255, v & 255];
  const frame = [...frames[1]!];
  const padded = [...frame, ...new Array((4 - (frame.length % 4)) % 4).fill(0)];

  it('reads a big-endian microsecond pcap', () => {
    // magic, major 2, minor 4, reserved x2, snaplen, link type; then seconds, microseconds, incl, orig.
    const file = [
      ...be32(0xa1b2c3d4),
      ...be16(2),
      ...be16(4),
      ...be32(0),
      ...be32(0),
      ...be32(65535),
      ...be32(1),
    ];
    file.push(
      ...be32(1_600_000_000),
      ...be32(250_000),
      ...be32(frame.length),
      ...be32(frame.length),
      ...frame,
    );
    const { records, parser } = readAll(Uint8Array.from(file));
    expect(parser.info.byteOrder).toBe('big');
    expect(records[0]).toMatchObject({ seconds: 1_600_000_000, nanoseconds: 250_000_000, linkType: 1 });
    expect([...records[0]!.data]).toEqual(frame);
  });

  it('reads a big-endian pcapng with a binary time resolution, a time offset, SPB, obsolete PB and names', () => {
    const block = (type: number, body: number[]) => [
      ...be32(type),
      ...be32(body.length + 12),
      ...body,
      ...be32(body.length + 12),
    ];
    const option = (code: number, value: number[]) => [
      ...be16(code),
      ...be16(value.length),
      ...value,
      ...new Array((4 - (value.length % 4)) % 4).fill(0),
    ];
    const shb = block(0x0a0d0d0a, [
      ...be32(0x1a2b3c4d),
      ...be16(1),
      ...be16(0),
      ...be32(0xffffffff),
      ...be32(0xffffffff),
    ]);
    // if_tsresol 0x8a: 2^-10 s units; if_tsoffset 100 s.
    const idb = block(1, [
      ...be16(1),
      0,
      0,
      ...be32(0),
      ...option(9, [0x8a]),
      ...option(14, [...be32(0), ...be32(100)]),
      ...be32(0),
    ]);
    const units = 5 * 1024 + 512; // 5.5 s
    const epb = block(6, [
      ...be32(0),
      ...be32(0),
      ...be32(units),
      ...be32(frame.length),
      ...be32(frame.length),
      ...padded,
      ...option(8, [...be32(4321), ...be32(8765)]),
      ...be32(0),
    ]);
    const spb = block(3, [...be32(frame.length), ...padded]);
    const pb = block(2, [
      ...be16(0),
      ...be16(0),
      ...be32(0),
      ...be32(2048),
      ...be32(frame.length),
      ...be32(frame.length),
      ...padded,
    ]);
    const name = [...'host.example'].map((c) => c.charCodeAt(0));
    const nrb = block(4, [
      ...be16(1),
      ...be16(4 + name.length + 1),
      10,
      0,
      0,
      2,
      ...name,
      0,
      ...new Array(3).fill(0),
      ...be16(0),
      ...be16(0),
    ]);
    const isb = block(5, [...be32(0), ...be32(0), ...be32(0), ...be32(0)]);
    const { records, parser } = readAll(
      Uint8Array.from([...shb, ...idb, ...nrb, ...epb, ...spb, ...pb, ...isb]),
    );
    expect(parser.info).toMatchObject({ format: 'pcapng', byteOrder: 'big' });
    expect(parser.info.names.get('10.0.0.2')).toEqual(['host.example']);
    expect(records).toHaveLength(3);
    expect(records[0]).toMatchObject({
      seconds: 105,
      nanoseconds: 500_000_000,
      processId: 4321,
      threadId: 8765,
    });
    expect(records[1]).toMatchObject({ seconds: 0, originalLength: frame.length });
    expect([...records[1]!.data]).toEqual(frame);
    expect(records[2]).toMatchObject({ seconds: 102 });
  });
});

describe('truncated and corrupt files', () => {
  it('a file cut inside any record yields every complete packet, then E_FILE_TRUNCATED', () => {
    const file = pcapngFile();
    const lastBlock = file.length - (12 + 20 + 100 + 0); // the interface-1 EPB holds 100 bytes, no options
    for (let cut = lastBlock + 1; cut < file.length; cut += 7) {
      const got: number[] = [];
      const parser = new CaptureFileParser((r) => got.push(r.data.length));
      parser.push(file.subarray(0, cut));
      expect(() => parser.end()).toThrow(
        expect.objectContaining({ code: 'E_FILE_TRUNCATED', packets: 3, format: 'pcapng' }),
      );
      expect(got).toHaveLength(3);
    }
  });

  it('a file cut inside its first header still says its format once its magic number is in; before, none', () => {
    const cutAt = (n: number) => {
      const parser = new CaptureFileParser(() => {});
      parser.push(pcapngFile().subarray(0, n));
      try {
        parser.end();
      } catch (error) {
        return error as { code: string; format?: string };
      }
      throw new Error('no error');
    };
    expect(cutAt(20)).toMatchObject({ code: 'E_FILE_TRUNCATED', format: 'pcapng' });
    expect(cutAt(3)).toMatchObject({ code: 'E_FILE_TRUNCATED' });
    expect(cutAt(3).format).toBeUndefined();
  });

  it('the file readers deliver the packets of a cut file and then throw', async () => {
    const file = join(dir, 'cut.pcapng');
    writeFileSync(file, pcapngFile().subarray(0, -9));
    let n = 0;
    await expect(parseCaptureFile(file, () => n++)).rejects.toMatchObject({
      code: 'E_FILE_TRUNCATED',
      packets: 3,
    });
    expect(n).toBe(3);
    expect(() => parseCaptureFileSync(file, () => {})).toThrow(
      expect.objectContaining({ code: 'E_FILE_TRUNCATED' }),
    );
    const seen: number[] = [];
    await expect(async () => {
      for await (const p of readPackets(file)) seen.push(p.data.length);
    }).rejects.toMatchObject({ code: 'E_FILE_TRUNCATED' });
    expect(seen).toHaveLength(3);
  });

  it('not a capture, corrupt lengths, missing interfaces: E_FILE_FORMAT', () => {
    const fail = (file: Uint8Array) => () => readAll(file);
    expect(fail(Buffer.from('GIF89a, not a capture'))).toThrow(
      expect.objectContaining({ code: 'E_FILE_FORMAT' }),
    );
    expect(fail(new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'E_FILE_FORMAT' }));

    const pcap = new MemorySink();
    const w = new PcapWriter(pcap, { linkType: 1 });
    w.writePacket({ data: frames[0]!, seconds: 1, nanoseconds: 0 });
    w.close();
    const huge = pcap.bytes();
    huge.writeUInt32LE(0x7fffffff, 24 + 8); // captured length of the first record
    expect(fail(huge)).toThrow(expect.objectContaining({ code: 'E_FILE_FORMAT' }));

    const ng = pcapngFile();
    const mismatched = Buffer.from(ng);
    mismatched.writeUInt32LE(12345, mismatched.readUInt32LE(4) - 4); // the SHB's trailing length
    expect(fail(mismatched)).toThrow(expect.objectContaining({ code: 'E_FILE_FORMAT' }));

    const noInterface = Buffer.from(ng);
    const epb = noInterface.indexOf(Buffer.from([6, 0, 0, 0]), 24);
    noInterface.writeUInt32LE(7, epb + 8); // interface 7 was never described
    expect(fail(noInterface)).toThrow(expect.objectContaining({ code: 'E_FILE_FORMAT' }));
  });

  it('a missing file is E_INVALID_ARGUMENT', async () => {
    await expect(parseCaptureFile(join(dir, 'nope.pcap'), () => {})).rejects.toMatchObject({
      code: 'E_INVALID_ARGUMENT',
    });
  });
});

describe.runIf(hasTool('tshark'))('with Wireshark’s tshark', () => {
  it('reads our pcapng without a warning, with each packet’s program in frame.comment', () => {
    const file = join(dir, 'ours.pcapng');
    writeFileSync(file, pcapngFile());
    const { stdout, stderr } = tshark([
      '-r',
      file,
      '-T',
      'fields',
      '-e',
      'frame.comment',
      '-e',
      'frame.len',
      '-e',
      'frame.time_epoch',
    ]);
    expect(stderr).toBe('');
    const rows = stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(rows).toHaveLength(4);
    expect(rows[0]).toEqual(['pid=100 name=prog0', String(frames[0]!.length), '1700000000.123456789']);
    expect(rows[2]![2]).toBe('4000000000.000000001');
  });

  it('reads our pcap without a warning', () => {
    const file = join(dir, 'ours.pcap');
    const w = new PcapWriter(file, { linkType: LinkType.ETHERNET });
    frames.forEach((data, i) => {
      w.writePacket({ data, ...times[i]! });
    });
    w.close();
    const { stdout, stderr } = tshark(['-r', file, '-T', 'fields', '-e', 'frame.len']);
    expect(stderr).toBe('');
    expect(stdout.trim().split('\n').map(Number)).toEqual(frames.map((f) => f.length));
  });
});

describe.runIf(hasTool('tcpdump') && hasTool('tshark') && isRoot)(
  'files tcpdump and tshark wrote, from real traffic',
  () => {
    it('match tshark packet for packet and flow for flow (pcap, nanosecond pcap, pcapng)', async () => {
      const pcap = join(dir, 'tcpdump.pcap');
      const stop = await startTcpdump('lo', pcap, ['-n', 'tcp or udp']);
      const ports = await makeLoopbackTraffic({ udpDatagrams: 50, udpSize: 300, tcpBytes: 100_000 });
      await new Promise((r) => setTimeout(r, 200));
      await stop();
      const nsec = join(dir, 'nsec.pcap');
      const ng = join(dir, 'tshark.pcapng');
      tshark(['-r', pcap, '-w', nsec, '-F', 'nsecpcap']);
      tshark(['-r', pcap, '-w', ng, '-F', 'pcapng']);

      for (const file of [pcap, nsec, ng]) {
        const expected = tshark([
          '-r',
          file,
          '-T',
          'fields',
          '-e',
          'frame.len',
          '-e',
          'frame.cap_len',
          '-e',
          'frame.time_epoch',
        ])
          .stdout.trim()
          .split('\n');
        const ours: string[] = [];
        const p = new DecodedPacket();
        const flows = new FlowTable({ localAddresses: [] });
        const summary = parseCaptureFileSync(file, (r) => {
          ours.push(
            `${r.originalLength}\t${r.data.length}\t${r.seconds}.${String(r.nanoseconds).padStart(9, '0')}`,
          );
          decodePacket(r.data, r.linkType, p);
          expect(p.error).toBeUndefined();
          flows.add(p, r.seconds * 1000 + r.nanoseconds / 1e6, r.originalLength);
        });
        expect(summary.packets).toBe(expected.length);
        // tshark prints microsecond files with 9 digits too, so the strings compare as they are.
        expect(ours).toEqual(expected);

        const conversations = tsharkConversations(file);
        const ourFlows = new Map(
          flows
            .flows()
            .map((f) => [
              [`${f.local.address}:${f.local.port}`, `${f.remote.address}:${f.remote.port}`].sort().join(' '),
              { frames: f.packetsIn + f.packetsOut, bytes: f.bytesIn + f.bytesOut },
            ]),
        );
        expect(ourFlows).toEqual(conversations);
        const udpKey = [`127.0.0.1:${ports.udpSourcePort}`, `127.0.0.1:${ports.udpPort}`].sort().join(' ');
        expect(ourFlows.get(udpKey)).toEqual({ frames: 50, bytes: 50 * (300 + 8 + 20 + 14) });
      }
      expect(readFileSync(pcap).length).toBeGreaterThan(100_000);
    });
  },
);
