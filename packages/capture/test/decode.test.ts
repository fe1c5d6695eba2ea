import { describe, expect, it } from 'vitest';
import { addressText, DecodedPacket, decodePacket, EtherType, LinkType } from '../src/index';
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

const SYN = 0x02;
const ACK = 0x10;
const text = (p: DecodedPacket, which: 'src' | 'dst') =>
  addressText(p.data, which === 'src' ? p.srcAddrOffset : p.dstAddrOffset, p.ipVersion as 4 | 6);

describe('decoding each layer', () => {
  it('Ethernet + IPv4 + TCP: addresses, ports, flags, seq/ack and payload', () => {
    const frame = ethernet(
      0x0800,
      ipv4(6, '10.0.0.1', '10.0.0.2', tcp(40000, 443, SYN | ACK, [1, 2, 3], { seq: 0xfffffffe, ack: 7 })),
    );
    const p = decodePacket(bytes(frame), LinkType.ETHERNET);
    expect(p.error).toBeUndefined();
    expect(p).toMatchObject({
      etherType: 0x0800,
      ipVersion: 4,
      protocol: 6,
      srcPort: 40000,
      dstPort: 443,
      tcpFlags: 0x12,
    });
    expect(p).toMatchObject({
      seq: 0xfffffffe,
      ack: 7,
      window: 65535,
      ttl: 64,
      payloadLength: 3,
      fragment: false,
    });
    expect([text(p, 'src'), text(p, 'dst')]).toEqual(['10.0.0.1', '10.0.0.2']);
    expect([...p.data.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength)]).toEqual([1, 2, 3]);
  });

  it('IPv4 options and TCP options move the transport header and payload', () => {
    const frame = ethernet(
      0x0800,
      ipv4(6, '1.2.3.4', '5.6.7.8', tcp(1, 2, ACK, [9], { options: [2, 4, 5, 180] }), {
        options: [1, 1, 1, 0],
      }),
    );
    const p = decodePacket(bytes(frame), LinkType.ETHERNET);
    expect(p.transportOffset).toBe(14 + 24);
    expect(p.payloadOffset).toBe(14 + 24 + 24);
    expect(p.payloadLength).toBe(1);
  });

  it('802.1Q and QinQ tags are stripped, the outer VLAN id kept', () => {
    const inner = ipv4(17, '10.1.1.1', '10.1.1.2', udp(53, 5353, [0, 0]));
    const one = decodePacket(bytes(ethernet(0x0800, inner, [{ tpid: 0x8100, id: 42 }])), LinkType.ETHERNET);
    expect(one).toMatchObject({ vlan: 42, vlanTags: 1, protocol: 17, srcPort: 53, dstPort: 5353 });
    const two = decodePacket(
      bytes(
        ethernet(0x0800, inner, [
          { tpid: 0x88a8, id: 100 },
          { tpid: 0x8100, id: 7 },
        ]),
      ),
      LinkType.ETHERNET,
    );
    expect(two).toMatchObject({ vlan: 100, vlanTags: 2, srcPort: 53 });
  });

  it('IPv6 extension headers are walked to the transport header', () => {
    const payload = extension(60, extension(17, udp(5000, 6000, [1, 2, 3, 4])));
    const p = decodePacket(
      bytes(ethernet(0x86dd, ipv6(0, 'fe80::1', '2001:db8::2', payload))),
      LinkType.ETHERNET,
    );
    expect(p.error).toBeUndefined();
    expect(p).toMatchObject({ ipVersion: 6, protocol: 17, srcPort: 5000, dstPort: 6000, payloadLength: 4 });
    expect([text(p, 'src'), text(p, 'dst')]).toEqual(['fe80::1', '2001:db8::2']);
  });

  it('fragments are flagged; later fragments have no transport header', () => {
    const first = decodePacket(
      bytes(ethernet(0x0800, ipv4(17, '1.1.1.1', '2.2.2.2', udp(1, 2, [0]), { flagsFragment: 0x2000 }))),
      1,
    );
    expect(first).toMatchObject({ fragment: true, fragmentOffset: 0, srcPort: 1, dstPort: 2 });
    const later = decodePacket(
      bytes(
        ethernet(0x0800, ipv4(17, '1.1.1.1', '2.2.2.2', [1, 2, 3, 4, 5, 6, 7, 8], { flagsFragment: 0x0003 })),
      ),
      1,
    );
    expect(later).toMatchObject({
      fragment: true,
      fragmentOffset: 24,
      transportOffset: -1,
      protocol: 17,
      error: undefined,
    });
    const v6later = decodePacket(
      bytes(ethernet(0x86dd, ipv6(44, '::1', '::2', fragmentHeader(6, 1448, false, [0, 0, 0, 0])))),
      1,
    );
    expect(v6later).toMatchObject({ fragment: true, fragmentOffset: 1448, protocol: 6, transportOffset: -1 });
  });

  it('ARP, ICMP and ICMPv6', () => {
    const a = decodePacket(bytes(ethernet(0x0806, arp(1, '192.168.0.1', '192.168.0.9'))), LinkType.ETHERNET);
    expect(a).toMatchObject({ etherType: EtherType.ARP, arpOperation: 1, ipVersion: 0 });
    expect(addressText(a.data, a.dstAddrOffset, 4)).toBe('192.168.0.9');
    const icmp = decodePacket(bytes(ethernet(0x0800, ipv4(1, '1.1.1.1', '8.8.8.8', icmpEcho()))), 1);
    expect(icmp).toMatchObject({ protocol: 1, icmpType: 8, icmpCode: 0 });
    const icmp6 = decodePacket(bytes(ipv6(58, '::1', '::1', icmpEcho(128))), LinkType.RAW);
    expect(icmp6).toMatchObject({ ipVersion: 6, protocol: 58, icmpType: 128 });
  });

  it('Linux cooked v1 and v2 carry the packet type (4 = sent by us)', () => {
    const ip = ipv4(6, '127.0.0.1', '127.0.0.1', tcp(1, 2, SYN));
    expect(decodePacket(bytes(sll(4, 0x0800, ip)), LinkType.LINUX_SLL)).toMatchObject({
      linuxPacketType: 4,
      srcPort: 1,
    });
    expect(decodePacket(bytes(sll2(0, 0x0800, ip)), LinkType.LINUX_SLL2)).toMatchObject({
      linuxPacketType: 0,
      dstPort: 2,
    });
  });

  it('BSD loopback in either byte order, with each OS’s AF_INET6', () => {
    const ip4 = ipv4(17, '127.0.0.1', '127.0.0.1', udp(1, 2, []));
    const ip6 = ipv6(17, '::1', '::1', udp(3, 4, []));
    expect(decodePacket(bytes(nullLink(2, true, ip4)), LinkType.NULL)).toMatchObject({
      ipVersion: 4,
      srcPort: 1,
    });
    expect(decodePacket(bytes(nullLink(2, false, ip4)), LinkType.NULL)).toMatchObject({ ipVersion: 4 });
    for (const family of [24, 28, 30]) {
      expect(decodePacket(bytes(nullLink(family, true, ip6)), LinkType.NULL)).toMatchObject({
        ipVersion: 6,
        srcPort: 3,
      });
    }
    expect(decodePacket(bytes(nullLink(30, false, ip6)), LinkType.LOOP)).toMatchObject({ ipVersion: 6 });
  });

  it('raw IP picks the version from the first nibble', () => {
    expect(decodePacket(bytes(ipv4(6, '1.1.1.1', '2.2.2.2', tcp(5, 6, 0))), LinkType.RAW).ipVersion).toBe(4);
    expect(decodePacket(bytes(ipv6(6, '::1', '::2', tcp(5, 6, 0))), LinkType.IPV6).ipVersion).toBe(6);
  });

  it('Ethernet padding past the IP length is not payload', () => {
    const frame = ethernet(0x0800, [...ipv4(17, '1.1.1.1', '2.2.2.2', udp(1, 2, [7])), 0, 0, 0, 0, 0, 0]);
    expect(decodePacket(bytes(frame), 1).payloadLength).toBe(1);
  });
});

describe('a frame inside a larger buffer (decoded in place)', () => {
  const frame = bytes(ethernet(0x0800, ipv4(6, '10.0.0.1', '10.0.0.2', tcp(40000, 443, SYN, [1, 2, 3]))));
  const before = 7;
  const buffer = new Uint8Array(before + frame.length + 50).fill(0xee);
  buffer.set(frame, before);

  it('decodes like the frame alone, with offsets into the buffer', () => {
    const alone = decodePacket(frame, LinkType.ETHERNET);
    const inPlace = decodePacket(buffer, LinkType.ETHERNET, undefined, before, before + frame.length);
    expect(inPlace).toMatchObject({
      start: before,
      end: before + frame.length,
      capturedLength: frame.length,
    });
    expect(inPlace.error).toBeUndefined();
    for (const field of ['srcAddrOffset', 'dstAddrOffset', 'transportOffset', 'payloadOffset'] as const) {
      expect(inPlace[field]).toBe(alone[field] + before);
    }
    expect([inPlace.srcPort, inPlace.dstPort, inPlace.payloadLength]).toEqual([40000, 443, 3]);
    expect(text(inPlace, 'dst')).toBe('10.0.0.2');
  });

  it('never reads past its end, though the buffer goes on', () => {
    const cut = decodePacket(buffer, LinkType.ETHERNET, undefined, before, before + 14 + 30);
    expect(cut).toMatchObject({ error: 'truncated', errorLayer: 'tcp', ipVersion: 4 });
    // A range outside the buffer is clamped to it.
    expect(decodePacket(buffer, 1, undefined, buffer.length + 5, buffer.length + 99)).toMatchObject({
      capturedLength: 0,
      error: 'truncated',
    });
    expect(decodePacket(frame, 1, undefined, -3, 1e9)).toMatchObject({ start: 0, end: frame.length });
  });

  it('clone() keeps just the frame, with its offsets moved to match', () => {
    const copy = decodePacket(buffer, LinkType.ETHERNET, undefined, before, before + frame.length).clone();
    const alone = decodePacket(frame, LinkType.ETHERNET);
    expect([...copy.data]).toEqual([...frame]);
    expect(copy).toMatchObject({
      start: 0,
      end: frame.length,
      srcAddrOffset: alone.srcAddrOffset,
      transportOffset: alone.transportOffset,
      payloadOffset: alone.payloadOffset,
    });
  });
});

describe('bad input: a reason, never a throw or a read past the end', () => {
  const valid = [
    [
      LinkType.ETHERNET,
      ethernet(0x0800, ipv4(6, '1.1.1.1', '2.2.2.2', tcp(1, 2, SYN, [1, 2])), [{ tpid: 0x8100, id: 5 }]),
    ],
    [
      LinkType.ETHERNET,
      ethernet(0x86dd, ipv6(0, '::1', '::2', extension(44, fragmentHeader(17, 0, true, udp(1, 2, [3]))))),
    ],
    [LinkType.LINUX_SLL2, sll2(0, 0x0806, arp(2, '1.1.1.1', '2.2.2.2'))],
    [LinkType.NULL, nullLink(2, true, ipv4(1, '1.1.1.1', '2.2.2.2', icmpEcho()))],
  ] as const;

  it('every prefix of valid frames decodes to a truncated packet at the right layer', () => {
    for (const [linkType, frame] of valid) {
      for (let cut = 0; cut < frame.length; cut++) {
        const p = decodePacket(bytes(frame.slice(0, cut)), linkType);
        // A cut inside a payload is a short capture, not an error; a cut inside a header is.
        if (p.error) expect(p.error).toBe('truncated');
      }
    }
  });

  it('length fields that contradict the bytes are malformed', () => {
    const shortIhl = bytes(ethernet(0x0800, ipv4(6, '1.1.1.1', '2.2.2.2', tcp(1, 2, 0))));
    shortIhl[14] = 0x44; // IHL 4: below the 20-byte minimum
    expect(decodePacket(shortIhl, 1)).toMatchObject({ error: 'malformed', errorLayer: 'ipv4' });

    const badOffset = bytes(
      ethernet(0x0800, ipv4(6, '1.1.1.1', '2.2.2.2', tcp(1, 2, 0, [], { dataOffset: 3 }))),
    );
    expect(decodePacket(badOffset, 1)).toMatchObject({ error: 'malformed', errorLayer: 'tcp', srcPort: 1 });

    const udpLength = bytes(ethernet(0x0800, ipv4(17, '1.1.1.1', '2.2.2.2', udp(1, 2, [], 4))));
    expect(decodePacket(udpLength, 1)).toMatchObject({ error: 'malformed', errorLayer: 'udp' });

    const notIpv6 = bytes(ethernet(0x86dd, ipv4(6, '1.1.1.1', '2.2.2.2', tcp(1, 2, 0))));
    expect(decodePacket(notIpv6, 1)).toMatchObject({ error: 'malformed', errorLayer: 'ipv6' });
  });

  it('a chain of IPv6 extension headers that never ends is cut off', () => {
    let payload: number[] = [];
    for (let i = 0; i < 40; i++) payload = extension(60, payload);
    const p = decodePacket(bytes(ipv6(60, '::1', '::2', payload)), LinkType.RAW);
    expect(p).toMatchObject({ error: 'malformed', errorLayer: 'ipv6' });
  });

  it('a stack of VLAN tags that never ends is cut off', () => {
    const tags = Array.from({ length: 20 }, () => ({ tpid: 0x8100, id: 1 }));
    expect(decodePacket(bytes(ethernet(0x8100, [], tags)), 1)).toMatchObject({
      error: 'malformed',
      errorLayer: 'ethernet',
    });
  });

  it('an unknown link type is unsupported', () => {
    expect(decodePacket(bytes([1, 2, 3]), 9999)).toMatchObject({ error: 'unsupported', errorLayer: 'link' });
  });

  it('one DecodedPacket reused across packets keeps nothing of the previous one', () => {
    const p = new DecodedPacket();
    decodePacket(bytes(ethernet(0x0800, ipv4(6, '1.1.1.1', '2.2.2.2', tcp(1, 2, SYN)))), 1, p);
    decodePacket(bytes(ethernet(0x0806, arp(1, '3.3.3.3', '4.4.4.4'))), 1, p);
    expect(p).toMatchObject({ ipVersion: 0, protocol: 0, srcPort: 0, tcpFlags: 0, transportOffset: -1 });
    const kept = decodePacket(
      bytes(ethernet(0x0800, ipv4(17, '1.1.1.1', '2.2.2.2', udp(9, 9, [])))),
      1,
      p,
    ).clone();
    decodePacket(bytes([]), 1, p);
    expect(kept).toMatchObject({ srcPort: 9, protocol: 17 });
  });
});
