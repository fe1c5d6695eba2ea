import { IPPROTO_TCP, IPPROTO_UDP, type SocketTable, TCP_TIME_WAIT, UNKNOWN_ID } from '../../socket-table';
import { PROCESSENTRY32W, TCP4_ROW, TCP6_ROW, UDP4_ROW, UDP6_ROW } from './structs';

/**
 * MIB_TCP_STATE (1 CLOSED .. 12 DELETE_TCB) to the table's state numbers (Linux's: 1 Established,
 * 2 SynSent, 3 SynReceived, 4 FinWait1, 5 FinWait2, 6 TimeWait, 7 Closed, 8 CloseWait, 9 LastAck,
 * 10 Listen, 11 Closing).
 */
const STATES = [0, 7, 10, 2, 3, 1, 4, 5, 8, 11, 9, 6, 7];

export type TableKind = 'tcp4' | 'tcp6' | 'udp4' | 'udp6';

const LAYOUT = {
  tcp4: { row: TCP4_ROW, protocol: IPPROTO_TCP, family: 4, addrBytes: 4 },
  tcp6: { row: TCP6_ROW, protocol: IPPROTO_TCP, family: 6, addrBytes: 16 },
  udp4: { row: UDP4_ROW, protocol: IPPROTO_UDP, family: 4, addrBytes: 4 },
  udp6: { row: UDP6_ROW, protocol: IPPROTO_UDP, family: 6, addrBytes: 16 },
} as const;

/**
 * Decodes one GetExtendedTcpTable/GetExtendedUdpTable answer of `length` bytes into `table`. Pure.
 * Returns false (adding nothing) when the count of rows does not fit in the bytes: a truncated
 * answer, never read past.
 */
export function decodeIpTable(kind: TableKind, buf: Uint8Array, length: number, table: SocketTable): boolean {
  const { row: R, protocol, family, addrBytes } = LAYOUT[kind];
  if (length < 4 || length > buf.length) return false;
  const view = new DataView(buf.buffer, buf.byteOffset, length);
  const count = view.getUint32(0, true);
  if (4 + count * R.size > length) return false;
  for (let i = 0; i < count; i++) {
    const at = 4 + i * R.size;
    const row = table.addRow();
    table.protocol[row] = protocol;
    table.family[row] = family;
    table.localPort[row] = portOf(buf, at + R.localPort);
    copy(buf, at + R.localAddr, table.localAddress, row * 16, addrBytes);
    if ('remotePort' in R) {
      const state = view.getUint32(at + R.state, true);
      table.state[row] = STATES[state] ?? 0;
      // The remote end of a listening socket is reported as 0.0.0.0:0 (or garbage): none.
      const listening = state === 2;
      table.remotePort[row] = listening ? 0 : portOf(buf, at + R.remotePort);
      copy(buf, at + R.remoteAddr, table.remoteAddress, row * 16, addrBytes);
    } else {
      table.state[row] = 0;
      table.remotePort[row] = 0;
    }
    table.inode[row] = 0;
    const pid = view.getUint32(at + R.pid, true);
    // TIME_WAIT sockets belong to no process; Windows reports pid 0 for them.
    table.pid[row] = pid === 0 && table.state[row] === TCP_TIME_WAIT ? UNKNOWN_ID : pid;
  }
  return true;
}

/** The port in the low 16 bits of a DWORD, whose bytes are in network order. */
function portOf(buf: Uint8Array, at: number): number {
  return (buf[at]! << 8) | buf[at + 1]!;
}

function copy(from: Uint8Array, at: number, to: Uint8Array, toAt: number, n: number): void {
  for (let i = 0; i < n; i++) to[toAt + i] = from[at + i]!;
}

/** pid and executable file name of a PROCESSENTRY32W. Pure. */
export function decodeProcessEntry(buf: Uint8Array): { pid: number; exeFile: string } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const chars = Buffer.from(
    buf.buffer,
    buf.byteOffset + PROCESSENTRY32W.exeFile,
    PROCESSENTRY32W.exeFileChars * 2,
  );
  let end = 0;
  while (end < chars.length && (chars[end] !== 0 || chars[end + 1] !== 0)) end += 2;
  return { pid: view.getUint32(PROCESSENTRY32W.pid, true), exeFile: chars.toString('utf16le', 0, end) };
}

/**
 * Calls `fill(buffer, sizeRef)` as the GetExtended*Table functions want: when the answer is
 * ERROR_INSUFFICIENT_BUFFER the size it asked for is allocated (plus room for sockets opened
 * meanwhile) and the call repeated, since the table can grow between the two calls. Pure apart
 * from `fill`. Returns the buffer and the bytes written, or the error code.
 */
export function callGrowing(
  fill: (buffer: Buffer, size: [number]) => number,
  initialSize = 16 * 1024,
  attempts = 8,
): { buffer: Buffer; length: number } | { error: number } {
  let size = initialSize;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const buffer = Buffer.alloc(size);
    const sizeRef: [number] = [size];
    const code = fill(buffer, sizeRef);
    if (code === 0) return { buffer, length: Math.min(sizeRef[0], size) };
    if (code !== 122) return { error: code };
    size = Math.max(size * 2, sizeRef[0] + 4096);
  }
  return { error: 122 };
}
