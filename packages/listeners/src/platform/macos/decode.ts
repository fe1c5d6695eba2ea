import { IPPROTO_TCP, IPPROTO_UDP, type SocketTable } from '../../socket-table';
import {
  AF_INET,
  AF_INET6,
  INI_IPV4,
  PROC_FDINFO_SIZE,
  PROX_FDTYPE_SOCKET,
  SOCKET_FDINFO as S,
  SOCKINFO_IN,
  SOCKINFO_TCP,
} from './structs';

/** TSI_S_* (0 CLOSED .. 10 TIME_WAIT, as FreeBSD's TCPS_*) to the table's (Linux) state numbers. */
export const BSD_TCP_STATES = [7, 10, 2, 3, 1, 8, 4, 11, 9, 5, 6];

/** The socket fds in a PROC_PIDLISTFDS answer of `bytes` bytes (proc_fdinfo records). Pure. */
export function socketFds(buf: Uint8Array, bytes: number): number[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const fds: number[] = [];
  const end = Math.min(bytes, buf.length);
  for (let at = 0; at + PROC_FDINFO_SIZE <= end; at += PROC_FDINFO_SIZE) {
    if (view.getUint32(at + 4, true) === PROX_FDTYPE_SOCKET) fds.push(view.getInt32(at, true));
  }
  return fds;
}

/** The pids in a proc_listpids answer (int32 each; 0 entries are unused slots). Pure. */
export function pidList(buf: Uint8Array, bytes: number): number[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: number[] = [];
  for (let at = 0; at + 4 <= Math.min(bytes, buf.length); at += 4) {
    const pid = view.getInt32(at, true);
    if (pid > 0) out.push(pid);
  }
  return out;
}

export type SocketDecode = 'added' | 'not-inet' | 'duplicate' | 'truncated';

/**
 * Decodes a socket_fdinfo (`bytes` long, as proc_pidfdinfo returned) of process `pid` into `table`
 * when it is a TCP or UDP socket over IPv4/IPv6. A socket several processes share (inherited) is
 * listed once: `seen` holds the kernel handles (soi_so) already added. Pure.
 */
export function decodeSocketFdInfo(
  buf: Uint8Array,
  bytes: number,
  pid: number,
  table: SocketTable,
  seen: Set<bigint>,
): SocketDecode {
  if (bytes < S.inMinimum || bytes > buf.length) return 'truncated';
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const family = view.getInt32(S.family, true);
  const kind = view.getInt32(S.kind, true);
  const protocol = view.getInt32(S.protocol, true);
  if ((family !== AF_INET && family !== AF_INET6) || (kind !== SOCKINFO_IN && kind !== SOCKINFO_TCP))
    return 'not-inet';
  if (protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) return 'not-inet';
  if (kind === SOCKINFO_TCP && bytes < S.tcpMinimum) return 'truncated';
  const handle = view.getBigUint64(S.so, true);
  if (seen.has(handle)) return 'duplicate';
  seen.add(handle);
  // A dual-stack AF_INET6 socket carrying IPv4 says so in insi_vflag: its addresses are then the
  // last 4 bytes of each 16.
  const v4 = family === AF_INET || buf[S.vflag] === INI_IPV4;
  const row = table.addRow();
  table.protocol[row] = protocol;
  table.family[row] = v4 ? 4 : 6;
  table.localPort[row] = (buf[S.lport]! << 8) | buf[S.lport + 1]!;
  table.remotePort[row] = (buf[S.fport]! << 8) | buf[S.fport + 1]!;
  const from = v4 ? 12 : 0;
  const n = v4 ? 4 : 16;
  for (let i = 0; i < n; i++) {
    table.localAddress[row * 16 + i] = buf[S.laddr + from + i]!;
    table.remoteAddress[row * 16 + i] = buf[S.faddr + from + i]!;
  }
  table.state[row] = kind === SOCKINFO_TCP ? (BSD_TCP_STATES[view.getInt32(S.tcpState, true)] ?? 0) : 0;
  table.uid[row] = view.getUint32(S.uid, true) | 0;
  table.inode[row] = 0;
  table.pid[row] = pid;
  return 'added';
}

/**
 * Calls `query(buffer, size)` (a libproc call that returns the bytes it filled) with a buffer big
 * enough: the first call with no buffer gives the size, and when an answer fills the whole buffer
 * the list may have grown between the calls, so it is asked again with twice the room.
 */
export function queryGrowing(
  query: (buffer: Buffer | null, size: number) => number,
  attempts = 6,
): { buffer: Buffer; bytes: number } | undefined {
  let size = Math.max(query(null, 0), 0);
  for (let i = 0; i < attempts; i++) {
    size = Math.max(size * 2, 4096);
    const buffer = Buffer.alloc(size);
    const bytes = query(buffer, size);
    if (bytes <= 0) return undefined;
    if (bytes < size) return { buffer, bytes };
  }
  return undefined;
}
