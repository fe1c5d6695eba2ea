import type { SocketState } from './types';

/** IP protocol numbers, as the kernel and the table use them. */
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/**
 * Socket states, numbered as Linux numbers TCP states (include/net/tcp_states.h); other backends map
 * their own values onto these. 0 is "no state" (UDP).
 */
export const STATE_NAMES: readonly SocketState[] = [
  'Unknown',
  'Established',
  'SynSent',
  'SynReceived',
  'FinWait1',
  'FinWait2',
  'TimeWait',
  'Closed',
  'CloseWait',
  'LastAck',
  'Listen',
  'Closing',
];
export const TCP_LISTEN = 10;
export const TCP_TIME_WAIT = 6;

/** Marks an unknown uid or pid in the table's integer columns. */
export const UNKNOWN_ID = -1;

/**
 * The socket table as columns of typed arrays: one row per socket, no object per row. Backends fill
 * it; lookups filter it by port or inode; only the rows returned to the caller become objects.
 */
export class SocketTable {
  count = 0;
  protocol: Uint8Array;
  family: Uint8Array;
  state: Uint8Array;
  localPort: Uint16Array;
  remotePort: Uint16Array;
  uid: Int32Array;
  /** Linux: the socket inode (0 when no process holds it). Elsewhere 0. */
  inode: Uint32Array;
  /** The owner when the OS reports it with the row (Windows, FreeBSD); else UNKNOWN_ID until resolved. */
  pid: Int32Array;
  /** 16 bytes per row, network order; IPv4 uses the first 4. */
  localAddress: Uint8Array;
  remoteAddress: Uint8Array;
  /** Linux sock_diag cookie (2 × u32 per row), to ask the kernel about one socket again. */
  cookie: Uint32Array;
  /** Linux: the file descriptor number at which the owner holds the socket; UNKNOWN_ID until resolved. */
  fd: Int32Array;
  /** TCP bytes acknowledged by the peer and received (tcp_info), when asked for; -1 otherwise. */
  bytesAcked: Float64Array;
  bytesReceived: Float64Array;
  /** Linux: 1 for an IPv6 listener that serves no IPv4 peer (IPV6_V6ONLY, sock_diag's INET_DIAG_SKV6ONLY); else 0. */
  v6Only: Uint8Array;

  constructor(capacity = 256) {
    this.protocol = new Uint8Array(capacity);
    this.family = new Uint8Array(capacity);
    this.state = new Uint8Array(capacity);
    this.localPort = new Uint16Array(capacity);
    this.remotePort = new Uint16Array(capacity);
    this.uid = new Int32Array(capacity);
    this.inode = new Uint32Array(capacity);
    this.pid = new Int32Array(capacity);
    this.localAddress = new Uint8Array(capacity * 16);
    this.remoteAddress = new Uint8Array(capacity * 16);
    this.cookie = new Uint32Array(capacity * 2);
    this.fd = new Int32Array(capacity);
    this.bytesAcked = new Float64Array(capacity);
    this.bytesReceived = new Float64Array(capacity);
    this.v6Only = new Uint8Array(capacity);
  }

  get capacity(): number {
    return this.protocol.length;
  }

  /**
   * Appends a row (pid and uid unknown) and returns its index; grows by doubling. The other columns
   * keep what a previous use left: the parser sets every one of them. Address slots are read only as
   * far as the row's family goes (4 or 16 bytes).
   */
  addRow(): number {
    if (this.count === this.capacity) this.grow(this.capacity * 2);
    const i = this.count++;
    this.pid[i] = UNKNOWN_ID;
    this.uid[i] = UNKNOWN_ID;
    this.fd[i] = UNKNOWN_ID;
    this.bytesAcked[i] = -1;
    this.bytesReceived[i] = -1;
    this.v6Only[i] = 0;
    return i;
  }

  /** Copies row `from` of `source` over row `to` of this table. */
  copyFrom(source: SocketTable, from: number, to: number): void {
    this.protocol[to] = source.protocol[from]!;
    this.family[to] = source.family[from]!;
    this.state[to] = source.state[from]!;
    this.localPort[to] = source.localPort[from]!;
    this.remotePort[to] = source.remotePort[from]!;
    this.uid[to] = source.uid[from]!;
    this.inode[to] = source.inode[from]!;
    this.pid[to] = source.pid[from]!;
    this.fd[to] = source.fd[from]!;
    this.bytesAcked[to] = source.bytesAcked[from]!;
    this.bytesReceived[to] = source.bytesReceived[from]!;
    this.v6Only[to] = source.v6Only[from]!;
    this.localAddress.set(source.localAddress.subarray(from * 16, from * 16 + 16), to * 16);
    this.remoteAddress.set(source.remoteAddress.subarray(from * 16, from * 16 + 16), to * 16);
    this.cookie.set(source.cookie.subarray(from * 2, from * 2 + 2), to * 2);
  }

  /** Copies row `from` over row `to` (every column). */
  copyRow(from: number, to: number): void {
    this.protocol[to] = this.protocol[from]!;
    this.family[to] = this.family[from]!;
    this.state[to] = this.state[from]!;
    this.localPort[to] = this.localPort[from]!;
    this.remotePort[to] = this.remotePort[from]!;
    this.uid[to] = this.uid[from]!;
    this.inode[to] = this.inode[from]!;
    this.pid[to] = this.pid[from]!;
    this.fd[to] = this.fd[from]!;
    this.bytesAcked[to] = this.bytesAcked[from]!;
    this.bytesReceived[to] = this.bytesReceived[from]!;
    this.v6Only[to] = this.v6Only[from]!;
    this.localAddress.copyWithin(to * 16, from * 16, from * 16 + 16);
    this.remoteAddress.copyWithin(to * 16, from * 16, from * 16 + 16);
    this.cookie.copyWithin(to * 2, from * 2, from * 2 + 2);
  }

  /** Empties the table for reuse, keeping its capacity. */
  clear(): this {
    this.count = 0;
    return this;
  }

  /** Drops the last row (a row a parser started but found malformed). */
  dropLastRow(): void {
    if (this.count > 0) this.count--;
  }

  private grow(capacity: number): void {
    const widen = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(
      a: T,
      n: number,
    ): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.protocol = widen(this.protocol, capacity);
    this.family = widen(this.family, capacity);
    this.state = widen(this.state, capacity);
    this.localPort = widen(this.localPort, capacity);
    this.remotePort = widen(this.remotePort, capacity);
    this.uid = widen(this.uid, capacity);
    this.inode = widen(this.inode, capacity);
    this.pid = widen(this.pid, capacity);
    this.localAddress = widen(this.localAddress, capacity * 16);
    this.remoteAddress = widen(this.remoteAddress, capacity * 16);
    this.cookie = widen(this.cookie, capacity * 2);
    this.fd = widen(this.fd, capacity);
    this.bytesAcked = widen(this.bytesAcked, capacity);
    this.bytesReceived = widen(this.bytesReceived, capacity);
    this.v6Only = widen(this.v6Only, capacity);
  }
}
