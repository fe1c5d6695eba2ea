import { CaptureError } from '../errors';
import { BlockOutput, type ByteSink } from './output';
import type { PacketToWrite } from './pcap-writer';
import { Block, BYTE_ORDER_MAGIC, Option } from './pcapng-blocks';
import { timeToNanoUnits } from './timestamp';

export interface PcapngWriterOptions {
  /** shb_userappl (default "netwho"), shb_os and shb_hardware of the section header. */
  application?: string;
  os?: string;
  hardware?: string;
}

export interface PcapngInterface {
  linkType: number;
  snapLength?: number;
  name?: string;
  description?: string;
}

/** A packet with what pcapng can say about it besides its bytes. */
export interface PcapngPacketToWrite extends PacketToWrite {
  /** The interface (from addInterface) it was captured on; default 0. */
  interfaceId?: number;
  /** opt_comment, e.g. "pid=1234 name=firefox path=/usr/lib/firefox/firefox". */
  comment?: string;
  /** epb_processid_threadid (option 8): the process (and thread, 0 when unknown) that sent or received it. */
  processId?: number;
  threadId?: number;
  /** epb_flags direction bits. */
  direction?: 'in' | 'out';
}

/**
 * What an Interface Statistics Block says of one interface over the capture (pcapng section 4.6).
 * Times are seconds and nanoseconds since 1970; counts cover the whole capture.
 */
export interface PcapngInterfaceStatistics {
  interfaceId: number;
  start: { seconds: number; nanoseconds: number };
  end: { seconds: number; nanoseconds: number };
  /** isb_ifrecv: packets the capture received (for a filtered capture, what the filter accepted). */
  received?: number;
  /** isb_ifdrop: packets dropped for lack of resources before they could be delivered (the kernel ring was full). */
  interfaceDropped?: number;
  /** isb_osdrop: packets dropped after the kernel handed them over (by the capturing program's own bounds). */
  osDropped?: number;
  /** isb_usrdeliv: packets the kernel delivered to the capturing program (more than it wrote when it stopped at a count). */
  delivered?: number;
  comment?: string;
}

const utf8 = new TextEncoder();
const pad4 = (n: number) => (n + 3) & ~3;

/**
 * Writes pcapng (little-endian, nanosecond timestamps: if_tsresol 9). Packets go in Enhanced
 * Packet Blocks, with their program as an opt_comment and an epb_processid_threadid option, so
 * `tshark -r out.pcapng -T fields -e frame.comment` shows which program sent each one.
 */
export class PcapngWriter {
  private readonly out: BlockOutput;
  private readonly interfaces: Array<{ snapLength: number }> = [];
  private readonly time = new Float64Array(2);

  constructor(out: ByteSink | string, options: PcapngWriterOptions = {}) {
    this.out = new BlockOutput(out);
    const shbOptions: Array<[number, Uint8Array]> = [
      [Option.SHB_USERAPPL, utf8.encode(options.application ?? 'netwho')],
    ];
    if (options.os) shbOptions.push([Option.SHB_OS, utf8.encode(options.os)]);
    if (options.hardware) shbOptions.push([Option.SHB_HARDWARE, utf8.encode(options.hardware)]);
    const body = 16; // byte-order magic, major, minor, section length
    const at = this.startBlock(Block.SECTION_HEADER, body + optionsLength(shbOptions));
    const view = this.out.dataView;
    view.setUint32(at + 8, BYTE_ORDER_MAGIC, true);
    view.setUint16(at + 12, 1, true);
    view.setUint16(at + 14, 0, true);
    view.setInt32(at + 16, -1, true); // section length unknown (-1 as a 64-bit value)
    view.setInt32(at + 20, -1, true);
    this.writeOptions(at + 24, shbOptions);
  }

  /** Describes an interface; returns the id its packets name. */
  addInterface(iface: PcapngInterface): number {
    const snapLength = iface.snapLength ?? 262144;
    const options: Array<[number, Uint8Array]> = [];
    if (iface.name) options.push([Option.IF_NAME, utf8.encode(iface.name)]);
    if (iface.description) options.push([Option.IF_DESCRIPTION, utf8.encode(iface.description)]);
    options.push([Option.IF_TSRESOL, Uint8Array.of(9)]);
    const at = this.startBlock(Block.INTERFACE_DESCRIPTION, 8 + optionsLength(options));
    const view = this.out.dataView;
    view.setUint16(at + 8, iface.linkType, true);
    view.setUint16(at + 10, 0, true);
    view.setUint32(at + 12, snapLength, true);
    this.writeOptions(at + 16, options);
    this.interfaces.push({ snapLength });
    return this.interfaces.length - 1;
  }

  writePacket(packet: PcapngPacketToWrite): void {
    const interfaceId = packet.interfaceId ?? 0;
    const iface = this.interfaces[interfaceId];
    if (!iface) throw new CaptureError('E_INVALID_ARGUMENT', `interface ${interfaceId} was not added`);
    const captured = Math.min(packet.data.length, iface.snapLength);
    const original = packet.originalLength ?? packet.data.length;
    const comment = packet.comment ? utf8.encode(packet.comment) : undefined;
    let optionBytes = 0;
    if (comment) optionBytes += 4 + pad4(comment.length);
    if (packet.processId !== undefined) optionBytes += 4 + 8;
    if (packet.direction) optionBytes += 4 + 4;
    if (optionBytes > 0) optionBytes += 4; // opt_endofopt

    const at = this.startBlock(Block.ENHANCED_PACKET, 20 + pad4(captured) + optionBytes);
    const view = this.out.dataView;
    timeToNanoUnits(packet.seconds, packet.nanoseconds, this.time);
    view.setUint32(at + 8, interfaceId, true);
    view.setUint32(at + 12, this.time[0]!, true);
    view.setUint32(at + 16, this.time[1]!, true);
    view.setUint32(at + 20, captured, true);
    view.setUint32(at + 24, original, true);
    const bytes = this.out.bytes;
    bytes.set(packet.data.subarray(0, captured), at + 28);
    bytes.fill(0, at + 28 + captured, at + 28 + pad4(captured));
    let o = at + 28 + pad4(captured);
    if (comment) o = this.writeOption(o, Option.COMMENT, comment);
    if (packet.processId !== undefined) {
      view.setUint16(o, Option.EPB_PROCESSID_THREADID, true);
      view.setUint16(o + 2, 8, true);
      view.setUint32(o + 4, packet.processId, true);
      view.setUint32(o + 8, packet.threadId ?? 0, true);
      o += 12;
    }
    if (packet.direction) {
      view.setUint16(o, Option.EPB_FLAGS, true);
      view.setUint16(o + 2, 4, true);
      view.setUint32(o + 4, packet.direction === 'in' ? 1 : 2, true);
      o += 8;
    }
    if (optionBytes > 0) view.setUint32(o, 0, true);
  }

  /**
   * Writes an Interface Statistics Block, e.g. at the end of a capture, so that `capinfos` and
   * Wireshark show what was received and dropped. Counters are 64-bit; timestamps use the
   * interface's nanosecond resolution.
   */
  writeInterfaceStatistics(stats: PcapngInterfaceStatistics): void {
    if (!this.interfaces[stats.interfaceId]) {
      throw new CaptureError('E_INVALID_ARGUMENT', `interface ${stats.interfaceId} was not added`);
    }
    const options: Array<[number, Uint8Array]> = [];
    if (stats.comment) options.push([Option.COMMENT, utf8.encode(stats.comment)]);
    options.push([Option.ISB_STARTTIME, this.timestampBytes(stats.start.seconds, stats.start.nanoseconds)]);
    options.push([Option.ISB_ENDTIME, this.timestampBytes(stats.end.seconds, stats.end.nanoseconds)]);
    const counters: Array<[number, number | undefined]> = [
      [Option.ISB_IFRECV, stats.received],
      [Option.ISB_IFDROP, stats.interfaceDropped],
      [Option.ISB_OSDROP, stats.osDropped],
      [Option.ISB_USRDELIV, stats.delivered],
    ];
    for (const [code, value] of counters) {
      if (value === undefined) continue;
      const bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(value), true);
      options.push([code, bytes]);
    }
    const at = this.startBlock(Block.INTERFACE_STATISTICS, 12 + optionsLength(options));
    const view = this.out.dataView;
    timeToNanoUnits(stats.end.seconds, stats.end.nanoseconds, this.time);
    view.setUint32(at + 8, stats.interfaceId, true);
    view.setUint32(at + 12, this.time[0]!, true);
    view.setUint32(at + 16, this.time[1]!, true);
    this.writeOptions(at + 20, options);
  }

  /** A timestamp option's value: high then low 32 bits of the nanosecond count. */
  private timestampBytes(seconds: number, nanoseconds: number): Uint8Array {
    timeToNanoUnits(seconds, nanoseconds, this.time);
    const bytes = new Uint8Array(8);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, this.time[0]!, true);
    view.setUint32(4, this.time[1]!, true);
    return bytes;
  }

  flush(): void {
    this.out.flush();
  }

  close(): void {
    this.out.close();
  }

  /** Reserves a block of `body` bytes (after type and length), writing both length fields. */
  private startBlock(type: number, body: number): number {
    const total = 12 + body;
    const at = this.out.reserve(total);
    const view = this.out.dataView;
    view.setUint32(at, type, true);
    view.setUint32(at + 4, total, true);
    view.setUint32(at + total - 4, total, true);
    return at;
  }

  private writeOptions(at: number, options: Array<[number, Uint8Array]>): void {
    for (const [code, value] of options) at = this.writeOption(at, code, value);
    if (options.length > 0) this.out.dataView.setUint32(at, 0, true);
  }

  private writeOption(at: number, code: number, value: Uint8Array): number {
    if (value.length > 0xffff)
      throw new CaptureError('E_INVALID_ARGUMENT', `pcapng option ${code} is over 65535 bytes`);
    const view = this.out.dataView;
    view.setUint16(at, code, true);
    view.setUint16(at + 2, value.length, true);
    this.out.bytes.set(value, at + 4);
    this.out.bytes.fill(0, at + 4 + value.length, at + 4 + pad4(value.length));
    return at + 4 + pad4(value.length);
  }
}

function optionsLength(options: Array<[number, Uint8Array]>): number {
  if (options.length === 0) return 0;
  return options.reduce((sum, [, value]) => sum + 4 + pad4(value.length), 4);
}
