import type { ParsedAddress } from './ip';

/**
 * What kind of address it is. Only `public` addresses are looked up: the others belong to no
 * country or network, and naming them as what they are is the right answer.
 */
export type AddressScope =
  | 'public'
  /** RFC 1918 (10/8, 172.16/12, 192.168/16) and IPv6 unique local addresses (fc00::/7, RFC 4193). */
  | 'private'
  /** 127/8 and ::1. */
  | 'loopback'
  /** 169.254/16 (RFC 3927) and fe80::/10. */
  | 'link-local'
  /** 100.64/10, the carrier-grade NAT space shared with a provider (RFC 6598). */
  | 'cgnat'
  /** 192.0.2/24, 198.51.100/24, 203.0.113/24 (RFC 5737), 2001:db8::/32 (RFC 3849), 3fff::/20 (RFC 9637). */
  | 'documentation'
  /** 198.18/15 (RFC 2544). */
  | 'benchmarking'
  /** 224/4 and ff00::/8. */
  | 'multicast'
  /** 255.255.255.255. */
  | 'broadcast'
  /** 0/8 ("this network", RFC 791) and ::. */
  | 'unspecified'
  /** Everything else the IANA special-purpose registries set aside (RFC 6890): 240/4, 192.0.0/24, 100::/64, ... */
  | 'reserved'
  /** Not an IP address. */
  | 'invalid';

interface V4Range {
  base: number;
  bits: number;
  scope: AddressScope;
}

// The IANA IPv4 Special-Purpose Address Registry (RFC 6890), plus multicast and class E.
const V4: V4Range[] = [
  { base: 0x00000000, bits: 8, scope: 'unspecified' },
  { base: 0x0a000000, bits: 8, scope: 'private' },
  { base: 0x64400000, bits: 10, scope: 'cgnat' },
  { base: 0x7f000000, bits: 8, scope: 'loopback' },
  { base: 0xa9fe0000, bits: 16, scope: 'link-local' },
  { base: 0xac100000, bits: 12, scope: 'private' },
  { base: 0xc0000000, bits: 24, scope: 'reserved' }, // IETF protocol assignments
  { base: 0xc0000200, bits: 24, scope: 'documentation' },
  { base: 0xc0a80000, bits: 16, scope: 'private' },
  { base: 0xc6120000, bits: 15, scope: 'benchmarking' },
  { base: 0xc6336400, bits: 24, scope: 'documentation' },
  { base: 0xcb007100, bits: 24, scope: 'documentation' },
  { base: 0xe0000000, bits: 4, scope: 'multicast' },
  { base: 0xffffffff, bits: 32, scope: 'broadcast' },
  { base: 0xf0000000, bits: 4, scope: 'reserved' },
];

/** The scope of an IPv4 address given as a 32-bit number. */
export function v4Scope(v4: number): AddressScope {
  for (const r of V4) {
    const mask = r.bits === 0 ? 0 : (0xffffffff << (32 - r.bits)) >>> 0;
    if ((v4 & mask) >>> 0 === r.base) return r.scope;
  }
  return 'public';
}

/** The scope of an IPv6 address (IANA IPv6 Special-Purpose Address Registry, RFC 6890 section 2.2.3). */
export function v6Scope(hi: bigint, lo: bigint): AddressScope {
  if (hi === 0n) {
    if (lo === 0n) return 'unspecified';
    if (lo === 1n) return 'loopback';
    return 'reserved'; // ::/96 IPv4-compatible (deprecated) and the rest of ::/64
  }
  const top16 = Number(hi >> 48n);
  if (top16 >= 0xff00) return 'multicast';
  if ((top16 & 0xffc0) === 0xfe80) return 'link-local';
  if ((top16 & 0xfe00) === 0xfc00) return 'private';
  if (hi >> 32n === 0x20010db8n) return 'documentation';
  if (Number(hi >> 44n) === 0x3fff0) return 'documentation'; // 3fff::/20 (RFC 9637)
  if (hi === 0x0100000000000000n) return 'reserved'; // 100::/64 discard-only (RFC 6666)
  if ((top16 & 0xe000) !== 0x2000) return 'reserved'; // outside 2000::/3, the global unicast space
  return 'public';
}

/** The scope of a parsed address. */
export function scopeOf(address: ParsedAddress | undefined): AddressScope {
  if (!address) return 'invalid';
  return address.version === 4 ? v4Scope(address.v4) : v6Scope(address.hi, address.lo);
}
