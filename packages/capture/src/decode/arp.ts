import type { DecodedPacket } from './packet';

/**
 * ARP (RFC 826): hardware type (2), protocol type (2), hardware address length (1), protocol
 * address length (1), operation (2), then sender hardware, sender protocol, target hardware and
 * target protocol addresses. For IPv4 the protocol addresses become src/dst address offsets.
 */
const HEADER = 8;

export function decodeArp(data: Uint8Array, offset: number, p: DecodedPacket): number {
  if (p.end - offset < HEADER) return p.fail('arp', 'truncated');
  const protocolType = (data[offset + 2]! << 8) | data[offset + 3]!;
  const hardwareLength = data[offset + 4]!;
  const protocolLength = data[offset + 5]!;
  p.arpOperation = (data[offset + 6]! << 8) | data[offset + 7]!;
  const end = offset + HEADER + 2 * (hardwareLength + protocolLength);
  if (p.end < end) return p.fail('arp', 'truncated');
  if (protocolType === 0x0800 && protocolLength === 4) {
    p.srcAddrOffset = offset + HEADER + hardwareLength;
    p.dstAddrOffset = offset + HEADER + 2 * hardwareLength + protocolLength;
  }
  return end;
}
