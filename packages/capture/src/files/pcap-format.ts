import { CaptureError } from '../errors';
import { readU32 } from './bytes';
import type { CaptureFileInfo, PacketRecord } from './record';
import type { UnitParser } from './unit-parser';

/**
 * Classic pcap (draft-ietf-opsawg-pcap): a 24-byte file header (magic, version major/minor,
 * reserved x2, snaplen, link type with FCS bits on top), then per packet a 16-byte record header
 * (seconds, micro- or nanoseconds, captured length, original length) and the captured bytes.
 * The magic, read in the writer's byte order, is 0xa1b2c3d4 (microseconds) or 0xa1b23c4d (nanoseconds).
 */
export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
const FILE_HEADER = 24;
const RECORD_HEADER = 16;
/** libpcap's largest snaplen; a record claiming more than this (or the file's snaplen) is corrupt. */
const MAX_SNAPLEN = 262144;

export class PcapFormat implements UnitParser {
  private little = true;
  private nano = false;
  private started = false;
  private maxCaptured = MAX_SNAPLEN;

  constructor(
    private readonly info: CaptureFileInfo,
    private readonly record: PacketRecord,
    private readonly emit: (record: PacketRecord) => void,
  ) {}

  headerLength(): number {
    return this.started ? RECORD_HEADER : FILE_HEADER;
  }

  unitLength(buf: Uint8Array, at: number): number {
    if (!this.started) return FILE_HEADER;
    const captured = readU32(buf, at + 8, this.little);
    if (captured > this.maxCaptured) {
      throw new CaptureError(
        'E_FILE_FORMAT',
        `corrupt pcap record: captured length ${captured} exceeds the largest allowed (${this.maxCaptured})`,
      );
    }
    return RECORD_HEADER + captured;
  }

  parseUnit(buf: Uint8Array, at: number, length: number): void {
    if (!this.started) this.parseFileHeader(buf, at);
    else this.emitRecord(buf, at, length - RECORD_HEADER);
  }

  private emitRecord(buf: Uint8Array, at: number, captured: number): void {
    const r = this.record;
    const little = this.little;
    r.seconds = readU32(buf, at, little);
    const fraction = readU32(buf, at + 4, little);
    r.nanoseconds = this.nano ? fraction : fraction * 1000;
    r.originalLength = readU32(buf, at + 12, little);
    r.setBytes(buf, at + RECORD_HEADER, captured);
    this.emit(r);
  }

  private parseFileHeader(buf: Uint8Array, at: number): void {
    const magicBig = readU32(buf, at, false);
    const magicLittle = readU32(buf, at, true);
    this.little = magicLittle === PCAP_MAGIC_MICRO || magicLittle === PCAP_MAGIC_NANO;
    const magic = this.little ? magicLittle : magicBig;
    this.nano = magic === PCAP_MAGIC_NANO;
    const snapLength = readU32(buf, at + 16, this.little);
    // The top bits of the link-type field carry FCS information (draft-ietf-opsawg-pcap section 4).
    const linkType = readU32(buf, at + 20, this.little) & 0x0fffffff;
    this.maxCaptured = Math.max(MAX_SNAPLEN, Math.min(snapLength, 16 * 1024 * 1024));
    this.info.byteOrder = this.little ? 'little' : 'big';
    this.info.interfaces.push({ linkType, snapLength, unitsPerSecond: this.nano ? 1e9 : 1e6 });
    this.record.linkType = linkType;
    this.record.interfaceId = 0;
    this.started = true;
  }
}
