/**
 * Test frames built field by field from the documented layouts (each function cites its header),
 * so a reader sees why each byte is where it is. Checksums are left 0: decoders do not check them.
 */

const u16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const u32 = (v: number) => [(v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];

export function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

export function ipv6Bytes(text: string): number[] {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (s: string | undefined) => (s ? s.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const front = parse(head);
  const back = parse(tail);
  const groups = [...front, ...new Array(8 - front.length - back.length).fill(0), ...back];
  return groups.flatMap((g) => u16(g));
}

/** Ethernet II (IEEE 802.3 clause 3): dst MAC, src MAC, optional 802.1Q/ad tags, EtherType. */
export function ethernet(
  etherType: number,
  payload: number[],
  vlans: Array<{ tpid: number; id: number }> = [],
): number[] {
  const dst = [0x02, 0, 0, 0, 0, 0x01];
  const src = [0x02, 0, 0, 0, 0, 0x02];
  // Each tag's TPID sits where the EtherType would be, then its TCI; the real EtherType comes last.
  const tags = vlans.flatMap((v) => [...u16(v.tpid), ...u16(v.id & 0xfff)]);
  return [...dst, ...src, ...tags, ...u16(etherType), ...payload];
}

/** IPv4 (RFC 791 3.1): 20-byte header plus `options` (a multiple of 4 bytes). */
export function ipv4(
  protocol: number,
  src: string,
  dst: string,
  payload: number[],
  extra: { options?: number[]; flagsFragment?: number; ttl?: number; totalLength?: number } = {},
): number[] {
  const options = extra.options ?? [];
  const ihl = 5 + options.length / 4;
  const total = extra.totalLength ?? ihl * 4 + payload.length;
  return [
    0x40 | ihl,
    0,
    ...u16(total),
    ...u16(0x1234), // identification
    ...u16(extra.flagsFragment ?? 0x4000), // DF
    extra.ttl ?? 64,
    protocol,
    0,
    0, // checksum
    ...ipv4Bytes(src),
    ...ipv4Bytes(dst),
    ...options,
    ...payload,
  ];
}

/** IPv6 (RFC 8200 3): version/class/flow, payload length, next header, hop limit, src, dst. */
export function ipv6(nextHeader: number, src: string, dst: string, payload: number[]): number[] {
  return [
    0x60,
    0,
    0,
    0,
    ...u16(payload.length),
    nextHeader,
    64,
    ...ipv6Bytes(src),
    ...ipv6Bytes(dst),
    ...payload,
  ];
}

/** An IPv6 extension header of the 8-byte-unit kind (hop-by-hop, routing, destination options). */
export function extension(nextHeader: number, payload: number[], bodyLength = 6): number[] {
  const body = new Array(bodyLength).fill(0);
  return [nextHeader, (bodyLength + 2) / 8 - 1, ...body, ...payload];
}

/** IPv6 fragment header (RFC 8200 4.5): next header, reserved, offset (13 bits) | M, identification. */
export function fragmentHeader(
  nextHeader: number,
  offsetBytes: number,
  more: boolean,
  payload: number[],
): number[] {
  return [nextHeader, 0, ...u16(offsetBytes | (more ? 1 : 0)), ...u32(0xabcdef), ...payload];
}

/** TCP (RFC 9293 3.1): ports, seq, ack, data offset, flags, window, checksum, urgent, options. */
export function tcp(
  srcPort: number,
  dstPort: number,
  flags: number,
  payload: number[] = [],
  extra: { seq?: number; ack?: number; options?: number[]; dataOffset?: number } = {},
): number[] {
  const options = extra.options ?? [];
  const dataOffset = extra.dataOffset ?? 5 + options.length / 4;
  return [
    ...u16(srcPort),
    ...u16(dstPort),
    ...u32(extra.seq ?? 1000),
    ...u32(extra.ack ?? 0),
    (dataOffset << 4) | ((flags >> 8) & 1),
    flags & 0xff,
    ...u16(65535),
    0,
    0,
    0,
    0,
    ...options,
    ...payload,
  ];
}

/** UDP (RFC 768): ports, length (header included), checksum. */
export function udp(
  srcPort: number,
  dstPort: number,
  payload: number[],
  length = 8 + payload.length,
): number[] {
  return [...u16(srcPort), ...u16(dstPort), ...u16(length), 0, 0, ...payload];
}

/** An Ethernet/IPv4/UDP frame 10.0.0.1:1234 -> 10.0.0.2:53 with `payload` zero bytes, as a ring holds one. */
export function udpFrame(payload: number): Uint8Array {
  return new Uint8Array(
    ethernet(0x0800, ipv4(17, '10.0.0.1', '10.0.0.2', udp(1234, 53, new Array(payload).fill(0)))),
  );
}

/** ICMP echo request (RFC 792): type 8, code 0, checksum, identifier, sequence. */
export function icmpEcho(type = 8): number[] {
  return [type, 0, 0, 0, 0, 1, 0, 1];
}

/** ARP (RFC 826) for IPv4 over Ethernet. */
export function arp(operation: number, senderIp: string, targetIp: string): number[] {
  return [
    ...u16(1), // Ethernet
    ...u16(0x0800),
    6,
    4,
    ...u16(operation),
    0x02,
    0,
    0,
    0,
    0,
    0x02,
    ...ipv4Bytes(senderIp),
    0,
    0,
    0,
    0,
    0,
    0,
    ...ipv4Bytes(targetIp),
  ];
}

/** Linux cooked v1 (LINKTYPE_LINUX_SLL): packet type, ARPHRD, address length, address (8), protocol. */
export function sll(packetType: number, protocol: number, payload: number[]): number[] {
  return [
    ...u16(packetType),
    ...u16(1),
    ...u16(6),
    0x02,
    0,
    0,
    0,
    0,
    0x02,
    0,
    0,
    ...u16(protocol),
    ...payload,
  ];
}

/** Linux cooked v2 (LINKTYPE_LINUX_SLL2): protocol, reserved, ifindex, ARPHRD, packet type, address length, address (8). */
export function sll2(packetType: number, protocol: number, payload: number[]): number[] {
  return [
    ...u16(protocol),
    0,
    0,
    ...u32(2),
    ...u16(1),
    packetType,
    6,
    0x02,
    0,
    0,
    0,
    0,
    0x02,
    0,
    0,
    ...payload,
  ];
}

/** BSD loopback (LINKTYPE_NULL): the address family as a 32-bit number in the capturing host's order. */
export function nullLink(family: number, little: boolean, payload: number[]): number[] {
  const bytes = u32(family);
  return [...(little ? bytes.reverse() : bytes), ...payload];
}

export const bytes = (frame: number[]) => Uint8Array.from(frame);
