import { LinkType } from '../../decode/link-types';
import type { ReusedPacket } from '../packet';
import { TP_STATUS_VLAN_TPID_VALID, TP_STATUS_VLAN_VALID } from './constants';
import { type FrameLayout, SLL2_HEADER, SockaddrLl, VLAN_TAG } from './structs';
import type { RingMemory } from './walk';

/** How a device's frames become the packets the decoders read. */
export interface FrameShape {
  /** A cooked socket: the kernel gives no link header, we write a LINKTYPE_LINUX_SLL2 one in front. */
  cooked: boolean;
  /** The link type of the frames delivered (ETHERNET, RAW or LINUX_SLL2). */
  linkType: number;
}

/**
 * Fills `packet` from the frame whose header is at `frame` (a tpacket3_hdr or tpacket2_hdr, laid
 * out by `layout`), its data ending by `end`. Cooked frames get their SLL2 header and stripped
 * VLAN tags are put back, both written in the room the kernel leaves between the header's
 * sockaddr_ll and the frame's data (net/packet/af_packet.c, tpacket_rcv: at least 16 bytes past
 * TPACKET_ALIGN(hdrlen)), so nothing is copied elsewhere. False if the frame's offsets point
 * outside its room (never seen from a sound kernel).
 */
export function framePacket(
  ring: RingMemory,
  shape: FrameShape,
  layout: FrameLayout,
  frame: number,
  end: number,
  packet: ReusedPacket,
): boolean {
  const { u32, u16, bytes } = ring;
  const headers = frame + layout.SOCKADDR + SockaddrLl.SIZE;
  let length = u32[(frame + layout.SNAPLEN) >> 2]!;
  let wire = u32[(frame + layout.LEN) >> 2]!;
  const status = u32[(frame + layout.STATUS) >> 2]!;
  let start = frame + u16[(frame + layout.MAC) >> 1]!;
  if (start < headers || start + length > end) return false;
  const sll = frame + layout.SOCKADDR;
  const vlan = (status & TP_STATUS_VLAN_VALID) !== 0;
  if (shape.cooked) {
    const room = SLL2_HEADER + (vlan ? VLAN_TAG : 0);
    if (start - room < headers) return false;
    start -= room;
    writeSll2Header(bytes, u32, u16, start, sll, vlan ? vlanTpid(u16, layout, frame, status) : 0);
    if (vlan) writeTagAfterSll2(bytes, start, sll, u16[(frame + layout.VLAN_TCI) >> 1]!);
    length += room;
    wire += room;
  } else if (vlan && shape.linkType === LinkType.ETHERNET) {
    if (start - VLAN_TAG < headers || length < 12) return false;
    // The kernel took the 802.1Q tag out of the frame (tp_vlan_tci): put it back after the MACs.
    bytes.copyWithin(start - VLAN_TAG, start, start + 12);
    start -= VLAN_TAG;
    putU16BE(bytes, start + 12, vlanTpid(u16, layout, frame, status));
    putU16BE(bytes, start + 14, u16[(frame + layout.VLAN_TCI) >> 1]!);
    length += VLAN_TAG;
    wire += VLAN_TAG;
  }
  packet.offset = start;
  packet.length = length;
  packet.wireLength = wire;
  packet.truncated = length < wire;
  packet.seconds = u32[(frame + layout.SEC) >> 2]!;
  packet.nanoseconds = u32[(frame + layout.NSEC) >> 2]!;
  packet.packetType = bytes[sll + SockaddrLl.PKTTYPE]!;
  return true;
}

/** The tag's protocol: tp_vlan_tpid when the kernel says it is valid, else 802.1Q. */
function vlanTpid(u16: Uint16Array, layout: FrameLayout, frame: number, status: number): number {
  return status & TP_STATUS_VLAN_TPID_VALID ? u16[(frame + layout.VLAN_TPID) >> 1]! : 0x8100;
}

/**
 * LINKTYPE_LINUX_SLL2 header at `at`, from the frame's sockaddr_ll: protocol (big-endian, as
 * sll_protocol already is), reserved, interface index, ARPHRD type (both big-endian), packet type,
 * address length, address (8 bytes). With a VLAN tag, the protocol is the tag's and the real one
 * follows the tag (written by writeTagAfterSll2).
 */
function writeSll2Header(
  bytes: Uint8Array,
  u32: Uint32Array,
  u16: Uint16Array,
  at: number,
  sll: number,
  vlanTpid: number,
): void {
  if (vlanTpid) putU16BE(bytes, at, vlanTpid);
  else {
    bytes[at] = bytes[sll + SockaddrLl.PROTOCOL]!;
    bytes[at + 1] = bytes[sll + SockaddrLl.PROTOCOL + 1]!;
  }
  bytes[at + 2] = 0;
  bytes[at + 3] = 0;
  const ifindex = u32[(sll + SockaddrLl.IFINDEX) >> 2]!;
  bytes[at + 4] = ifindex >>> 24;
  bytes[at + 5] = (ifindex >>> 16) & 0xff;
  bytes[at + 6] = (ifindex >>> 8) & 0xff;
  bytes[at + 7] = ifindex & 0xff;
  putU16BE(bytes, at + 8, u16[(sll + SockaddrLl.HATYPE) >> 1]!);
  bytes[at + 10] = bytes[sll + SockaddrLl.PKTTYPE]!;
  bytes[at + 11] = bytes[sll + SockaddrLl.HALEN]!;
  bytes.copyWithin(at + 12, sll + SockaddrLl.ADDR, sll + SockaddrLl.ADDR + 8);
}

/** The 802.1Q tag after an SLL2 header at `at`: TCI, then the packet's own protocol. */
function writeTagAfterSll2(bytes: Uint8Array, at: number, sll: number, tci: number): void {
  putU16BE(bytes, at + SLL2_HEADER, tci);
  bytes[at + SLL2_HEADER + 2] = bytes[sll + SockaddrLl.PROTOCOL]!;
  bytes[at + SLL2_HEADER + 3] = bytes[sll + SockaddrLl.PROTOCOL + 1]!;
}

function putU16BE(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = (value >>> 8) & 0xff;
  bytes[at + 1] = value & 0xff;
}
