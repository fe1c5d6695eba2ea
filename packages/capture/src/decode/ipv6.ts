import type { DecodedPacket } from './packet';

/**
 * IPv6 fixed header (RFC 8200 section 3): version/class/flow label (4), payload length (2),
 * next header (1), hop limit (1), source (16), destination (16).
 */
const HEADER = 40;
/** Extension headers walked before the transport header. Bounds the walk on crafted input. */
const MAX_EXTENSIONS = 16;

const HOP_BY_HOP = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const AUTHENTICATION = 51;
const DESTINATION_OPTIONS = 60;
const MOBILITY = 135;
const HIP = 139;
const SHIM6 = 140;

/**
 * Decodes an IPv6 header and walks its extension headers (RFC 8200 section 4) to the transport
 * header. Returns the transport header's offset, or -1.
 */
export function decodeIpv6(data: Uint8Array, offset: number, p: DecodedPacket): number {
  if (p.end - offset < HEADER) return p.fail('ipv6', 'truncated');
  if (data[offset]! >> 4 !== 6) return p.fail('ipv6', 'malformed');
  p.ipVersion = 6;
  p.ipLength = HEADER + ((data[offset + 4]! << 8) | data[offset + 5]!);
  p.ttl = data[offset + 7]!;
  p.srcAddrOffset = offset + 8;
  p.dstAddrOffset = offset + 24;
  let next = data[offset + 6]!;
  let at = offset + HEADER;
  for (let walked = 0; ; walked++) {
    p.protocol = next;
    if (!isExtension(next)) return at;
    if (walked === MAX_EXTENSIONS) return p.fail('ipv6', 'malformed');
    if (p.end - at < 8) return p.fail('ipv6', 'truncated');
    if (next === FRAGMENT) {
      // Fragment header (8 bytes): next header, reserved, offset (13 bits, in 8-byte units) and M flag.
      const offsetAndFlags = (data[at + 2]! << 8) | data[at + 3]!;
      p.fragment = true;
      p.fragmentOffset = offsetAndFlags & 0xfff8;
      next = data[at]!;
      at += 8;
      if (p.fragmentOffset !== 0) {
        p.protocol = next;
        return -1;
      }
      continue;
    }
    // AH counts its length in 4-byte units minus 2; the others in 8-byte units, not counting the first 8.
    const length = next === AUTHENTICATION ? (data[at + 1]! + 2) * 4 : (data[at + 1]! + 1) * 8;
    next = data[at]!;
    at += length;
  }
}

function isExtension(next: number): boolean {
  return (
    next === HOP_BY_HOP ||
    next === ROUTING ||
    next === FRAGMENT ||
    next === AUTHENTICATION ||
    next === DESTINATION_OPTIONS ||
    next === MOBILITY ||
    next === HIP ||
    next === SHIM6
  );
}
