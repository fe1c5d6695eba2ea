import { ListenersError } from '../../errors';
import { IPPROTO_TCP, SocketTable } from '../../socket-table';
import {
  AF_INET,
  AF_INET6,
  AF_NETLINK,
  EAGAIN,
  EINTR,
  INET_DIAG_INFO,
  INET_DIAG_NOCOOKIE,
  INET_DIAG_REQ_BYTECODE,
  INET_DIAG_SKV6ONLY,
  NETLINK_SOCK_DIAG,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  SO_RCVTIMEO,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_DIAG_BY_FAMILY,
  SOL_SOCKET,
  TCP_STATES_ALL,
  UDP_STATES_ALL,
} from './constants';
import { libc, type Scratch, scratch } from './ffi';
import { INET_DIAG_MSG, INET_DIAG_REQ_V2, NLATTR, NLMSGHDR, SOCKID, TCP_INFO, TIMEVAL } from './structs';

/** Decides from a row's inode and local port whether to keep it (before anything is copied). */
export type KeepRow = (inode: number, localPort: number) => boolean;

const align4 = (n: number) => (n + 3) & ~3;

/**
 * A SOCK_DIAG_BY_FAMILY request: a dump of one (family, protocol) table, optionally with a bytecode
 * filter appended as an INET_DIAG_REQ_BYTECODE attribute, and for TCP optionally asking for each
 * socket's tcp_info (INET_DIAG_INFO).
 */
export function encodeDumpRequest(
  family: 4 | 6,
  protocol: number,
  seq: number,
  filter?: Buffer,
  tcpInfo = false,
  states?: number,
): Buffer {
  const attrLength = filter ? NLATTR.size + filter.length : 0;
  const length = NLMSGHDR.size + INET_DIAG_REQ_V2.size + align4(attrLength);
  const req = Buffer.alloc(length);
  req.writeUInt32LE(length, NLMSGHDR.len);
  req.writeUInt16LE(SOCK_DIAG_BY_FAMILY, NLMSGHDR.type);
  req.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, NLMSGHDR.flags);
  req.writeUInt32LE(seq, NLMSGHDR.seq);
  const body = NLMSGHDR.size;
  req[body + INET_DIAG_REQ_V2.family] = family === 4 ? AF_INET : AF_INET6;
  req[body + INET_DIAG_REQ_V2.protocol] = protocol;
  if (tcpInfo && protocol === IPPROTO_TCP) req[body + INET_DIAG_REQ_V2.ext] = 1 << (INET_DIAG_INFO - 1);
  req.writeUInt32LE(
    states ?? (protocol === IPPROTO_TCP ? TCP_STATES_ALL : UDP_STATES_ALL),
    body + INET_DIAG_REQ_V2.states,
  );
  const id = body + INET_DIAG_REQ_V2.id;
  req.writeUInt32LE(INET_DIAG_NOCOOKIE, id + SOCKID.cookie);
  req.writeUInt32LE(INET_DIAG_NOCOOKIE, id + SOCKID.cookie + 4);
  if (filter) {
    const attr = body + INET_DIAG_REQ_V2.size;
    req.writeUInt16LE(attrLength, attr + NLATTR.len);
    req.writeUInt16LE(INET_DIAG_REQ_BYTECODE, attr + NLATTR.type);
    filter.copy(req, attr + NLATTR.size);
  }
  return req;
}

/** A request for one socket, named by its addresses, ports and cookie (no dump): does it still exist? */
export function encodeExactRequest(table: SocketTable, row: number, seq: number): Buffer {
  const length = NLMSGHDR.size + INET_DIAG_REQ_V2.size;
  const req = Buffer.alloc(length);
  req.writeUInt32LE(length, NLMSGHDR.len);
  req.writeUInt16LE(SOCK_DIAG_BY_FAMILY, NLMSGHDR.type);
  req.writeUInt16LE(NLM_F_REQUEST, NLMSGHDR.flags);
  req.writeUInt32LE(seq, NLMSGHDR.seq);
  const body = NLMSGHDR.size;
  const family = table.family[row] === 4 ? AF_INET : AF_INET6;
  req[body + INET_DIAG_REQ_V2.family] = family;
  req[body + INET_DIAG_REQ_V2.protocol] = table.protocol[row]!;
  req.writeUInt32LE(0xffffffff, body + INET_DIAG_REQ_V2.states);
  const id = body + INET_DIAG_REQ_V2.id;
  req.writeUInt16BE(table.localPort[row]!, id + SOCKID.sport);
  req.writeUInt16BE(table.remotePort[row]!, id + SOCKID.dport);
  const n = family === AF_INET ? 4 : 16;
  req.set(table.localAddress.subarray(row * 16, row * 16 + n), id + SOCKID.src);
  req.set(table.remoteAddress.subarray(row * 16, row * 16 + n), id + SOCKID.dst);
  req.writeUInt32LE(table.cookie[row * 2]!, id + SOCKID.cookie);
  req.writeUInt32LE(table.cookie[row * 2 + 1]!, id + SOCKID.cookie + 4);
  return req;
}

export interface DecodeResult {
  /** NLMSG_DONE seen, or an error or an ack ended the reply. */
  done: boolean;
  /** errno from an NLMSG_ERROR (positive), 0 when none. */
  error: number;
}

/**
 * Decodes one datagram of a sock_diag reply into `table`. Reads the bytes in place; rows for which
 * `keep(inode, localPort)` is false are skipped before anything is copied. Messages of another sequence number
 * are ignored; a message whose length does not fit ends decoding with EINVAL rather than reading
 * past the datagram.
 */
export function decodeDiagMessages(
  buf: Buffer,
  length: number,
  seq: number,
  protocol: number,
  table: SocketTable,
  keep?: KeepRow,
): DecodeResult {
  let off = 0;
  while (off + NLMSGHDR.size <= length) {
    const msgLength = buf.readUInt32LE(off + NLMSGHDR.len);
    if (msgLength < NLMSGHDR.size || off + msgLength > length) return { done: true, error: 22 };
    const type = buf.readUInt16LE(off + NLMSGHDR.type);
    if (buf.readUInt32LE(off + NLMSGHDR.seq) === seq) {
      if (type === NLMSG_DONE) return { done: true, error: 0 };
      if (type === NLMSG_ERROR) {
        const errno = msgLength >= NLMSGHDR.size + 4 ? -buf.readInt32LE(off + NLMSGHDR.size) : 22;
        return { done: true, error: errno };
      }
      if (type === SOCK_DIAG_BY_FAMILY && msgLength >= NLMSGHDR.size + INET_DIAG_MSG.size) {
        decodeDiagMessage(buf, off + NLMSGHDR.size, off + msgLength, protocol, table, keep);
      }
    }
    off += align4(msgLength);
  }
  return { done: false, error: 0 };
}

function decodeDiagMessage(
  buf: Buffer,
  m: number,
  end: number,
  protocol: number,
  table: SocketTable,
  keep?: KeepRow,
): void {
  const inode = buf.readUInt32LE(m + INET_DIAG_MSG.inode);
  if (keep && !keep(inode, buf.readUInt16BE(m + INET_DIAG_MSG.sport))) return;
  const family = buf[m + INET_DIAG_MSG.family] === AF_INET ? 4 : 6;
  const row = table.addRow();
  table.protocol[row] = protocol;
  table.family[row] = family;
  table.state[row] = protocol === IPPROTO_TCP ? buf[m + INET_DIAG_MSG.state]! : 0;
  table.localPort[row] = buf.readUInt16BE(m + INET_DIAG_MSG.sport);
  table.remotePort[row] = buf.readUInt16BE(m + INET_DIAG_MSG.dport);
  table.uid[row] = buf.readUInt32LE(m + INET_DIAG_MSG.uid) | 0;
  table.inode[row] = inode;
  table.cookie[row * 2] = buf.readUInt32LE(m + INET_DIAG_MSG.cookie);
  table.cookie[row * 2 + 1] = buf.readUInt32LE(m + INET_DIAG_MSG.cookie + 4);
  // Byte loops: Buffer#copy's argument checks cost more than copying 4 or 16 bytes.
  const n = family === 4 ? 4 : 16;
  const local = table.localAddress;
  const remote = table.remoteAddress;
  for (let i = 0, at = row * 16; i < n; i++, at++) {
    local[at] = buf[m + INET_DIAG_MSG.src + i]!;
    remote[at] = buf[m + INET_DIAG_MSG.dst + i]!;
  }
  if (protocol === IPPROTO_TCP) readAttributes(buf, m + INET_DIAG_MSG.size, end, table, row);
}

/**
 * Reads, among the attributes in [at, end), INET_DIAG_INFO's byte counters and INET_DIAG_SKV6ONLY
 * (which the kernel sends for IPv6 listeners) into `row`.
 */
function readAttributes(buf: Buffer, at: number, end: number, table: SocketTable, row: number): void {
  while (at + NLATTR.size <= end) {
    const length = buf.readUInt16LE(at + NLATTR.len);
    if (length < NLATTR.size || at + length > end) return;
    const type = buf.readUInt16LE(at + NLATTR.type);
    if (type === INET_DIAG_INFO && length - NLATTR.size >= TCP_INFO.minSize) {
      const info = at + NLATTR.size;
      table.bytesAcked[row] = Number(buf.readBigUInt64LE(info + TCP_INFO.bytesAcked));
      table.bytesReceived[row] = Number(buf.readBigUInt64LE(info + TCP_INFO.bytesReceived));
    } else if (type === INET_DIAG_SKV6ONLY && length > NLATTR.size)
      table.v6Only[row] = buf[at + NLATTR.size]!;
    at += align4(length);
  }
}

// One receive buffer for every request (a dump arrives in datagrams of at most 32 KiB), in koffi
// memory so recv() gets a raw pointer rather than a Buffer marshalled on each call.
let receive: Scratch | undefined;
let nextSeq = 1;

/** A NETLINK_SOCK_DIAG socket. `open()` returns undefined when the kernel offers none. */
export class SockDiag {
  private constructor(private readonly fd: number) {}

  static open(): SockDiag | undefined {
    const c = libc();
    const fd = c.socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return undefined;
    // A reply that never comes must not hang the caller: recv gives up after 2 s.
    const timeout = Buffer.alloc(TIMEVAL.size);
    timeout.writeBigInt64LE(2n, TIMEVAL.sec);
    c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, timeout.length);
    return new SockDiag(fd);
  }

  /**
   * Dumps one table into `table`. Returns 0, or the errno the kernel answered with (ENOENT when the
   * protocol's diag module is missing), so the caller can fall back to /proc/net.
   */
  dump(
    family: 4 | 6,
    protocol: number,
    table: SocketTable,
    options: { filter?: Buffer; keep?: KeepRow; tcpInfo?: boolean; states?: number } = {},
  ): number {
    const seq = nextSeq++;
    const request = encodeDumpRequest(family, protocol, seq, options.filter, options.tcpInfo, options.states);
    const mark = table.count;
    const error = this.exchange(request, (buf, n) =>
      decodeDiagMessages(buf, n, seq, protocol, table, options.keep),
    );
    if (error !== 0) table.count = mark; // a failed dump adds nothing
    return error;
  }

  /** Whether the socket in `row` still exists (asked by its exact id and cookie). */
  exists(table: SocketTable, row: number): boolean {
    const seq = nextSeq++;
    const found = new SocketTable(1);
    // Not a dump: the kernel answers with the one message, or NLMSG_ERROR, and no NLMSG_DONE.
    const error = this.exchange(
      encodeExactRequest(table, row, seq),
      (buf, n) => decodeDiagMessages(buf, n, seq, table.protocol[row]!, found),
      true,
    );
    return error === 0 && found.count > 0;
  }

  close(): void {
    libc().close(this.fd);
  }

  private exchange(
    request: Buffer,
    decode: (buf: Buffer, n: number) => DecodeResult,
    singleReply = false,
  ): number {
    const c = libc();
    if (c.send(this.fd, request, request.length, 0) < 0) {
      throw new ListenersError('E_SYSTEM', `sock_diag send failed (errno ${c.errno()})`);
    }
    receive ??= scratch(64 * 1024);
    for (;;) {
      const n = c.recv(this.fd, receive.ptr, receive.buf.length, 0);
      if (n < 0) {
        const errno = c.errno();
        if (errno === EINTR) continue;
        const what = errno === EAGAIN ? 'no reply within 2 s' : `errno ${errno}`;
        throw new ListenersError('E_SYSTEM', `sock_diag receive failed: ${what}`);
      }
      if (n === 0) return 0;
      const result = decode(receive.buf, n);
      if (result.done || singleReply) return result.error;
    }
  }
}
