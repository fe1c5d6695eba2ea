/**
 * Link-layer header types as pcap and pcapng files number them (LINKTYPE_* in the tcpdump.org
 * link-type registry). Live captures report DLT_* values, which match these except where noted.
 */
export const LinkType = {
  /** BSD loopback: a 4-byte address family in the capturing host's byte order. */
  NULL: 0,
  ETHERNET: 1,
  /** Raw IPv4 or IPv6, told apart by the version nibble (DLT_RAW is 12 or 14 on some BSDs). */
  RAW: 101,
  /** OpenBSD loopback: like NULL, but the family is always big-endian. */
  LOOP: 108,
  /** Linux "cooked" capture v1 (the `any` device). */
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  /** Linux "cooked" capture v2 (the `any` device, libpcap >= 1.10 when asked for it). */
  LINUX_SLL2: 276,
} as const;
export type LinkType = (typeof LinkType)[keyof typeof LinkType];

/** DLT values that differ from their LINKTYPE: DLT_RAW is 12 on most systems, 14 on OpenBSD. */
export function linkTypeOfDlt(dlt: number): number {
  return dlt === 12 || dlt === 14 ? LinkType.RAW : dlt;
}

/** Names `cap` gives link types, mapped to LINKTYPE numbers. */
export function linkTypeOfCapName(name: string): number | undefined {
  switch (name) {
    case 'ETHERNET':
      return LinkType.ETHERNET;
    case 'NULL':
      return LinkType.NULL;
    case 'LINKTYPE_LINUX_SLL':
      return LinkType.LINUX_SLL;
    case 'RAW':
      return LinkType.RAW;
    default:
      return undefined;
  }
}

/** EtherTypes the decoders follow. */
export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  IPV6: 0x86dd,
  QINQ: 0x88a8,
  /** Pre-standard QinQ outer tag, still seen on some switches. */
  QINQ_OLD: 0x9100,
} as const;

/** IP protocol numbers (IANA "Assigned Internet Protocol Numbers"). */
export const IpProtocol = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ICMPV6: 58,
} as const;
