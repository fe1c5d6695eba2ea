import type { DecodedPacket } from './packet';

/** ICMP (RFC 792) and ICMPv6 (RFC 4443) share the first 4 bytes: type (1), code (1), checksum (2). */
const HEADER = 4;

export function decodeIcmp(data: Uint8Array, offset: number, end: number, p: DecodedPacket): number {
  if (p.end - offset < HEADER) return p.fail('icmp', 'truncated');
  p.transportOffset = offset;
  p.icmpType = data[offset]!;
  p.icmpCode = data[offset + 1]!;
  p.payloadOffset = offset + HEADER;
  p.payloadLength = Math.max(0, Math.min(end, p.end) - p.payloadOffset);
  return p.payloadOffset;
}
