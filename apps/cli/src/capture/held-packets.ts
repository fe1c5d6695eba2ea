import type { LivePacket } from '@netwho/capture';

export interface HeldPacketsOptions {
  /** Bytes of packet data held at most (one buffer, allocated once). */
  maxBytes: number;
  /** Packets held at most. */
  maxPackets: number;
  /** How long a packet waits for its flow's label before it is written with what is known. */
  maxWaitMs: number;
}

/** A held packet, handed to the writer: `data` is a view into the queue's buffer, valid during the call. */
export interface HeldPacket {
  data: Uint8Array;
  wireLength: number;
  seconds: number;
  nanoseconds: number;
  flowId: number;
  /** Index of the device it came from, as the caller numbered them at push. */
  device: number;
  /** Whether it went from the flow's local end (else from its remote end). */
  outgoing: boolean;
}

/** Why a packet left the queue: its label settled, it waited `maxWaitMs`, the queue was full, or the capture ended. */
export type Release = 'settled' | 'waited' | 'full' | 'end';

/**
 * Packets waiting for their flow's program before they are written, in capture order, in bounded
 * memory: one byte ring of `maxBytes` and typed arrays of `maxPackets` entries, so holding a packet
 * costs one copy and no allocation. Nothing is ever dropped: when a bound is hit the oldest packet
 * is written with what is known of it, and counted.
 */
export class HeldPackets {
  private readonly bytes: Uint8Array;
  private readonly start: Uint32Array;
  private readonly length: Uint32Array;
  private readonly wire: Uint32Array;
  private readonly nanos: Uint32Array;
  private readonly seconds: Float64Array;
  private readonly heldAt: Float64Array;
  private readonly flow: Int32Array;
  private readonly device: Uint16Array;
  private readonly outgoing: Uint8Array;
  private head = 0;
  private count = 0;
  /** Where the next packet's bytes go, and where the oldest one's start. */
  private writeAt = 0;
  private readAt = 0;
  private readonly out: HeldPacket = {
    data: new Uint8Array(0),
    wireLength: 0,
    seconds: 0,
    nanoseconds: 0,
    flowId: -1,
    device: 0,
    outgoing: true,
  };
  /** Packets that left the queue for each reason. */
  readonly released: Record<Release, number> = { settled: 0, waited: 0, full: 0, end: 0 };

  constructor(private readonly options: HeldPacketsOptions) {
    this.bytes = new Uint8Array(options.maxBytes);
    const n = options.maxPackets;
    this.start = new Uint32Array(n);
    this.length = new Uint32Array(n);
    this.wire = new Uint32Array(n);
    this.nanos = new Uint32Array(n);
    this.seconds = new Float64Array(n);
    this.heldAt = new Float64Array(n);
    this.flow = new Int32Array(n);
    this.device = new Uint16Array(n);
    this.outgoing = new Uint8Array(n);
  }

  get size(): number {
    return this.count;
  }

  /**
   * Copies a packet in. When the queue is full (packets or bytes), the oldest go to `write` first,
   * labelled as `labelOf` says now, counted as released for `full`.
   */
  push<L>(
    p: LivePacket,
    flowId: number,
    device: number,
    outgoing: boolean,
    now: number,
    labelOf: (flowId: number) => L,
    write: (packet: HeldPacket, label: L, why: Release) => void,
  ): void {
    const size = Math.min(p.length, this.bytes.length);
    let at = this.place(size);
    while (at < 0 || this.count === this.options.maxPackets) {
      this.shift(labelOf, write, 'full');
      at = this.place(size);
    }
    const i = (this.head + this.count) % this.options.maxPackets;
    this.bytes.set(p.buffer.subarray(p.offset, p.offset + size), at);
    this.start[i] = at;
    this.length[i] = size;
    this.wire[i] = p.wireLength;
    this.seconds[i] = p.seconds;
    this.nanos[i] = p.nanoseconds;
    this.heldAt[i] = now;
    this.flow[i] = flowId;
    this.device[i] = device;
    this.outgoing[i] = outgoing ? 1 : 0;
    if (this.count === 0) this.readAt = at;
    this.count++;
    this.writeAt = at + size;
  }

  /**
   * Writes, in order, every packet at the front whose label is settled (`settled` says so), or
   * that waited long enough, or all of them when `end` is set.
   */
  release<L>(
    now: number,
    end: boolean,
    labelOf: (flowId: number) => L,
    settled: (label: L) => boolean,
    write: (packet: HeldPacket, label: L, why: Release) => void,
  ): void {
    while (this.count > 0) {
      const label = labelOf(this.flow[this.head]!);
      let why: Release;
      if (end) why = 'end';
      else if (settled(label)) why = 'settled';
      else if (now - this.heldAt[this.head]! >= this.options.maxWaitMs) why = 'waited';
      else return;
      this.emit(label, why, write);
    }
  }

  private shift<L>(
    labelOf: (flowId: number) => L,
    write: (packet: HeldPacket, label: L, why: Release) => void,
    why: Release,
  ) {
    this.emit(labelOf(this.flow[this.head]!), why, write);
  }

  private emit<L>(label: L, why: Release, write: (packet: HeldPacket, label: L, why: Release) => void): void {
    const i = this.head;
    const out = this.out;
    out.data = this.bytes.subarray(this.start[i]!, this.start[i]! + this.length[i]!);
    out.wireLength = this.wire[i]!;
    out.seconds = this.seconds[i]!;
    out.nanoseconds = this.nanos[i]!;
    out.flowId = this.flow[i]!;
    out.device = this.device[i]!;
    out.outgoing = this.outgoing[i] === 1;
    this.head = (this.head + 1) % this.options.maxPackets;
    this.count--;
    if (this.count > 0) this.readAt = this.start[this.head]!;
    this.released[why]++;
    write(out, label, why);
  }

  /** Where `size` bytes fit in the byte ring without touching held packets, or -1. */
  private place(size: number): number {
    if (this.count === 0) return 0;
    const capacity = this.bytes.length;
    if (this.writeAt > this.readAt || (this.writeAt === this.readAt && this.count === 0)) {
      if (capacity - this.writeAt >= size) return this.writeAt;
      return this.readAt > size ? 0 : -1; // wrap to the start
    }
    return this.readAt - this.writeAt > size ? this.writeAt : -1;
  }
}
