import type { ReusedPacket } from '../packet';
import { TP_STATUS_USER } from './constants';
import { type FrameShape, framePacket } from './frame-packet';
import { V2_LAYOUT } from './structs';
import type { RingMemory } from './walk';

/**
 * A TPACKET_V2 ring, for immediate delivery: the kernel puts each packet in the next frame of
 * fixed size and wakes the reader at once (net/packet/af_packet.c, tpacket_rcv: sk_data_ready per
 * packet for V1/V2, where V3 waits until a block is full or its timeout). Frame `i` is frame
 * `i % framesPerBlock` of block `i / framesPerBlock` (Documentation/networking/packet_mmap.rst).
 */
export function frameCount(ring: RingMemory): number {
  return ring.framesPerBlock * ring.blockCount;
}

function frameAt(ring: RingMemory, index: number): number {
  const block = Math.floor(index / ring.framesPerBlock);
  return block * ring.blockSize + (index - block * ring.framesPerBlock) * ring.frameSize;
}

/** Whether the frame at `index` holds a packet for the reader. */
export function frameReady(ring: RingMemory, index: number): boolean {
  return (Atomics.load(ring.u32, (frameAt(ring, index) + V2_LAYOUT.STATUS) >> 2) & TP_STATUS_USER) !== 0;
}

/** Gives the frame at `index` back to the kernel (tp_status = TP_STATUS_KERNEL). */
export function releaseFrame(ring: RingMemory, index: number): void {
  Atomics.store(ring.u32, (frameAt(ring, index) + V2_LAYOUT.STATUS) >> 2, 0);
}

/** Where a reader of a V2 ring is, and what it walked. */
export interface FrameCursor {
  /** The next frame to read. */
  index: number;
  delivered: number;
  /** Frames whose offsets were inconsistent (never seen from a sound kernel): skipped, counted. */
  corrupt: number;
}

/**
 * Delivers the packets of up to `max` ready frames from `at.index` on, each frame given back as
 * soon as its packet was delivered, also when a listener threw (`at` is then past that frame, so
 * no frame is walked twice). Returns the number of frames walked.
 */
export function walkFrames(
  ring: RingMemory,
  at: FrameCursor,
  shape: FrameShape,
  packet: ReusedPacket,
  deliver: (packet: ReusedPacket) => void,
  max: number,
): number {
  const total = frameCount(ring);
  packet.buffer = ring.bytes;
  packet.linkType = shape.linkType;
  let n = 0;
  for (; n < max && frameReady(ring, at.index); n++) {
    const index = at.index;
    const frame = frameAt(ring, index);
    at.index = index + 1 === total ? 0 : index + 1;
    try {
      if (framePacket(ring, shape, V2_LAYOUT, frame, frame + ring.frameSize, packet)) {
        at.delivered++;
        deliver(packet);
      } else at.corrupt++;
    } finally {
      releaseFrame(ring, index);
    }
  }
  return n;
}
