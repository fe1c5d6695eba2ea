import { EtherType } from './link-types';
import type { DecodedPacket } from './packet';

/** Ethernet II header: destination MAC (6), source MAC (6), EtherType (2). */
const HEADER = 14;
/** An 802.1Q / 802.1ad tag: TCI (2: priority 3 bits, DEI 1, VLAN id 12), then the inner EtherType (2). */
const TAG = 4;
/** More stacked tags than this is not a real frame; stops a crafted one from costing more. */
const MAX_TAGS = 8;

/** Decodes an Ethernet header with any VLAN tags. Returns the network layer's offset, or -1. */
export function decodeEthernet(data: Uint8Array, offset: number, p: DecodedPacket): number {
  if (p.end - offset < HEADER) return p.fail('ethernet', 'truncated');
  return decodeVlanTags(data, offset + HEADER, (data[offset + 12]! << 8) | data[offset + 13]!, p);
}

/**
 * Follows the 802.1Q / 802.1ad tags that start at `at` when `type` says one does (after an
 * Ethernet header, or a Linux cooked one: libpcap puts a tag it restores there too). Sets the
 * packet's EtherType and VLAN fields; returns the network layer's offset, or -1.
 */
export function decodeVlanTags(data: Uint8Array, at: number, type: number, p: DecodedPacket): number {
  while (type === EtherType.VLAN || type === EtherType.QINQ || type === EtherType.QINQ_OLD) {
    if (p.vlanTags === MAX_TAGS) return p.fail('ethernet', 'malformed');
    if (p.end - at < TAG) return p.fail('ethernet', 'truncated');
    if (p.vlanTags === 0) p.vlan = ((data[at]! << 8) | data[at + 1]!) & 0x0fff;
    p.vlanTags++;
    type = (data[at + 2]! << 8) | data[at + 3]!;
    at += TAG;
  }
  // Values below 0x0600 are an 802.3 length (LLC frames such as STP), not an EtherType.
  p.etherType = type >= 0x0600 ? type : 0;
  return at;
}
