import { ipv4Text, ipv6Text } from '../decode/address';
import { CaptureError } from '../errors';
import { readU16, readU32 } from './bytes';
import { Block, BYTE_ORDER_MAGIC, MAX_BLOCK, NameRecord, Option } from './pcapng-blocks';
import type { CaptureFileInfo, CaptureInterface, PacketRecord } from './record';
import { unitsToTime } from './timestamp';
import type { UnitParser } from './unit-parser';

const BLOCK_MIN = 12;
const utf8 = new TextDecoder();

interface SectionInterface extends CaptureInterface {
  /** Index of this interface in info.interfaces (numbered across sections). */
  globalId: number;
  /** if_tsoffset: seconds to add to every timestamp. */
  offsetSeconds: number;
}

/** Reads pcapng block by block: sections, interfaces, packets (EPB, SPB, obsolete PB) and names. */
export class PcapngFormat implements UnitParser {
  private little = true;
  private interfaces: SectionInterface[] = [];
  private readonly nanos = new Float64Array(1);

  constructor(
    private readonly info: CaptureFileInfo,
    private readonly record: PacketRecord,
    private readonly emit: (record: PacketRecord) => void,
  ) {}

  headerLength(): number {
    return BLOCK_MIN;
  }

  unitLength(buf: Uint8Array, at: number): number {
    if (readU32(buf, at, true) === Block.SECTION_HEADER) this.little = this.sectionByteOrder(buf, at);
    const length = readU32(buf, at + 4, this.little);
    if (length < BLOCK_MIN || length % 4 !== 0 || length > MAX_BLOCK) {
      throw new CaptureError('E_FILE_FORMAT', `corrupt pcapng block: impossible length ${length}`);
    }
    return length;
  }

  parseUnit(buf: Uint8Array, at: number, length: number): void {
    const end = at + length - 4;
    if (readU32(buf, end, this.little) !== length) {
      throw new CaptureError('E_FILE_FORMAT', 'corrupt pcapng block: its two length fields differ');
    }
    switch (readU32(buf, at, this.little)) {
      case Block.SECTION_HEADER:
        this.parseSection(buf, at, end);
        break;
      case Block.INTERFACE_DESCRIPTION:
        this.parseInterface(buf, at, end);
        break;
      case Block.ENHANCED_PACKET:
        this.parseEnhancedPacket(buf, at, end);
        break;
      case Block.SIMPLE_PACKET:
        this.parseSimplePacket(buf, at, end);
        break;
      case Block.PACKET:
        this.parseObsoletePacket(buf, at, end);
        break;
      case Block.NAME_RESOLUTION:
        this.parseNames(buf, at + 8, end);
        break;
      // Statistics, decryption secrets, custom and unknown blocks: skipped, as the format allows.
    }
  }

  private sectionByteOrder(buf: Uint8Array, at: number): boolean {
    if (readU32(buf, at + 8, true) === BYTE_ORDER_MAGIC) return true;
    if (readU32(buf, at + 8, false) === BYTE_ORDER_MAGIC) return false;
    throw new CaptureError('E_FILE_FORMAT', 'corrupt pcapng section header: bad byte-order magic');
  }

  private parseSection(buf: Uint8Array, at: number, end: number): void {
    // byte-order magic (4), major (2), minor (2), section length (8), options.
    if (end - at < 24) throw new CaptureError('E_FILE_FORMAT', 'corrupt pcapng section header: too short');
    const major = readU16(buf, at + 12, this.little);
    if (major !== 1) {
      throw new CaptureError('E_FILE_FORMAT', `pcapng version ${major} is not supported (only 1.x)`);
    }
    this.info.byteOrder = this.little ? 'little' : 'big';
    this.interfaces = [];
    this.forEachOption(buf, at + 24, end, (code, value, length) => {
      const text = () => utf8.decode(buf.subarray(value, value + length));
      if (code === Option.SHB_HARDWARE) this.info.hardware = text();
      else if (code === Option.SHB_OS) this.info.os = text();
      else if (code === Option.SHB_USERAPPL) this.info.application = text();
    });
  }

  private parseInterface(buf: Uint8Array, at: number, end: number): void {
    // link type (2), reserved (2), snaplen (4), options.
    if (end - at < 16) throw new CaptureError('E_FILE_FORMAT', 'corrupt pcapng interface block: too short');
    const iface: SectionInterface = {
      linkType: readU16(buf, at + 8, this.little),
      snapLength: readU32(buf, at + 12, this.little),
      unitsPerSecond: 1e6,
      globalId: this.info.interfaces.length,
      offsetSeconds: 0,
    };
    this.forEachOption(buf, at + 16, end, (code, value, length) => {
      if (code === Option.IF_NAME) iface.name = utf8.decode(buf.subarray(value, value + length));
      else if (code === Option.IF_DESCRIPTION)
        iface.description = utf8.decode(buf.subarray(value, value + length));
      else if (code === Option.IF_TSRESOL && length >= 1) {
        // High bit clear: 10^-n seconds; set: 2^-n seconds.
        const resolution = buf[value]!;
        const exponent = resolution & 0x7f;
        iface.unitsPerSecond = resolution & 0x80 ? 2 ** exponent : 10 ** exponent;
        if (!Number.isFinite(iface.unitsPerSecond) || iface.unitsPerSecond < 1) {
          throw new CaptureError('E_FILE_FORMAT', `corrupt pcapng interface: if_tsresol ${resolution}`);
        }
      } else if (code === Option.IF_TSOFFSET && length === 8) {
        const high = readU32(buf, value + (this.little ? 4 : 0), this.little) | 0; // signed
        const low = readU32(buf, value + (this.little ? 0 : 4), this.little);
        iface.offsetSeconds = high * 2 ** 32 + low;
      }
    });
    const { globalId: _g, offsetSeconds: _o, ...described } = iface;
    this.info.interfaces.push(described);
    this.interfaces.push(iface);
  }

  private interfaceOf(id: number): SectionInterface {
    const iface = this.interfaces[id];
    if (!iface) {
      throw new CaptureError('E_FILE_FORMAT', `corrupt pcapng packet: interface ${id} was never described`);
    }
    return iface;
  }

  private parseEnhancedPacket(buf: Uint8Array, at: number, end: number): void {
    // interface id (4), timestamp high (4), low (4), captured length (4), original length (4), data, options.
    if (end - at < 28) throw new CaptureError('E_FILE_FORMAT', 'corrupt pcapng packet block: too short');
    const iface = this.interfaceOf(readU32(buf, at + 8, this.little));
    const captured = readU32(buf, at + 20, this.little);
    const dataEnd = at + 28 + captured;
    if (dataEnd > end) {
      throw new CaptureError(
        'E_FILE_FORMAT',
        `corrupt pcapng packet block: ${captured} bytes do not fit in it`,
      );
    }
    const r = this.startRecord(iface, readU32(buf, at + 12, this.little), readU32(buf, at + 16, this.little));
    r.originalLength = readU32(buf, at + 24, this.little);
    r.setBytes(buf, at + 28, captured);
    this.readPacketOptions(buf, at + 28 + ((captured + 3) & ~3), end, r);
    this.emit(r);
  }

  private parseSimplePacket(buf: Uint8Array, at: number, end: number): void {
    // original length (4), data: as much as the first interface's snaplen kept (and the block holds).
    if (end - at < 12)
      throw new CaptureError('E_FILE_FORMAT', 'corrupt pcapng simple packet block: too short');
    const iface = this.interfaceOf(0);
    const original = readU32(buf, at + 8, this.little);
    let captured = Math.min(original, end - (at + 12));
    if (iface.snapLength > 0) captured = Math.min(captured, iface.snapLength);
    const r = this.startRecord(iface, -1, 0);
    r.originalLength = original;
    r.setBytes(buf, at + 12, captured);
    this.emit(r);
  }

  private parseObsoletePacket(buf: Uint8Array, at: number, end: number): void {
    // interface id (2), drops count (2), timestamp high (4), low (4), captured (4), original (4), data, options.
    if (end - at < 28) throw new CaptureError('E_FILE_FORMAT', 'corrupt pcapng packet block: too short');
    const iface = this.interfaceOf(readU16(buf, at + 8, this.little));
    const captured = readU32(buf, at + 20, this.little);
    if (at + 28 + captured > end) {
      throw new CaptureError(
        'E_FILE_FORMAT',
        `corrupt pcapng packet block: ${captured} bytes do not fit in it`,
      );
    }
    const r = this.startRecord(iface, readU32(buf, at + 12, this.little), readU32(buf, at + 16, this.little));
    r.originalLength = readU32(buf, at + 24, this.little);
    r.setBytes(buf, at + 28, captured);
    this.emit(r);
  }

  /** Resets the shared record for a packet of `iface`; a high of -1 means the block has no timestamp. */
  private startRecord(iface: SectionInterface, high: number, low: number): PacketRecord {
    const r = this.record;
    r.linkType = iface.linkType;
    r.interfaceId = iface.globalId;
    r.comment = undefined;
    r.processId = undefined;
    r.threadId = undefined;
    r.direction = undefined;
    if (high < 0) {
      r.seconds = 0;
      r.nanoseconds = 0;
    } else {
      r.seconds = unitsToTime(high, low, iface.unitsPerSecond, this.nanos) + iface.offsetSeconds;
      r.nanoseconds = this.nanos[0]!;
    }
    return r;
  }

  private parseNames(buf: Uint8Array, at: number, end: number): void {
    while (end - at >= 4) {
      const type = readU16(buf, at, this.little);
      const length = readU16(buf, at + 2, this.little);
      const value = at + 4;
      if (type === NameRecord.END) return;
      if (value + length > end) throw new CaptureError('E_FILE_FORMAT', 'corrupt pcapng name record');
      const addressLength = type === NameRecord.IPV4 ? 4 : type === NameRecord.IPV6 ? 16 : 0;
      if (addressLength > 0 && length > addressLength) {
        const address = addressLength === 4 ? ipv4Text(buf, value) : ipv6Text(buf, value);
        const names = utf8
          .decode(buf.subarray(value + addressLength, value + length))
          .split('\0')
          .filter((name) => name.length > 0);
        this.info.names.set(address, [...(this.info.names.get(address) ?? []), ...names]);
      }
      at = value + ((length + 3) & ~3);
    }
  }

  /** The options of a packet block, read without a callback: this runs once per packet. */
  private readPacketOptions(buf: Uint8Array, at: number, end: number, r: PacketRecord): void {
    while (end - at >= 4) {
      const code = readU16(buf, at, this.little);
      const length = readU16(buf, at + 2, this.little);
      const value = at + 4;
      if (code === Option.END) return;
      if (value + length > end) throw new CaptureError('E_FILE_FORMAT', `corrupt pcapng option ${code}`);
      if (code === Option.COMMENT) r.comment = utf8.decode(buf.subarray(value, value + length));
      else if (code === Option.EPB_PROCESSID_THREADID && length === 8) {
        r.processId = readU32(buf, value, this.little);
        r.threadId = readU32(buf, value + 4, this.little);
      } else if (code === Option.EPB_FLAGS && length === 4) {
        const direction = readU32(buf, value, this.little) & 3;
        r.direction = direction === 1 ? 'in' : direction === 2 ? 'out' : undefined;
      }
      at = value + ((length + 3) & ~3);
    }
  }

  /** Calls `onOption(code, valueOffset, length)` for each option in [at, end). */
  private forEachOption(
    buf: Uint8Array,
    at: number,
    end: number,
    onOption: (code: number, value: number, length: number) => void,
  ): void {
    while (end - at >= 4) {
      const code = readU16(buf, at, this.little);
      const length = readU16(buf, at + 2, this.little);
      if (code === Option.END) return;
      if (at + 4 + length > end) throw new CaptureError('E_FILE_FORMAT', `corrupt pcapng option ${code}`);
      onOption(code, at + 4, length);
      at += 4 + ((length + 3) & ~3);
    }
  }
}
