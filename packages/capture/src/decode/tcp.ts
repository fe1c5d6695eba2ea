import type { DecodedPacket } from './packet';

/**
 * TCP header (RFC 9293 section 3.1): source port (2), destination port (2), sequence (4),
 * acknowledgement (4), data offset (4 bits) + reserved (3) + NS (1), flags (1), window (2),
 * checksum (2), urgent pointer (2), then options up to data offset * 4.
 */
const MIN_HEADER = 20;

export function decodeTcp(data: Uint8Array, offset: number, end: number, p: DecodedPacket): number {
  if (p.end - offset < MIN_HEADER) return p.fail('tcp', 'truncated');
  p.transportOffset = offset;
  p.srcPort = (data[offset]! << 8) | data[offset + 1]!;
  p.dstPort = (data[offset + 2]! << 8) | data[offset + 3]!;
  p.seq =
    ((data[offset + 4]! << 24) | (data[offset + 5]! << 16) | (data[offset + 6]! << 8) | data[offset + 7]!) >>>
    0;
  p.ack =
    ((data[offset + 8]! << 24) |
      (data[offset + 9]! << 16) |
      (data[offset + 10]! << 8) |
      data[offset + 11]!) >>>
    0;
  const dataOffset = data[offset + 12]!;
  p.tcpFlags = ((dataOffset & 1) << 8) | data[offset + 13]!;
  p.window = (data[offset + 14]! << 8) | data[offset + 15]!;
  const headerLength = (dataOffset >> 4) * 4;
  if (headerLength < MIN_HEADER || offset + headerLength > end) return p.fail('tcp', 'malformed');
  if (p.end - offset < headerLength) return p.fail('tcp', 'truncated');
  p.payloadOffset = offset + headerLength;
  p.payloadLength = Math.min(end, p.end) - p.payloadOffset;
  return p.payloadOffset;
}
