/**
 * Codes of the errors this package throws:
 * - `E_INVALID_ARGUMENT`: a bad option value (the message names it).
 * - `E_NO_DEVICE`: the capture device does not exist (the message lists those that do).
 * - `E_PERMISSION`: no right to capture (the message says how to get it).
 * - `E_BAD_FILTER`: libpcap refused the BPF filter (its message is kept).
 * - `E_NO_LIBPCAP`: libpcap (or Npcap on Windows) or the `cap` binding is missing.
 * - `E_CAPTURE`: any other failure of the capture library.
 * - `E_RING`: the Linux kernel refused the capture ring or its filter (LiveCapture falls back to libpcap).
 * - `E_DEVICE_DOWN`: a device went down during a capture (an `error` event; it resumes if it comes back up).
 * - `E_DEVICE_GONE`: a device was removed during a capture (an `error` event; its capture ends).
 * - `E_OUTPUT_CLOSED`: the reader of a writer's output (a pipe) went away.
 * - `E_FILE_FORMAT`: a file that is not pcap/pcapng, or whose structure is corrupt.
 * - `E_FILE_TRUNCATED`: a file that ends inside a record; every complete packet before it was delivered.
 */
export type CaptureErrorCode =
  | 'E_INVALID_ARGUMENT'
  | 'E_NO_DEVICE'
  | 'E_PERMISSION'
  | 'E_BAD_FILTER'
  | 'E_NO_LIBPCAP'
  | 'E_CAPTURE'
  | 'E_RING'
  | 'E_DEVICE_DOWN'
  | 'E_DEVICE_GONE'
  | 'E_OUTPUT_CLOSED'
  | 'E_FILE_FORMAT'
  | 'E_FILE_TRUNCATED';

/** How to get the right to capture, for error messages. */
export const PERMISSION_HINT =
  'run as root, or grant the capability: sudo setcap cap_net_raw,cap_net_admin=eip "$(readlink -f "$(command -v node)")"';

export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  readonly code: CaptureErrorCode;
  /** For file errors: complete packets delivered before the error, and the byte offset it was found at. */
  readonly packets?: number;
  readonly offset?: number;
  /** For a truncated file: its format, when its first bytes told it. */
  readonly format?: 'pcap' | 'pcapng';

  constructor(
    code: CaptureErrorCode,
    message: string,
    options: { cause?: unknown; packets?: number; offset?: number; format?: 'pcap' | 'pcapng' } = {},
  ) {
    super(`[netwho/capture] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.packets !== undefined) this.packets = options.packets;
    if (options.offset !== undefined) this.offset = options.offset;
    if (options.format !== undefined) this.format = options.format;
  }
}
