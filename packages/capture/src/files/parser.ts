import { CaptureError } from '../errors';
import { readU32 } from './bytes';
import { PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO, PcapFormat } from './pcap-format';
import { Block } from './pcapng-blocks';
import { PcapngFormat } from './pcapng-format';
import { type CaptureFileInfo, PacketRecord } from './record';
import type { UnitParser } from './unit-parser';

/**
 * Reads a pcap or pcapng stream pushed to it in chunks of any size: `push()` each chunk, then
 * `end()`. Packets go to `onPacket` as soon as they are whole, parsed in place in the chunk; only a
 * unit that straddles two chunks is copied (into a carry buffer as large as the largest unit).
 */
export class CaptureFileParser {
  /** What the file says about itself; complete once the headers are read. */
  readonly info: CaptureFileInfo = { format: 'pcap', byteOrder: 'little', interfaces: [], names: new Map() };
  /** Packets delivered so far. */
  packets = 0;
  /** Bytes consumed so far. */
  bytes = 0;

  private format: UnitParser | undefined;
  private readonly record = new PacketRecord();
  private carry = new Uint8Array(4096);
  private carried = 0;

  constructor(private readonly onPacket: (record: PacketRecord) => void) {}

  push(chunk: Uint8Array): void {
    let at = 0;
    if (!this.format) {
      at = this.takeCarry(chunk, 0, 4);
      if (this.carried < 4) return;
      this.format = this.detect(this.carry);
    }
    at = this.finishCarried(chunk, at);
    if (at < 0) return;
    const format = this.format;
    for (;;) {
      const left = chunk.length - at;
      if (left < format.headerLength()) break;
      const length = format.unitLength(chunk, at);
      if (left < length) break;
      format.parseUnit(chunk, at, length);
      at += length;
      this.bytes += length;
    }
    this.takeCarry(chunk, at, chunk.length - at);
  }

  /** Call when the stream is over. Throws E_FILE_TRUNCATED if it stopped inside a unit. */
  end(): void {
    if (!this.format && this.carried === 0) throw new CaptureError('E_FILE_FORMAT', 'the file is empty');
    if (this.carried > 0) {
      throw new CaptureError(
        'E_FILE_TRUNCATED',
        `the file ends ${this.carried} bytes into a ${this.format ? 'record' : 'header'} ` +
          `(after ${this.packets} complete packets, at byte ${this.bytes})`,
        { packets: this.packets, offset: this.bytes, ...(this.format && { format: this.info.format }) },
      );
    }
  }

  private readonly emit = (record: PacketRecord) => {
    this.packets++;
    this.onPacket(record);
  };

  private detect(head: Uint8Array): UnitParser {
    const little = readU32(head, 0, true);
    const big = readU32(head, 0, false);
    if ([PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO].some((magic) => magic === little || magic === big)) {
      this.info.format = 'pcap';
      return new PcapFormat(this.info, this.record, this.emit);
    }
    if (big === Block.SECTION_HEADER) {
      this.info.format = 'pcapng';
      return new PcapngFormat(this.info, this.record, this.emit);
    }
    throw new CaptureError('E_FILE_FORMAT', 'not a pcap or pcapng file (unknown magic number)', {
      offset: 0,
    });
  }

  /**
   * Completes the unit begun in the carry buffer with bytes from `chunk`. Returns where the rest of
   * the chunk starts, or -1 when the chunk was used up before the unit was whole.
   */
  private finishCarried(chunk: Uint8Array, at: number): number {
    const format = this.format!;
    while (this.carried > 0) {
      const header = format.headerLength();
      const need = this.carried < header ? header : format.unitLength(this.carry, 0);
      if (this.carried < need) {
        at = this.takeCarry(chunk, at, need - this.carried);
        if (this.carried < need) return -1;
        continue;
      }
      format.parseUnit(this.carry, 0, need);
      this.bytes += need;
      this.carried = 0;
    }
    return at;
  }

  /** Appends up to `count` bytes of `chunk` from `at` to the carry buffer; returns the new position. */
  private takeCarry(chunk: Uint8Array, at: number, count: number): number {
    const take = Math.min(count, chunk.length - at);
    if (take <= 0) return at;
    if (this.carried + take > this.carry.length) {
      const bigger = new Uint8Array(Math.max(this.carry.length * 2, this.carried + take));
      bigger.set(this.carry.subarray(0, this.carried));
      this.carry = bigger;
    }
    this.carry.set(chunk.subarray(at, at + take), this.carried);
    this.carried += take;
    return at + take;
  }
}
