import { CaptureError } from '../errors';
import { BlockOutput, type ByteSink } from './output';
import { PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO } from './pcap-format';

export interface PcapWriterOptions {
  /** LINKTYPE_* of every packet (pcap files hold one link type). */
  linkType: number;
  /** Largest packet kept (default 262144, libpcap's). */
  snapLength?: number;
  /** Nanosecond timestamps (default true); false writes the older microsecond format. */
  nanoseconds?: boolean;
}

/** A packet to write. originalLength defaults to data.length. */
export interface PacketToWrite {
  data: Uint8Array;
  seconds: number;
  nanoseconds: number;
  originalLength?: number;
}

/** Writes a classic pcap file (little-endian), the format every tool reads. */
export class PcapWriter {
  private readonly out: BlockOutput;
  private readonly nano: boolean;
  private readonly snapLength: number;

  constructor(out: ByteSink | string, options: PcapWriterOptions) {
    this.out = new BlockOutput(out);
    this.nano = options.nanoseconds ?? true;
    this.snapLength = options.snapLength ?? 262144;
    const at = this.out.reserve(24);
    const view = this.out.dataView;
    view.setUint32(at, this.nano ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, true);
    view.setUint16(at + 4, 2, true);
    view.setUint16(at + 6, 4, true);
    view.setUint32(at + 8, 0, true);
    view.setUint32(at + 12, 0, true);
    view.setUint32(at + 16, this.snapLength, true);
    view.setUint32(at + 20, options.linkType, true);
  }

  writePacket(packet: PacketToWrite): void {
    const captured = Math.min(packet.data.length, this.snapLength);
    const original = packet.originalLength ?? packet.data.length;
    if (original < captured) {
      throw new CaptureError('E_INVALID_ARGUMENT', 'originalLength is less than the captured length');
    }
    const at = this.out.reserve(16 + captured);
    const view = this.out.dataView;
    view.setUint32(at, packet.seconds, true);
    view.setUint32(at + 4, this.nano ? packet.nanoseconds : Math.floor(packet.nanoseconds / 1000), true);
    view.setUint32(at + 8, captured, true);
    view.setUint32(at + 12, original, true);
    this.out.bytes.set(packet.data.subarray(0, captured), at + 16);
  }

  /** Hands buffered bytes to the file now (they are otherwise written 256 KiB at a time). */
  flush(): void {
    this.out.flush();
  }

  close(): void {
    this.out.close();
  }
}
