/**
 * One packet read from a capture file. Readers hand the same record to every callback, pointing
 * into their read buffer: copy what you keep (`copyRecord`) before the callback returns.
 *
 * The packet's bytes are `buffer[offset, offset + capturedLength)`. `data` is that range as a view,
 * made when asked for; hot loops skip it and decode in place:
 * `decodePacket(r.buffer, r.linkType, p, r.offset, r.offset + r.capturedLength)`.
 */
export class PacketRecord {
  /** The buffer holding the packet (a reader's chunk, or the packet's own bytes after copyRecord). */
  buffer: Uint8Array = new Uint8Array(0);
  /** Where the captured bytes, starting at the link-layer header, begin in `buffer`. */
  offset = 0;
  /** How many bytes were captured. */
  capturedLength = 0;
  /** Length of the packet on the wire (more than capturedLength when a snaplen cut it). */
  originalLength = 0;
  /** Capture time: whole seconds since 1970-01-01 UTC, and nanoseconds within that second. */
  seconds = 0;
  nanoseconds = 0;
  /** LINKTYPE_* of the packet (see LinkType). */
  linkType = 0;
  /** pcapng: the interface the packet was captured on (0 in pcap files). */
  interfaceId = 0;
  /** pcapng EPB opt_comment, if any. */
  comment: string | undefined = undefined;
  /** pcapng EPB epb_processid_threadid (option 8), if any. */
  processId: number | undefined = undefined;
  threadId: number | undefined = undefined;
  /** pcapng EPB epb_flags direction bits, if given. */
  direction: 'in' | 'out' | undefined = undefined;

  /** The captured bytes, starting at the link-layer header (a view of `buffer`, not a copy). */
  get data(): Uint8Array {
    return this.buffer.subarray(this.offset, this.offset + this.capturedLength);
  }

  /** Points the record at `capturedLength` bytes of `buffer` from `offset`. */
  setBytes(buffer: Uint8Array, offset: number, capturedLength: number): void {
    this.buffer = buffer;
    this.offset = offset;
    this.capturedLength = capturedLength;
  }
}

/** A copy of `record` that owns its bytes. */
export function copyRecord(record: PacketRecord): PacketRecord {
  const copy = Object.assign(new PacketRecord(), record);
  // new Uint8Array(view) copies; Buffer#slice would not (it is subarray for Buffers).
  copy.setBytes(new Uint8Array(record.data), 0, record.capturedLength);
  return copy;
}

/** An interface described in a capture file (pcap files have one). */
export interface CaptureInterface {
  linkType: number;
  snapLength: number;
  /** pcapng if_name / if_description, if given. */
  name?: string;
  description?: string;
  /** Timestamp units per second of this interface's packets (1e6 for microseconds, 1e9 for nanoseconds). */
  unitsPerSecond: number;
}

/** What a file says about itself, filled in as it is read. */
export interface CaptureFileInfo {
  format: 'pcap' | 'pcapng';
  byteOrder: 'little' | 'big';
  interfaces: CaptureInterface[];
  /** pcapng Name Resolution Blocks: address text -> names. */
  names: Map<string, string[]>;
  /** pcapng shb_userappl / shb_os / shb_hardware of the last section, if given. */
  application?: string;
  os?: string;
  hardware?: string;
}
