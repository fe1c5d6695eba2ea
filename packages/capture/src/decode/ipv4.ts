import type { DecodedPacket } from './packet';

/**
 * IPv4 header (RFC 791 section 3.1): version and IHL (1), DSCP/ECN (1), total length (2),
 * identification (2), flags and fragment offset (2), TTL (1), protocol (1), checksum (2),
 * source (4), destination (4), then IHL*4 - 20 bytes of options.
 */
const MIN_HEADER = 20;

/** Decodes an IPv4 header. Returns the transport header's offset, or -1 (see p.error, p.fragment). */
export function decodeIpv4(data: Uint8Array, offset: number, p: DecodedPacket): number {
  if (p.end - offset < MIN_HEADER) return p.fail('ipv4', 'truncated');
  const first = data[offset]!;
  if (first >> 4 !== 4) return p.fail('ipv4', 'malformed');
  const headerLength = (first & 0x0f) * 4;
  let totalLength = (data[offset + 2]! << 8) | data[offset + 3]!;
  // Packets captured before TCP segmentation offload split them may say 0: the capture tells.
  if (totalLength === 0) totalLength = p.end - offset;
  if (headerLength < MIN_HEADER || totalLength < headerLength) return p.fail('ipv4', 'malformed');
  p.ipVersion = 4;
  p.ipLength = totalLength;
  p.ttl = data[offset + 8]!;
  p.protocol = data[offset + 9]!;
  p.srcAddrOffset = offset + 12;
  p.dstAddrOffset = offset + 16;
  const flagsAndOffset = (data[offset + 6]! << 8) | data[offset + 7]!;
  p.fragmentOffset = (flagsAndOffset & 0x1fff) * 8;
  p.fragment = (flagsAndOffset & 0x2000) !== 0 || p.fragmentOffset !== 0;
  if (p.end - offset < headerLength) return p.fail('ipv4', 'truncated');
  // Later fragments carry no transport header: their first bytes are payload.
  if (p.fragmentOffset !== 0) return -1;
  return offset + headerLength;
}
