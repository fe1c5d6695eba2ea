import { LinkType } from '../../decode/link-types';
import type { ReusedPacket } from '../packet';
import { TP_STATUS_USER, TP_STATUS_VLAN_TPID_VALID, TP_STATUS_VLAN_VALID } from './constants';
import { Block, FRAME_HEADERS, Frame, SLL2_HEADER, SockaddrLl, VLAN_TAG } from './structs';

/**
 * A mapped TPACKET_V3 ring seen from JavaScript: `blockCount` blocks of `blockSize` bytes, read in
 * place through typed arrays over the same memory (the mapping is page-aligned, so every u32 and
 * u16 field is aligned; values are in the machine's byte order, as the kernel writes them).
 */
export interface RingMemory {
  bytes: Uint8Array;
  u32: Uint32Array;
  u16: Uint16Array;
  blockSize: number;
  blockCount: number;
}

export function ringMemory(buffer: ArrayBuffer, blockSize: number, blockCount: number): RingMemory {
  return {
    bytes: new Uint8Array(buffer),
    u32: new Uint32Array(buffer),
    u16: new Uint16Array(buffer),
    blockSize,
    blockCount,
  };
}

/** How a device's frames become the packets the decoders read. */
export interface FrameShape {
  /** A cooked socket: the kernel gives no link header, we write a LINKTYPE_LINUX_SLL2 one in front. */
  cooked: boolean;
  /** The link type of the frames delivered (ETHERNET, RAW or LINUX_SLL2). */
  linkType: number;
}

/** Whether the block at `index` is the reader's (the kernel has retired it). */
export function blockReady(ring: RingMemory, index: number): boolean {
  return (Atomics.load(ring.u32, (index * ring.blockSize + Block.STATUS) >> 2) & TP_STATUS_USER) !== 0;
}

/** Packets the kernel has put in the block at `index` so far (it counts them as it fills the block). */
export function blockPackets(ring: RingMemory, index: number): number {
  return ring.u32[(index * ring.blockSize + Block.NUM_PKTS) >> 2]!;
}

/**
 * Gives the block at `index` back to the kernel. Its packet count is cleared first, so that a
 * kernel-owned block with packets counted is known to be the one being filled (see drain).
 */
export function releaseBlock(ring: RingMemory, index: number): void {
  const at = index * ring.blockSize;
  ring.u32[(at + Block.NUM_PKTS) >> 2] = 0;
  Atomics.store(ring.u32, (at + Block.STATUS) >> 2, 0);
}

/**
 * Walks the packets of a retired block (net/packet/af_packet.c, prb_fill_curr_block: frames follow
 * each other at tp_next_offset), filling `packet` for each and calling `deliver`. Cooked frames get
 * their SLL2 header and stripped VLAN tags are put back, both written in the room the kernel leaves
 * in front of the frame's data, so nothing is copied elsewhere. Returns the number of packets
 * delivered, or -1 if a frame's offsets point outside the block (a corrupt block is not walked
 * further: the caller counts it).
 */
export function walkBlock(
  ring: RingMemory,
  index: number,
  shape: FrameShape,
  packet: ReusedPacket,
  deliver: (packet: ReusedPacket) => void,
): number {
  const { u32, u16, bytes, blockSize } = ring;
  const blockStart = index * blockSize;
  const blockEnd = blockStart + blockSize;
  const count = u32[(blockStart + Block.NUM_PKTS) >> 2]!;
  let frame = blockStart + u32[(blockStart + Block.OFFSET_TO_FIRST_PKT) >> 2]!;
  packet.buffer = bytes;
  packet.linkType = shape.linkType;
  for (let i = 0; i < count; i++) {
    if (frame + FRAME_HEADERS > blockEnd || (frame & 3) !== 0) return -1;
    const next = u32[(frame + Frame.NEXT_OFFSET) >> 2]!;
    let length = u32[(frame + Frame.SNAPLEN) >> 2]!;
    let wire = u32[(frame + Frame.LEN) >> 2]!;
    const status = u32[(frame + Frame.STATUS) >> 2]!;
    let start = frame + u16[(frame + Frame.MAC) >> 1]!;
    if (start < frame + FRAME_HEADERS || start + length > blockEnd) return -1;
    const sll = frame + Frame.SOCKADDR;
    const vlan = (status & TP_STATUS_VLAN_VALID) !== 0;
    if (shape.cooked) {
      const room = SLL2_HEADER + (vlan ? VLAN_TAG : 0);
      if (start - room < frame + FRAME_HEADERS) return -1;
      start -= room;
      writeSll2Header(bytes, u32, u16, start, sll, vlan ? vlanTpid(u16, frame, status) : 0);
      if (vlan) writeTagAfterSll2(bytes, u32, start, frame, sll);
      length += room;
      wire += room;
    } else if (vlan && shape.linkType === LinkType.ETHERNET) {
      if (start - VLAN_TAG < frame + FRAME_HEADERS || length < 12) return -1;
      // The kernel took the 802.1Q tag out of the frame (tp_vlan_tci): put it back after the MACs.
      bytes.copyWithin(start - VLAN_TAG, start, start + 12);
      start -= VLAN_TAG;
      putU16BE(bytes, start + 12, vlanTpid(u16, frame, status));
      putU16BE(bytes, start + 14, u32[(frame + Frame.VLAN_TCI) >> 2]! & 0xffff);
      length += VLAN_TAG;
      wire += VLAN_TAG;
    }
    packet.offset = start;
    packet.length = length;
    packet.wireLength = wire;
    packet.truncated = length < wire;
    packet.seconds = u32[(frame + Frame.SEC) >> 2]!;
    packet.nanoseconds = u32[(frame + Frame.NSEC) >> 2]!;
    packet.packetType = bytes[sll + SockaddrLl.PKTTYPE]!;
    deliver(packet);
    if (next === 0) return i + 1;
    frame += next;
  }
  return count;
}

/** The tag's protocol: tp_vlan_tpid when the kernel says it is valid, else 802.1Q. */
function vlanTpid(u16: Uint16Array, frame: number, status: number): number {
  return status & TP_STATUS_VLAN_TPID_VALID ? u16[(frame + Frame.VLAN_TPID) >> 1]! : 0x8100;
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
function writeTagAfterSll2(
  bytes: Uint8Array,
  u32: Uint32Array,
  at: number,
  frame: number,
  sll: number,
): void {
  const tci = u32[(frame + Frame.VLAN_TCI) >> 2]! & 0xffff;
  putU16BE(bytes, at + SLL2_HEADER, tci);
  bytes[at + SLL2_HEADER + 2] = bytes[sll + SockaddrLl.PROTOCOL]!;
  bytes[at + SLL2_HEADER + 3] = bytes[sll + SockaddrLl.PROTOCOL + 1]!;
}

function putU16BE(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = (value >>> 8) & 0xff;
  bytes[at + 1] = value & 0xff;
}
