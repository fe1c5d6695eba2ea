import { CaptureError } from '../../errors';
import { adaptToCookedSocket } from '../filter/cooked';
import { rejectLoopbackOutgoing } from '../filter/loopback';
import { compileFilter } from '../filter/program';
import type { ReusedPacket } from '../packet';
import * as C from './constants';
import { LITTLE_ENDIAN, mapFailed, ringLibc, viewOf } from './ffi';
import { type FrameCursor, frameReady, walkFrames } from './frames';
import {
  attachFilter,
  bindToDevice,
  frameShape,
  intValue,
  joinPromiscuous,
  KiB,
  type RingShape,
  ringRequest,
  setInt,
  socketError,
} from './socket-setup';
import { StatsV3 } from './structs';
import {
  blockPackets,
  blockReady,
  type FrameShape,
  type RingMemory,
  releaseBlock,
  ringMemory,
  walkBlock,
} from './walk';

export interface RingDeviceOptions extends RingShape {
  /** A kernel interface name, or `any` for every interface (a cooked socket on ifindex 0). */
  name: string;
  filter: string;
  promiscuous: boolean;
}

/** Kernel counters of one capture socket, accumulated (PACKET_STATISTICS resets them on each read). */
export interface RingCounters {
  /** Packets the filter accepted, dropped ones included (tpacket_stats_v3.tp_packets). */
  received: number;
  /** Packets the kernel dropped because no block was free (tp_drops). */
  dropped: number;
  /** Times the ring filled up and the kernel froze it until the reader freed a block (tp_freeze_q_cnt). */
  freezes: number;
}

/**
 * One AF_PACKET socket with a TPACKET_V3 receive ring, mapped once and read in place
 * (Documentation/networking/packet_mmap.rst). The kernel packs frames into blocks and hands a block
 * over when it is full or `blockTimeoutMs` after its first packet; we walk it and give it back.
 * With `immediate`, a TPACKET_V2 ring instead: one frame of fixed size per packet, each handed over
 * (and the reader woken) as soon as it is written, at the cost of a wake-up per packet at low rates
 * and room for fewer small packets.
 */
export class RingDevice {
  readonly counters: RingCounters = { received: 0, dropped: 0, freezes: 0 };
  /** Packets delivered. */
  delivered = 0;
  /** Blocks whose frame offsets were inconsistent (never seen from a sound kernel): counted, not walked. */
  corruptBlocks = 0;
  private cursor = 0;
  /** The reader's place in a V2 ring (undefined for V3). */
  private readonly frames: FrameCursor | undefined;
  private closed = false;
  private readonly statsValue = Buffer.alloc(StatsV3.SIZE);
  private readonly statsLength = Buffer.alloc(4);

  private constructor(
    readonly name: string,
    readonly fd: number,
    readonly ifindex: number,
    readonly shape: FrameShape,
    private readonly mapping: unknown,
    private readonly mappingSize: number,
    private ring: RingMemory,
  ) {
    this.frames = ring.frameSize > 0 ? { index: 0, delivered: 0, corrupt: 0 } : undefined;
  }

  get linkType(): number {
    return this.shape.linkType;
  }

  /**
   * Opens the socket and its ring. Throws CaptureError: E_PERMISSION (no CAP_NET_RAW), E_NO_DEVICE,
   * E_BAD_FILTER, or E_RING when the kernel refuses the ring or the filter cannot run on this
   * socket (the caller may fall back to libpcap).
   */
  static open(options: RingDeviceOptions): RingDevice {
    const libc = ringLibc();
    const any = options.name === 'any';
    const ifindex = any ? 0 : libc.if_nametoindex(options.name);
    if (!any && ifindex === 0) {
      throw new CaptureError('E_NO_DEVICE', `no capture device named "${options.name}"`);
    }
    if (/\b(vlan|mpls|pppoes|geneve)\b/.test(options.filter)) {
      // libpcap compiles these for live Linux captures with the kernel's VLAN metadata
      // (BPF_SPECIAL_VLAN_HANDLING), which a filter compiled apart from a live handle lacks: on a
      // ring socket they would test packet bytes the kernel already took the tag out of.
      throw new CaptureError(
        'E_RING',
        `the filter "${options.filter}" tests VLAN tags, which only libpcap's live filters see`,
      );
    }
    const shape = frameShape(options.name);
    const program = compileFilter(options.filter, shape.linkType, options.snapLength);
    let kernelProgram = program;
    if (shape.cooked && !adaptToCookedSocket(kernelProgram)) {
      throw new CaptureError(
        'E_RING',
        `the filter "${options.filter}" reads link-layer addresses, which a cooked packet socket does not see`,
      );
    }
    const loopbackIndex = libc.if_nametoindex('lo');
    if (any && loopbackIndex > 0) kernelProgram = rejectLoopbackOutgoing(kernelProgram, loopbackIndex);

    const type = (shape.cooked ? C.SOCK_DGRAM : C.SOCK_RAW) | C.SOCK_CLOEXEC;
    // Protocol 0: the socket receives nothing until bind(), so the filter is in place first.
    const fd = libc.socket(C.AF_PACKET, type, 0);
    if (fd < 0) throw socketError(libc.errno(), options.name, 'socket');
    let mapping: unknown;
    let mappingSize = 0;
    try {
      const version = options.immediate ? C.TPACKET_V2 : C.TPACKET_V3;
      setInt(fd, C.SOL_PACKET, C.PACKET_VERSION, version, 'PACKET_VERSION');
      if (ifindex !== 0 && ifindex === loopbackIndex) {
        // Loopback packets pass the socket leaving and arriving: keep one (Linux 4.20+, else the filter does).
        if (libc.setsockopt(fd, C.SOL_PACKET, C.PACKET_IGNORE_OUTGOING, intValue(1), 4) !== 0) {
          kernelProgram = rejectLoopbackOutgoing(kernelProgram, loopbackIndex);
        }
      }
      attachFilter(fd, kernelProgram);

      const { request, blockSize, blockCount, frameSize } = ringRequest(options);
      if (libc.setsockopt(fd, C.SOL_PACKET, C.PACKET_RX_RING, request, request.length) !== 0) {
        const errno = libc.errno();
        throw new CaptureError(
          'E_RING',
          `the kernel refused a ${blockCount} x ${blockSize / KiB} KiB receive ring on ${options.name}: ${libc.strerror(errno)}`,
        );
      }
      mappingSize = blockSize * blockCount;
      mapping = libc.mmap(null, mappingSize, C.PROT_READ | C.PROT_WRITE, C.MAP_SHARED, fd, 0);
      if (mapFailed(mapping)) {
        throw new CaptureError('E_RING', `cannot map the receive ring: ${libc.strerror(libc.errno())}`);
      }
      bindToDevice(fd, ifindex, options.name);
      if (options.promiscuous && !any) joinPromiscuous(fd, ifindex, options.name);
      const ring = ringMemory(viewOf(mapping, mappingSize), blockSize, blockCount, frameSize);
      return new RingDevice(options.name, fd, ifindex, shape, mapping, mappingSize, ring);
    } catch (error) {
      if (mapping && !mapFailed(mapping)) libc.munmap(mapping, mappingSize);
      libc.close(fd);
      throw error;
    }
  }

  /** Whether a retired block waits to be walked. */
  get ready(): boolean {
    if (this.closed) return false;
    return this.frames ? frameReady(this.ring, this.frames.index) : blockReady(this.ring, this.cursor);
  }

  /**
   * Whether the kernel holds packets we have not walked: a retired block, or packets in the block
   * it is filling (handed over by the block timeout at the latest).
   */
  get holdsUnread(): boolean {
    if (this.closed) return false;
    if (this.frames) return frameReady(this.ring, this.frames.index);
    return blockReady(this.ring, this.cursor) || blockPackets(this.ring, this.cursor) > 0;
  }

  /**
   * Walks every retired block, in ring order, up to `maxBlocks`; returns the packets delivered.
   * Each block goes back to the kernel as soon as its last packet was delivered.
   */
  walk(packet: ReusedPacket, deliver: (packet: ReusedPacket) => void, maxBlocks: number): number {
    packet.device = this.name;
    if (this.frames) return this.walkFrames(packet, deliver, maxBlocks * this.ring.framesPerBlock);
    let delivered = 0;
    for (let n = 0; n < maxBlocks && !this.closed && blockReady(this.ring, this.cursor); n++) {
      let walked = -1;
      try {
        walked = walkBlock(this.ring, this.cursor, this.shape, packet, deliver);
      } finally {
        // Even when a listener threw: the block is given back once, never walked twice.
        if (walked < 0) this.corruptBlocks++;
        else delivered += walked;
        if (!this.closed) {
          releaseBlock(this.ring, this.cursor);
          this.cursor = (this.cursor + 1) % this.ring.blockCount;
        }
      }
    }
    this.delivered += delivered;
    return delivered;
  }

  private walkFrames(packet: ReusedPacket, deliver: (packet: ReusedPacket) => void, max: number): number {
    const at = this.frames!;
    const before = at.delivered;
    try {
      if (!this.closed) walkFrames(this.ring, at, this.shape, packet, deliver, max);
    } finally {
      this.delivered += at.delivered - before;
      this.corruptBlocks = at.corrupt;
    }
    return at.delivered - before;
  }

  /** Adds the kernel's counters since the last read; false if the socket is closed. */
  readCounters(): boolean {
    if (this.closed) return false;
    this.statsValue.fill(0); // V2's struct tpacket_stats has no freeze count: the kernel writes 8 bytes
    this.statsLength.writeUInt32LE(StatsV3.SIZE);
    if (!LITTLE_ENDIAN) this.statsLength.writeUInt32BE(StatsV3.SIZE);
    const libc = ringLibc();
    if (
      libc.getsockopt(this.fd, C.SOL_PACKET, C.PACKET_STATISTICS, this.statsValue, this.statsLength) !== 0
    ) {
      return false;
    }
    const read = (offset: number) =>
      LITTLE_ENDIAN ? this.statsValue.readUInt32LE(offset) : this.statsValue.readUInt32BE(offset);
    this.counters.received += read(StatsV3.PACKETS);
    this.counters.dropped += read(StatsV3.DROPS);
    this.counters.freezes += read(StatsV3.FREEZE_Q_CNT);
    return true;
  }

  /** The socket's pending error (SO_ERROR, which reading clears): ENETDOWN when the device went down or away. */
  takeError(): number {
    const value = Buffer.alloc(4);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(4);
    if (!LITTLE_ENDIAN) length.writeUInt32BE(4);
    if (ringLibc().getsockopt(this.fd, C.SOL_SOCKET, C.SO_ERROR, value, length) !== 0)
      return ringLibc().errno();
    return LITTLE_ENDIAN ? value.readInt32LE(0) : value.readInt32BE(0);
  }

  /**
   * Closes the socket. The ring's pages are swapped for empty anonymous memory at the same address
   * rather than unmapped, so a view of a packet kept past its listener reads zeros instead of
   * crashing the process; the placeholder costs address space only.
   */
  close(): void {
    if (this.closed) return;
    this.readCounters();
    this.closed = true;
    const libc = ringLibc();
    libc.close(this.fd);
    const placeholder = libc.mmap(
      this.mapping,
      this.mappingSize,
      C.PROT_READ | C.PROT_WRITE,
      C.MAP_PRIVATE | C.MAP_ANONYMOUS | C.MAP_FIXED | C.MAP_NORESERVE,
      -1,
      0,
    );
    if (mapFailed(placeholder)) libc.munmap(this.mapping, this.mappingSize);
    else placeholders.register(this.ring.bytes.buffer, { mapping: this.mapping, size: this.mappingSize });
    this.ring = ringMemory(new ArrayBuffer(0), 1, 1);
  }
}

/** Unmaps a closed ring's placeholder once no view of it is left (the views keep its ArrayBuffer alive). */
const placeholders = new FinalizationRegistry<{ mapping: unknown; size: number }>(({ mapping, size }) => {
  ringLibc().munmap(mapping, size);
});
