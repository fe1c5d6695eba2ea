/**
 * One packet read from a capture file. Readers hand the same object to every callback, with `data`
 * a view of their read buffer: copy what you keep (`copyRecord`) before the callback returns.
 */
export interface PacketRecord {
  /** The captured bytes, starting at the link-layer header. */
  data: Uint8Array;
  /** Length of the packet on the wire (more than data.length when a snaplen cut it). */
  originalLength: number;
  /** Capture time: whole seconds since 1970-01-01 UTC, and nanoseconds within that second. */
  seconds: number;
  nanoseconds: number;
  /** LINKTYPE_* of `data` (see LinkType). */
  linkType: number;
  /** pcapng: the interface the packet was captured on (0 in pcap files). */
  interfaceId: number;
  /** pcapng EPB opt_comment, if any. */
  comment: string | undefined;
  /** pcapng EPB epb_processid_threadid (option 8), if any. */
  processId: number | undefined;
  threadId: number | undefined;
  /** pcapng EPB epb_flags direction bits, if given. */
  direction: 'in' | 'out' | undefined;
}

export function emptyRecord(): PacketRecord {
  return {
    data: new Uint8Array(0),
    originalLength: 0,
    seconds: 0,
    nanoseconds: 0,
    linkType: 0,
    interfaceId: 0,
    comment: undefined,
    processId: undefined,
    threadId: undefined,
    direction: undefined,
  };
}

/** A copy of `record` that owns its bytes. */
export function copyRecord(record: PacketRecord): PacketRecord {
  // new Uint8Array(view) copies; Buffer#slice would not (it is subarray for Buffers).
  return { ...record, data: new Uint8Array(record.data) };
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
