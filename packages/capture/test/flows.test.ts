import { describe, expect, it } from 'vitest';
import {
  type DecodedPacket,
  decodePacket,
  type Flow,
  type FlowEndReason,
  FlowTable,
  TcpSeen,
} from '../src/index';
import { bytes, ethernet, icmpEcho, ipv4, ipv6, tcp, udp } from './frames';

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const RST = 0x04;

function tcpPacket(
  src: string,
  sport: number,
  dst: string,
  dport: number,
  flags: number,
  payload = 0,
): DecodedPacket {
  return decodePacket(
    bytes(ethernet(0x0800, ipv4(6, src, dst, tcp(sport, dport, flags, new Array(payload).fill(0))))),
    1,
  );
}
function udpPacket(src: string, sport: number, dst: string, dport: number): DecodedPacket {
  return decodePacket(bytes(ethernet(0x0800, ipv4(17, src, dst, udp(sport, dport, [1])))), 1);
}

function recorder(table: FlowTable) {
  const started: Flow[] = [];
  const ended: Array<[Flow, FlowEndReason]> = [];
  table.on('flow', (f) => started.push(f));
  table.on('end', (f, reason) => ended.push([f, reason]));
  return { started, ended };
}

describe('flow table', () => {
  it('joins both directions into one flow, in and out told by the local addresses', () => {
    const table = new FlowTable({ localAddresses: ['192.168.1.10'] });
    const { started } = recorder(table);
    // The remote side speaks first: local is still ours, and the first packet counts as incoming.
    const a = table.add(tcpPacket('93.184.216.34', 443, '192.168.1.10', 50000, ACK, 100), 1000, 154);
    const b = table.add(tcpPacket('192.168.1.10', 50000, '93.184.216.34', 443, ACK), 1001, 54);
    expect(a).toBe(b);
    expect(started).toHaveLength(1);
    expect(table.get(a)).toMatchObject({
      local: { address: '192.168.1.10', port: 50000 },
      remote: { address: '93.184.216.34', port: 443 },
      localKnown: true,
      bytesIn: 154,
      bytesOut: 54,
      packetsIn: 1,
      packetsOut: 1,
      firstSeen: 1000,
      lastSeen: 1001,
    });
  });

  it('when both sides are local (loopback), local is the side that opened: the SYN’s sender', () => {
    const table = new FlowTable({ localAddresses: ['127.0.0.1'] });
    const id = table.add(tcpPacket('127.0.0.1', 8080, '127.0.0.1', 40000, SYN | ACK), 0, 60);
    // The first packet seen was the server's SYN-ACK: the client (its destination) opened the flow.
    expect(table.get(id)).toMatchObject({
      local: { port: 40000 },
      remote: { port: 8080 },
      localKnown: false,
      bytesIn: 60,
    });
    const udpId = table.add(udpPacket('127.0.0.1', 5353, '127.0.0.1', 53), 0, 50);
    expect(table.get(udpId)).toMatchObject({ local: { port: 5353 }, remote: { port: 53 }, bytesOut: 50 });
  });

  it('a new connection on the 5-tuple of one that closed is a flow of its own; a repeated SYN is not', () => {
    const table = new FlowTable({ localAddresses: ['10.0.0.1'] });
    const { started, ended } = recorder(table);
    const a = table.add(tcpPacket('10.0.0.1', 1234, '10.0.0.2', 80, SYN), 0, 60);
    expect(table.add(tcpPacket('10.0.0.1', 1234, '10.0.0.2', 80, SYN), 1, 60)).toBe(a); // retransmitted
    table.add(tcpPacket('10.0.0.1', 1234, '10.0.0.2', 80, FIN | ACK), 2, 60);
    table.add(tcpPacket('10.0.0.2', 80, '10.0.0.1', 1234, FIN | ACK), 3, 60);
    const b = table.add(tcpPacket('10.0.0.1', 1234, '10.0.0.2', 80, SYN), 4, 60);
    expect(b).not.toBe(a);
    expect(started.map((f) => f.id)).toEqual([a, b]);
    expect(ended).toContainEqual([expect.objectContaining({ id: a, packetsOut: 3, packetsIn: 1 }), 'closed']);
    expect(table.get(b)).toMatchObject({ packetsOut: 1, packetsIn: 0 });
  });

  it('keeps the opening SYN’s sequence number and which end sent it, for flows a SYN opened', () => {
    const table = new FlowTable({ localAddresses: ['10.0.0.1'] });
    const syn = (src: string, sport: number, dst: string, dport: number, flags: number, seq: number) =>
      decodePacket(bytes(ethernet(0x0800, ipv4(6, src, dst, tcp(sport, dport, flags, [], { seq })))), 1);
    const out = table.add(syn('10.0.0.1', 1234, '10.0.0.2', 80, SYN, 0xfedcba98), 0, 60);
    expect(table.get(out)?.syn).toEqual({ seq: 0xfedcba98, fromLocal: true });
    const accepted = table.add(syn('10.0.0.2', 5555, '10.0.0.1', 22, SYN, 7), 0, 60);
    expect(table.get(accepted)?.syn).toEqual({ seq: 7, fromLocal: false });
    // Seen from its middle (a SYN-ACK, a data segment): no opening SYN.
    const synAck = table.add(syn('10.0.0.2', 443, '10.0.0.1', 4000, SYN | ACK, 9), 0, 60);
    const middle = table.add(syn('10.0.0.2', 443, '10.0.0.1', 4001, ACK, 9), 0, 60);
    expect(table.get(synAck)?.syn).toBeUndefined();
    expect(table.get(middle)?.syn).toBeUndefined();
  });

  it('emits a new flow on a SYN and on the first packet of an unseen UDP 5-tuple, once each', () => {
    const table = new FlowTable({ localAddresses: ['10.0.0.1'] });
    const { started } = recorder(table);
    table.add(tcpPacket('10.0.0.1', 1234, '10.0.0.2', 80, SYN), 0, 60);
    table.add(tcpPacket('10.0.0.2', 80, '10.0.0.1', 1234, SYN | ACK), 1, 60);
    table.add(udpPacket('10.0.0.1', 999, '10.0.0.2', 53), 2, 60);
    table.add(udpPacket('10.0.0.2', 53, '10.0.0.1', 999), 3, 60);
    table.add(udpPacket('10.0.0.1', 999, '10.0.0.3', 53), 4, 60);
    expect(started.map((f) => [f.protocol, f.remote.address, f.remote.port])).toEqual([
      [6, '10.0.0.2', 80],
      [17, '10.0.0.2', 53],
      [17, '10.0.0.3', 53],
    ]);
    expect(started[0]!.tcp & TcpSeen.SYN).toBeTruthy();
  });

  it('IPv6 and ICMP flows; non-IP and later fragments are counted as skipped', () => {
    const table = new FlowTable({ localAddresses: ['2001:db8::1'] });
    const v6 = decodePacket(
      bytes(ethernet(0x86dd, ipv6(17, '2001:db8::1', '2001:db8::2', udp(1, 2, [])))),
      1,
    );
    expect(table.get(table.add(v6, 0, 70))).toMatchObject({
      ipVersion: 6,
      local: { address: '2001:db8::1' },
    });
    const ping = decodePacket(bytes(ethernet(0x0800, ipv4(1, '10.0.0.1', '10.0.0.2', icmpEcho()))), 1);
    expect(table.get(table.add(ping, 0, 42))).toMatchObject({
      protocol: 1,
      local: { port: 0 },
      remote: { port: 0 },
    });
    const fragment = decodePacket(
      bytes(ethernet(0x0800, ipv4(17, '1.1.1.1', '2.2.2.2', [0, 0, 0, 0], { flagsFragment: 0x10 }))),
      1,
    );
    expect(table.add(fragment, 0, 40)).toBe(-1);
    expect(table.stats()).toMatchObject({ flows: 2, packets: 2, skipped: 1, fragments: 1 });
  });

  it('evicts the least recently seen flow when full, and says so', () => {
    const table = new FlowTable({ maxFlows: 3, localAddresses: ['10.0.0.1'] });
    const { ended } = recorder(table);
    const ids = [1, 2, 3].map((port) => table.add(udpPacket('10.0.0.1', port, '10.0.0.9', 53), port, 10));
    table.add(udpPacket('10.0.0.1', 1, '10.0.0.9', 53), 10, 10); // flow 1 is now the newest
    table.add(udpPacket('10.0.0.1', 4, '10.0.0.9', 53), 11, 10); // evicts flow 2
    expect(ended.map(([f, reason]) => [f.local.port, reason])).toEqual([[2, 'evicted']]);
    expect(table.get(ids[1]!)).toBeUndefined();
    expect(table.get(ids[0]!)).toMatchObject({ packetsOut: 2 });
    expect(table.flows().map((f) => f.local.port)).toEqual([4, 1, 3]);
    expect(table.stats()).toMatchObject({ flows: 3, evicted: 1, created: 4 });
  });

  it('expires idle flows, and closed TCP flows sooner, as packet time passes', () => {
    const table = new FlowTable({
      idleTimeoutMs: 10_000,
      closedTimeoutMs: 2_000,
      localAddresses: ['10.0.0.1'],
    });
    const { ended } = recorder(table);
    table.add(udpPacket('10.0.0.1', 1, '10.0.0.2', 2), 0, 10);
    table.add(tcpPacket('10.0.0.1', 3, '10.0.0.2', 4, FIN | ACK), 0, 10);
    table.add(tcpPacket('10.0.0.2', 4, '10.0.0.1', 3, FIN | ACK), 100, 10);
    table.add(tcpPacket('10.0.0.1', 5, '10.0.0.2', 6, RST), 100, 10);
    table.add(tcpPacket('10.0.0.1', 7, '10.0.0.2', 8, ACK), 100, 10); // open: only idleness ends it
    expect(table.expire(1_999)).toBe(0);
    expect(table.expire(2_100)).toBe(2);
    expect(ended.map(([f, r]) => [f.local.port, r])).toEqual([
      [3, 'closed'],
      [5, 'closed'],
    ]);
    table.add(udpPacket('10.0.0.1', 9, '10.0.0.2', 9), 10_050, 10); // runs expiry by itself
    expect(ended.slice(2).map(([f, r]) => [f.local.port, r])).toEqual([[1, 'idle']]);
    table.expire(10_100);
    expect(ended.slice(3).map(([f, r]) => [f.local.port, r])).toEqual([[7, 'idle']]);
    expect(table.size).toBe(1);
  });

  it('ids are never reused, even when a slot is', () => {
    const table = new FlowTable({ maxFlows: 1, localAddresses: ['10.0.0.1'] });
    const first = table.add(udpPacket('10.0.0.1', 1, '10.0.0.2', 2), 0, 10);
    const second = table.add(udpPacket('10.0.0.1', 3, '10.0.0.2', 4), 0, 10);
    expect(second).not.toBe(first);
    expect(table.get(first)).toBeUndefined();
    expect(table.get(second)).toBeDefined();
  });

  // 5,000 flows make the index grow from its first 1,024 buckets while flows come and go.
  it.each([
    [500, 2000],
    [5000, 20000],
  ])(
    'stays exact and bounded through 200,000 packets of churn, max %i flows of %i (checked against a plain Map)',
    (max, spread) => {
      const table = new FlowTable({ maxFlows: max, localAddresses: ['10.0.0.1'] });
      // The model: key -> packets since the flow (re)appeared, in LRU order (Map keeps insertion order).
      const model = new Map<string, number>();
      let seed = 42;
      const random = () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed / 2 ** 32;
      };
      for (let i = 0; i < 200_000; i++) {
        // Ports spread over `spread` flows with a hot set, so flows come, go and come back.
        const port = random() < 0.5 ? Math.floor(random() * (max / 5)) : Math.floor(random() * spread);
        const host = `10.0.${port >> 8}.${port & 255}`;
        const p = udpPacket('10.0.0.1', 1000 + port, host, 53);
        table.add(p, i, 1);
        const key = `${port}`;
        const count = model.get(key);
        model.delete(key);
        if (count === undefined && model.size === max) model.delete(model.keys().next().value!);
        model.set(key, (count ?? 0) + 1);
      }
      expect(table.size).toBe(max);
      const flows = table.flows();
      expect(flows.map((f) => `${f.local.port - 1000}`)).toEqual([...model.keys()].reverse());
      expect(flows.map((f) => f.packetsOut)).toEqual([...model.values()].reverse());
      expect(table.stats().evicted).toBe(table.stats().created - max);
    },
  );
});
