import { readFileSync } from 'node:fs';
import { LinkType } from '../../decode/link-types';
import { CaptureError, PERMISSION_HINT } from '../../errors';
import * as C from './constants';
import { freeNative, LITTLE_ENDIAN, nativeBuffer, putPointer, ringLibc } from './ffi';
import { PacketMreq, Req2, Req3, SockFprog } from './structs';
import type { FrameShape } from './walk';

/**
 * Setting up one AF_PACKET socket for RingDevice (packet(7), Documentation/networking/packet_mmap.rst):
 * the ring it asks for, the frames its device gives, its filter, bind and promiscuous mode, and
 * what each refusal means as a CaptureError.
 */

export const KiB = 1024;
/** TPACKET_V3's nominal frame size: V3 packs frames of any length into its blocks, the kernel only checks that size and count fit them. */
const FRAME_SIZE = 2048;
const MIN_BLOCKS = 8;

/** What the ring's geometry depends on. */
export interface RingShape {
  snapLength: number;
  /** Bytes of ring (rounded down to whole blocks, at least 8 blocks). */
  ringSize: number;
  /** How long the kernel fills a block before handing it over anyway (tp_retire_blk_tov), in ms. */
  blockTimeoutMs: number;
  /** A TPACKET_V2 ring of fixed frames instead, which hands each packet over at once (frames.ts). */
  immediate: boolean;
}

/**
 * setsockopt(PACKET_RX_RING)'s argument. V3: power-of-two blocks that hold the largest frame
 * (headers, room for a VLAN tag and cooked header, the snap length), frames packed in them. V2:
 * frames of one size, the headers (tpacket2_hdr, sockaddr_ll, the kernel's 16 bytes of room in
 * front of the data and its alignment: under 128 bytes) plus the snap length, 16-byte aligned
 * (TPACKET_ALIGNMENT), as many as fit in each block.
 */
export function ringRequest(options: RingShape) {
  const put = (req: Buffer, offset: number, value: number) =>
    LITTLE_ENDIAN ? req.writeUInt32LE(value, offset) : req.writeUInt32BE(value, offset);
  const frameSize = options.immediate ? (options.snapLength + 128 + 15) & ~15 : 0;
  let blockSize = 64 * KiB;
  while (blockSize < Math.max(frameSize, options.snapLength + 256)) blockSize *= 2;
  const blockCount = Math.max(MIN_BLOCKS, Math.floor(options.ringSize / blockSize));
  if (options.immediate) {
    const request = Buffer.alloc(Req2.SIZE);
    put(request, Req2.BLOCK_SIZE, blockSize);
    put(request, Req2.BLOCK_NR, blockCount);
    put(request, Req2.FRAME_SIZE, frameSize);
    put(request, Req2.FRAME_NR, Math.floor(blockSize / frameSize) * blockCount);
    return { request, blockSize, blockCount, frameSize };
  }
  const request = Buffer.alloc(Req3.SIZE);
  put(request, Req3.BLOCK_SIZE, blockSize);
  put(request, Req3.BLOCK_NR, blockCount);
  put(request, Req3.FRAME_SIZE, FRAME_SIZE);
  put(request, Req3.FRAME_NR, (blockSize / FRAME_SIZE) * blockCount);
  put(request, Req3.RETIRE_BLK_TOV, options.blockTimeoutMs);
  return { request, blockSize, blockCount, frameSize };
}

/**
 * The frames a device gives (ARPHRD type from /sys/class/net/DEV/type): Ethernet and loopback
 * devices as they are, devices without a link header (tun, WireGuard) as raw IP, everything else
 * and `any` through a cooked socket with an SLL2 header put in front, as libpcap does.
 */
export function frameShape(name: string): FrameShape {
  if (name === 'any') return { cooked: true, linkType: LinkType.LINUX_SLL2 };
  let hatype = -1;
  try {
    hatype = Number.parseInt(readFileSync(`/sys/class/net/${name}/type`, 'latin1'), 10);
  } catch {
    // not in sysfs: treat as cooked
  }
  if (hatype === C.ARPHRD_ETHER || hatype === C.ARPHRD_LOOPBACK)
    return { cooked: false, linkType: LinkType.ETHERNET };
  if (hatype === C.ARPHRD_NONE) return { cooked: false, linkType: LinkType.RAW };
  return { cooked: true, linkType: LinkType.LINUX_SLL2 };
}

export function intValue(value: number): Buffer {
  const b = Buffer.alloc(4);
  if (LITTLE_ENDIAN) b.writeInt32LE(value);
  else b.writeInt32BE(value);
  return b;
}

export function setInt(fd: number, level: number, name: number, value: number, what: string): void {
  const libc = ringLibc();
  if (libc.setsockopt(fd, level, name, intValue(value), 4) !== 0) {
    throw new CaptureError('E_RING', `setsockopt(${what}) failed: ${libc.strerror(libc.errno())}`);
  }
}

/** SO_ATTACH_FILTER with struct sock_fprog pointing at the program (the kernel copies it). */
export function attachFilter(fd: number, program: Uint8Array): void {
  const libc = ringLibc();
  const insns = nativeBuffer(program.length);
  insns.buf.set(program);
  const fprog = Buffer.alloc(SockFprog.SIZE);
  if (LITTLE_ENDIAN) fprog.writeUInt16LE(program.length / 8, SockFprog.LEN);
  else fprog.writeUInt16BE(program.length / 8, SockFprog.LEN);
  putPointer(fprog, SockFprog.FILTER, insns.ptr);
  const result = libc.setsockopt(fd, C.SOL_SOCKET, C.SO_ATTACH_FILTER, fprog, fprog.length);
  const errno = libc.errno();
  freeNative(insns.ptr); // the kernel keeps its own copy
  if (result !== 0) {
    throw new CaptureError('E_RING', `the kernel refused the capture filter: ${libc.strerror(errno)}`);
  }
}

export function socketError(errno: number, device: string, call: string): CaptureError {
  const libc = ringLibc();
  if (errno === C.EPERM || errno === C.EACCES) {
    return new CaptureError(
      'E_PERMISSION',
      `no permission to capture packets on ${device}: ${PERMISSION_HINT}`,
    );
  }
  if (errno === C.ENODEV || errno === C.ENXIO) {
    return new CaptureError('E_NO_DEVICE', `cannot capture on ${device}: ${libc.strerror(errno)}`);
  }
  if (errno === C.ENETDOWN) {
    return new CaptureError('E_DEVICE_DOWN', `cannot capture on ${device}: it is down`);
  }
  return new CaptureError('E_RING', `${call} on ${device} failed: ${libc.strerror(errno)}`);
}

/** bind() to the device (ifindex 0: every device) for every protocol: struct sockaddr_ll, <linux/if_packet.h>. */
export function bindToDevice(fd: number, ifindex: number, device: string): void {
  const libc = ringLibc();
  const address = Buffer.alloc(20);
  address.writeUInt16LE(C.AF_PACKET, 0);
  if (!LITTLE_ENDIAN) address.writeUInt16BE(C.AF_PACKET, 0);
  address.writeUInt16BE(C.ETH_P_ALL, 2); // sll_protocol is big-endian
  if (LITTLE_ENDIAN) address.writeInt32LE(ifindex, 4);
  else address.writeInt32BE(ifindex, 4);
  if (libc.bind(fd, address, address.length) !== 0) throw socketError(libc.errno(), device, 'bind');
}

/** PACKET_ADD_MEMBERSHIP with PACKET_MR_PROMISC (struct packet_mreq): the device counts it and leaves the mode when the socket closes. */
export function joinPromiscuous(fd: number, ifindex: number, device: string): void {
  const libc = ringLibc();
  const mreq = Buffer.alloc(PacketMreq.SIZE);
  if (LITTLE_ENDIAN) {
    mreq.writeInt32LE(ifindex, PacketMreq.IFINDEX);
    mreq.writeUInt16LE(C.PACKET_MR_PROMISC, PacketMreq.TYPE);
  } else {
    mreq.writeInt32BE(ifindex, PacketMreq.IFINDEX);
    mreq.writeUInt16BE(C.PACKET_MR_PROMISC, PacketMreq.TYPE);
  }
  if (libc.setsockopt(fd, C.SOL_PACKET, C.PACKET_ADD_MEMBERSHIP, mreq, mreq.length) !== 0) {
    throw socketError(libc.errno(), device, 'promiscuous mode');
  }
}
