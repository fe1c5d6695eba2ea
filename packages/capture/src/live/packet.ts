/**
 * A captured packet, handed to `packet` listeners. It is reused from packet to packet and points
 * into the capture's memory (the kernel ring itself with the Linux ring backend): read or copy what
 * you need during the listener. `buffer[offset, offset + length)` is the frame, so it decodes in
 * place (`decodePacket(p.buffer, p.linkType, into, p.offset, p.offset + p.length)`); `data` makes
 * a view of it on demand. The async iterator hands out copies.
 */
export interface LivePacket {
  /** The frame: a view made when read (prefer buffer/offset/length on hot paths). */
  readonly data: Uint8Array;
  buffer: Uint8Array;
  offset: number;
  /** Bytes captured (at most the snap length). */
  length: number;
  /** Bytes the packet had on the wire (tp_len); equal to `length` unless the snap length cut it. */
  wireLength: number;
  /** The device it was captured on, and that device's link type (LINKTYPE_*). */
  device: string;
  linkType: number;
  /** True when the packet was longer than the snap length. */
  truncated: boolean;
  /**
   * When the kernel received the packet, seconds and nanoseconds since 1970 (ring backend: the
   * socket buffer's timestamp; cap backend: when libpcap delivered it, see the README).
   */
  seconds: number;
  nanoseconds: number;
  /**
   * Linux packet type (sll_pkttype): 0 to this host, 1 broadcast, 2 multicast, 3 to another host,
   * 4 sent by this host; -1 when the backend does not say.
   */
  packetType: number;
}

/** The one packet object a capture reuses. */
export class ReusedPacket implements LivePacket {
  buffer: Uint8Array = new Uint8Array(0);
  offset = 0;
  length = 0;
  wireLength = 0;
  device = '';
  linkType = 0;
  truncated = false;
  seconds = 0;
  nanoseconds = 0;
  packetType = -1;

  get data(): Uint8Array {
    return this.buffer.subarray(this.offset, this.offset + this.length);
  }

  /** An owned copy, for the async iterator and anyone who keeps packets. */
  copy(): LivePacket {
    // Uint8Array's slice copies; a Buffer's (cap's) would share bytes.
    const data = Uint8Array.prototype.slice.call(this.buffer, this.offset, this.offset + this.length);
    return {
      data,
      buffer: data,
      offset: 0,
      length: this.length,
      wireLength: this.wireLength,
      device: this.device,
      linkType: this.linkType,
      truncated: this.truncated,
      seconds: this.seconds,
      nanoseconds: this.nanoseconds,
      packetType: this.packetType,
    };
  }
}
