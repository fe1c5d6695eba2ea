import { decodeVlanTags } from './ethernet';
import type { DecodedPacket } from './packet';

/**
 * Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 16 bytes): packet type (2), ARPHRD type (2),
 * link-layer address length (2), address (8, padded), protocol (2: an EtherType for IP and ARP).
 */
const SLL_HEADER = 16;
/**
 * Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 20 bytes): protocol (2), reserved (2), interface
 * index (4), ARPHRD type (2), packet type (1), address length (1), address (8, padded).
 */
const SLL2_HEADER = 20;

export function decodeSll(data: Uint8Array, offset: number, p: DecodedPacket): number {
  if (p.end - offset < SLL_HEADER) return p.fail('sll', 'truncated');
  p.linuxPacketType = (data[offset]! << 8) | data[offset + 1]!;
  return decodeVlanTags(data, offset + SLL_HEADER, (data[offset + 14]! << 8) | data[offset + 15]!, p);
}

export function decodeSll2(data: Uint8Array, offset: number, p: DecodedPacket): number {
  if (p.end - offset < SLL2_HEADER) return p.fail('sll', 'truncated');
  p.linuxPacketType = data[offset + 10]!;
  return decodeVlanTags(data, offset + SLL2_HEADER, (data[offset]! << 8) | data[offset + 1]!, p);
}
