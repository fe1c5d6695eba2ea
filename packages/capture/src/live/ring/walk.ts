import type { ReusedPacket } from '../packet';
import { TP_STATUS_USER } from './constants';
import { type FrameShape, framePacket } from './frame-packet';
import { Block, FRAME_HEADERS, Frame, V3_LAYOUT } from './structs';

export type { FrameShape } from './frame-packet';

/**
 * A mapped ring seen from JavaScript: `blockCount` blocks of `blockSize` bytes, read in
 * place through typed arrays over the same memory (the mapping is page-aligned, so every u32 and
 * u16 field is aligned; values are in the machine's byte order, as the kernel writes them).
 */
export interface RingMemory {
  bytes: Uint8Array;
  u32: Uint32Array;
  u16: Uint16Array;
  blockSize: number;
  blockCount: number;
  /** TPACKET_V2 (frames.ts): the fixed size of a frame, and how many fit a block; 0 for V3. */
  frameSize: number;
  framesPerBlock: number;
}

export function ringMemory(
  buffer: ArrayBuffer,
  blockSize: number,
  blockCount: number,
  frameSize = 0,
): RingMemory {
  return {
    bytes: new Uint8Array(buffer),
    u32: new Uint32Array(buffer),
    u16: new Uint16Array(buffer),
    blockSize,
    blockCount,
    frameSize,
    framesPerBlock: frameSize > 0 ? Math.floor(blockSize / frameSize) : 0,
  };
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
 * each other at tp_next_offset), filling `packet` for each (frame-packet.ts) and calling `deliver`.
 * Returns the number of packets delivered, or -1 if a frame's offsets point outside the block (a
 * corrupt block is not walked further: the caller counts it).
 */
export function walkBlock(
  ring: RingMemory,
  index: number,
  shape: FrameShape,
  packet: ReusedPacket,
  deliver: (packet: ReusedPacket) => void,
): number {
  const { u32, blockSize } = ring;
  const blockStart = index * blockSize;
  const blockEnd = blockStart + blockSize;
  const count = u32[(blockStart + Block.NUM_PKTS) >> 2]!;
  let frame = blockStart + u32[(blockStart + Block.OFFSET_TO_FIRST_PKT) >> 2]!;
  packet.buffer = ring.bytes;
  packet.linkType = shape.linkType;
  for (let i = 0; i < count; i++) {
    if (frame + FRAME_HEADERS > blockEnd || (frame & 3) !== 0) return -1;
    const next = u32[(frame + Frame.NEXT_OFFSET) >> 2]!;
    if (!framePacket(ring, shape, V3_LAYOUT, frame, blockEnd, packet)) return -1;
    deliver(packet);
    if (next === 0) return i + 1;
    frame += next;
  }
  return count;
}
