/**
 * A capture file format read unit by unit (a pcap header or record, a pcapng block). The chunk
 * feeder hands it whole units, whatever the chunk boundaries.
 */
export interface UnitParser {
  /** Bytes needed before unitLength() can tell the length of the next unit. */
  headerLength(): number;
  /** Length of the unit at `at` (headerLength() bytes are there). Throws CaptureError if it is impossible. */
  unitLength(buf: Uint8Array, at: number): number;
  /** Handles one complete unit of `length` bytes at `at`. */
  parseUnit(buf: Uint8Array, at: number, length: number): void;
}
