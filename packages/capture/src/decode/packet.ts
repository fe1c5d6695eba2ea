import type { DecodeError, DecodeLayer } from './errors';

/**
 * One decoded packet. Decoders fill it in place and it is reused from packet to packet, so decoding
 * allocates nothing: numbers are copied out, addresses and payload stay in `data` as offsets. Read
 * what you need (or call `clone()`) before the next packet is decoded into it.
 *
 * A field of a layer that was not reached is left at its reset value (0, -1 for offsets).
 */
export class DecodedPacket {
  /**
   * The buffer decoded (the caller's, not a copy). The frame is `data[start, end)`, and every
   * offset below is an index into `data`.
   */
  data: Uint8Array = new Uint8Array(0);
  start = 0;
  end = 0;
  /** LINKTYPE_* of the link layer. */
  linkType = 0;
  /** Bytes captured, end - start (may be less than the packet's length on the wire when a snaplen cut it). */
  capturedLength = 0;

  /** EtherType of the network layer (0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP), or 0 when unknown. */
  etherType = 0;
  /** VLAN id of the outermost 802.1Q tag, or -1. */
  vlan = -1;
  /** How many VLAN tags were stripped (2 for QinQ). */
  vlanTags = 0;
  /**
   * Linux cooked capture packet type: 0 to us, 1 broadcast, 2 multicast, 3 to someone else,
   * 4 sent by us; -1 for other link types.
   */
  linuxPacketType = -1;

  /** 4 or 6 for IP packets, 0 otherwise. */
  ipVersion: 0 | 4 | 6 = 0;
  /** Offsets of the source and destination addresses in `data` (4 bytes for IPv4, 16 for IPv6). */
  srcAddrOffset = -1;
  dstAddrOffset = -1;
  /** Length of the IP packet as its header states it (header included). */
  ipLength = 0;
  /** TTL (IPv4) or hop limit (IPv6). */
  ttl = 0;
  /** True for any IP fragment; only the first fragment (fragmentOffset 0) holds a transport header. */
  fragment = false;
  /** Fragment offset in bytes. */
  fragmentOffset = 0;
  /** Transport protocol number (after IPv6 extension headers), 0 when unknown. */
  protocol = 0;

  /** Offset of the transport header in `data`, or -1. */
  transportOffset = -1;
  srcPort = 0;
  dstPort = 0;
  /** TCP flags (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80, NS 0x100). */
  tcpFlags = 0;
  /** TCP sequence and acknowledgement numbers (unsigned 32-bit). */
  seq = 0;
  ack = 0;
  window = 0;
  /** ICMP / ICMPv6 type and code, -1 when not ICMP. */
  icmpType = -1;
  icmpCode = -1;

  /** ARP operation (1 request, 2 reply), 0 when not ARP; sender and target IPv4 address offsets. */
  arpOperation = 0;

  /** Offset and length of the transport payload as far as it was captured. */
  payloadOffset = -1;
  payloadLength = 0;

  /** Why decoding stopped early, or undefined when every layer present was decoded. */
  error: DecodeError | undefined = undefined;
  /** The layer where decoding stopped (undefined when `error` is). */
  errorLayer: DecodeLayer | undefined = undefined;

  /**
   * Clears every field, ready for the next packet: `data[start, end)`, a range clamped to `data`
   * so that no decoder can read outside it.
   */
  reset(data: Uint8Array, linkType: number, start = 0, end: number = data.length): this {
    const length = data.length;
    const from = start > 0 ? (start < length ? start | 0 : length) : 0;
    const to = end < length ? (end > from ? end | 0 : from) : length;
    this.data = data;
    this.start = from;
    this.end = to;
    this.linkType = linkType;
    this.capturedLength = to - from;
    this.etherType = 0;
    this.vlan = -1;
    this.vlanTags = 0;
    this.linuxPacketType = -1;
    this.ipVersion = 0;
    this.srcAddrOffset = -1;
    this.dstAddrOffset = -1;
    this.ipLength = 0;
    this.ttl = 0;
    this.fragment = false;
    this.fragmentOffset = 0;
    this.protocol = 0;
    this.transportOffset = -1;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.seq = 0;
    this.ack = 0;
    this.window = 0;
    this.icmpType = -1;
    this.icmpCode = -1;
    this.arpOperation = 0;
    this.payloadOffset = -1;
    this.payloadLength = 0;
    this.error = undefined;
    this.errorLayer = undefined;
    return this;
  }

  /** Marks decoding as stopped at `layer`; returns -1 so decoders can `return packet.fail(...)`. */
  fail(layer: DecodeLayer, error: DecodeError): -1 {
    this.error = error;
    this.errorLayer = layer;
    return -1;
  }

  /**
   * A copy that owns its bytes (just the frame, so `start` becomes 0 and every offset moves with
   * it), safe to keep after the next packet is decoded.
   */
  clone(): DecodedPacket {
    const copy = Object.assign(new DecodedPacket(), this);
    // new Uint8Array(view) copies, even when data is a Buffer.
    copy.data = new Uint8Array(this.data.subarray(this.start, this.end));
    const shift = (offset: number) => (offset < 0 ? offset : offset - this.start);
    copy.start = 0;
    copy.end = this.capturedLength;
    copy.srcAddrOffset = shift(this.srcAddrOffset);
    copy.dstAddrOffset = shift(this.dstAddrOffset);
    copy.transportOffset = shift(this.transportOffset);
    copy.payloadOffset = shift(this.payloadOffset);
    return copy;
  }
}
