import { EventEmitter } from 'node:events';
import type { ConnectionOwnerSource, Label, OwnerSource } from '@netwho/attributor';
import type { LiveCapture, LivePacket } from '@netwho/capture';
import type { CaptureMonitor, CaptureMonitorOptions } from './capture-monitor';
import type { EndedConnection } from './snapshot';

/**
 * A monitor's first packets run code that has never run in the process: V8 compiles each function
 * at its first call, and the decoders, the flow table, the attributor, naming and the label path
 * are a few hundred of them. So the process's first monitor rehearses once, before its capture
 * opens: a TCP connection (with an HTTP request) and a UDP exchange on loopback, played through a
 * monitor of its own, from packets built here, with made-up owners naming this process (nothing is
 * read from the system but this process's own /proc files, nothing is sent). That work moves to
 * the open, about 10 ms beside the 130–200 ms that loading the eBPF programs takes. Measured in
 * fresh processes, each a monitor on loopback while a C client makes 6 connections 1 ms apart, 8
 * processes each way, alternating, on `wallClock`: the first connection labelled after 4.3–6.6 ms
 * (median 6.3) without, 2.5–5.4 ms (median 3.4) with; those behind it waited about as long. What
 * it cannot reach stays cold: the ring's frame walk and the decoding of a real eBPF record (the
 * eBPF source runs its map lookup once per protocol as it opens, see @netwho/listeners).
 */

/** LINKTYPE_ETHERNET (tcpdump.org link-layer header types), which loopback captures use. */
const ETHERNET = 1;

/**
 * A frame from 127.0.0.1 port `from` to 127.0.0.1 port `to`: Ethernet II (IEEE 802.3 clause 3,
 * zero MACs as on loopback), IPv4 (RFC 791 3.1: no options, DF, TTL 64, checksum 0, which the
 * decoders do not check), the two ports, then the rest of the transport header and payload.
 */
function frame(protocol: 6 | 17, from: number, to: number, rest: number[]): Uint8Array {
  const ip = 14; // after the MACs and the EtherType
  const bytes = new Uint8Array(ip + 20 + 4 + rest.length);
  const view = new DataView(bytes.buffer);
  view.setUint16(12, 0x0800); // EtherType: IPv4
  bytes[ip] = 0x45; // version 4, header length 5 words
  view.setUint16(ip + 2, bytes.length - ip); // total length
  view.setUint16(ip + 6, 0x4000); // flags: DF, fragment offset 0
  bytes[ip + 8] = 64; // TTL
  bytes[ip + 9] = protocol;
  bytes.set([127, 0, 0, 1, 127, 0, 0, 1], ip + 12); // source, destination
  view.setUint16(ip + 20, from);
  view.setUint16(ip + 22, to);
  bytes.set(rest, ip + 24);
  return bytes;
}

/** A TCP segment after its ports (RFC 9293 3.1): sequence, acknowledgement, offset 5, `flags`, window. */
function tcp(from: number, to: number, flags: number, seq: number, payload: number[] = []): Uint8Array {
  const u32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  return frame(6, from, to, [...u32(seq), ...u32(0), 0x50, flags, 0xff, 0xff, 0, 0, 0, 0, ...payload]);
}

/** A UDP datagram after its ports (RFC 768): length, checksum 0 (none), payload. */
function udp(from: number, to: number, payload: number[]): Uint8Array {
  const length = 8 + payload.length;
  return frame(17, from, to, [length >> 8, length & 0xff, 0, 0, ...payload]);
}

const SYN = 0x02;
const ACK = 0x10;
const PSH_ACK = 0x18;
const FIN_ACK = 0x11;
const SYN_ACK = 0x12;
const GET = [...Buffer.from('GET / HTTP/1.1\r\nHost: rehearsal.invalid\r\n\r\n')];

/** The rehearsed traffic: a TCP connection opened, carrying a request, closed; a UDP exchange. */
function rehearsalFrames(): Uint8Array[] {
  const [client, server, udpClient, udpServer] = [40_001, 40_002, 40_003, 40_004];
  return [
    tcp(client, server, SYN, 1000),
    tcp(server, client, SYN_ACK, 5000),
    tcp(client, server, ACK, 1001),
    tcp(client, server, PSH_ACK, 1001, GET),
    tcp(server, client, FIN_ACK, 5001),
    tcp(client, server, FIN_ACK, 1001 + GET.length),
    udp(udpClient, udpServer, [1, 2, 3, 4]),
    udp(udpServer, udpClient, [1, 2, 3, 4]),
  ];
}

/** What a rehearsal's monitor labelled, and the connections it saw end. */
export interface Rehearsed {
  labels: Label[];
  ended: EndedConnection[];
}

/** The monitor a rehearsal plays through: made by CaptureMonitor (whose constructor is private). */
type MakeMonitor = (capture: LiveCapture, options: CaptureMonitorOptions) => CaptureMonitor;

/**
 * Plays the rehearsal through a monitor from `make`, given a stand-in capture (it only listens to
 * its packets and closes it), owners that name this process for every socket, and nothing else of
 * the system's; every flow is ended at the end, as a real capture's are, and the monitor closed.
 */
export function rehearse(make: MakeMonitor): Rehearsed {
  const labels: Label[] = [];
  const ended: EndedConnection[] = [];
  const capture = Object.assign(new EventEmitter(), { close() {} });
  const self = { pid: process.pid, name: 'node', path: process.execPath };
  const owners: OwnerSource = {
    lookup: async (queries) => queries.map(() => ({ missing: 'not-found' as const })),
    verify: () => false,
  };
  const connections: ConnectionOwnerSource = {
    ownerOf: (query) => ({
      process: self,
      exited: false,
      at: Date.now() - 1,
      hook: query.protocol === 'TCP' ? 'connect' : 'udp-send',
    }),
  };
  const monitor = make(capture as unknown as LiveCapture, {
    owners,
    connections,
    onConnectionEnd: (c) => ended.push(c),
  });
  monitor.attributor.on('label', (_id, label) => labels.push(label));
  try {
    const now = Date.now();
    for (const buffer of rehearsalFrames()) {
      const packet: LivePacket = {
        get data() {
          return buffer;
        },
        buffer,
        offset: 0,
        length: buffer.length,
        wireLength: buffer.length,
        device: 'lo',
        linkType: ETHERNET,
        truncated: false,
        seconds: Math.floor(now / 1000),
        nanoseconds: (now % 1000) * 1e6,
        packetType: 0,
      };
      capture.emit('packet', packet);
    }
    monitor.table.expire(Number.MAX_SAFE_INTEGER);
  } finally {
    monitor.close();
  }
  return { labels, ended };
}
