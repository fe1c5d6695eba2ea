import type { DecodedPacket } from './packet';

/** UDP header (RFC 768): source port (2), destination port (2), length (2, header included), checksum (2). */
const HEADER = 8;

export function decodeUdp(data: Uint8Array, offset: number, end: number, p: DecodedPacket): number {
  if (p.end - offset < HEADER) return p.fail('udp', 'truncated');
  p.transportOffset = offset;
  p.srcPort = (data[offset]! << 8) | data[offset + 1]!;
  p.dstPort = (data[offset + 2]! << 8) | data[offset + 3]!;
  const length = (data[offset + 4]! << 8) | data[offset + 5]!;
  // Length 0 is legal only in IPv6 jumbograms (RFC 2675); then the IP length tells.
  if (length !== 0 && (length < HEADER || offset + length > end)) return p.fail('udp', 'malformed');
  const datagramEnd = length === 0 ? end : offset + length;
  p.payloadOffset = offset + HEADER;
  p.payloadLength = Math.min(datagramEnd, p.end) - p.payloadOffset;
  return p.payloadOffset;
}
