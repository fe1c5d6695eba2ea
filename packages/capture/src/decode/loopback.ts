import { EtherType, LinkType } from './link-types';
import type { DecodedPacket } from './packet';

/**
 * BSD loopback (LINKTYPE_NULL and LINKTYPE_LOOP): a 4-byte address family, then the IP packet.
 * NULL stores the family in the byte order of the machine that captured, LOOP always big-endian.
 * AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux).
 */
const HEADER = 4;

export function decodeLoopback(data: Uint8Array, offset: number, p: DecodedPacket): number {
  if (p.end - offset < HEADER) return p.fail('loopback', 'truncated');
  const big =
    (data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!;
  const little =
    data[offset]! | (data[offset + 1]! << 8) | (data[offset + 2]! << 16) | (data[offset + 3]! << 24);
  // A family is a small number: whichever reading is small is the right byte order.
  const family = p.linkType === LinkType.LOOP || big >>> 0 < 0x10000 ? big : little;
  if (family === 2) p.etherType = EtherType.IPV4;
  else if (family === 24 || family === 28 || family === 30 || family === 10) p.etherType = EtherType.IPV6;
  return offset + HEADER;
}
