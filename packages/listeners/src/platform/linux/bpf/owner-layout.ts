import { Helper, insn, jump, type Line, label, loadMap, Op } from './asm';
import type { Btf } from './btf';

/**
 * What the owner programs share: the map's key and value, the stack they build them on, and the
 * instruction sequences every program ends with (who is running, the map update).
 */

/**
 * The map key, 40 bytes: protocol (u8: 6, 17), family (u8: 4, 6; v4-mapped IPv6 is 4), local and
 * remote port (u16, host order), kind (u8), 1 byte of padding, local and remote address (16 bytes
 * each; IPv4 in the first 4, network order). Kind 0 is a connection (its 4-tuple), or, with a
 * remote end of zeros, a UDP socket's bind; KIND_SOCKET is an unconnected UDP socket by its local
 * end alone (what it sent or received; a local address of zeros: bound to any). Protocol
 * COOKIE_KEY keys a bound socket by its cookie (the u64 at LADDR), with its bind's key as the
 * value, for the release program.
 */
export const KEY = {
  SIZE: 40,
  PROTOCOL: 0,
  FAMILY: 1,
  LPORT: 2,
  RPORT: 4,
  KIND: 6,
  LADDR: 8,
  RADDR: 24,
} as const;
export const KIND_SOCKET = 1;
export const COOKIE_KEY = 255;

/**
 * The value, 64 bytes: the holder (tgid), its network namespace (inode number), its thread-group
 * leader's start time (start_boottime: ns since boot, what /proc/PID/stat's starttime counts in
 * clock ticks) and exec count (self_exec_id), its cgroup id, when this was
 * written (bpf_ktime_get_ns, CLOCK_MONOTONIC), its comm (16 bytes), and which hook wrote it.
 * The last u32 depends on the record: for ACCEPT, the sequence number of the SYN the peer opened
 * the connection with (what ties the record to one connection of a reused 4-tuple); for BIND, how
 * many sockets are bound there (a holder of 0 when they are not all one process's); for a
 * KIND_SOCKET record, when two processes were last seen using the port at once (ktime >> 30, in
 * units of about a second; 0: never).
 */
export const VALUE = {
  SIZE: 64,
  TGID: 0,
  NETNS: 4,
  START_TIME: 8,
  EXEC_ID: 16,
  CGROUP: 24,
  WRITTEN: 32,
  COMM: 40,
  HOOK: 56,
  SYN: 60,
  BOUND: 60,
  SHARED: 60,
} as const;

/**
 * Which hook wrote a record. ACCEPT: the first send or receive of a TCP socket the connect hook did
 * not record in this process (accepted sockets, mostly). BIND: an explicit bind of a UDP socket.
 * LISTEN: a TCP socket's listen(), with BOUND counting the sockets listening there.
 */
export const Hook = {
  CONNECT: 1,
  ACCEPT: 2,
  UDP_SEND: 3,
  UDP_CONNECTED_SEND: 4,
  BIND: 5,
  UDP_RECV: 6,
  /** A TCP listener (listen-programs.ts, in their own map): its listen(), and one that is IPv6 only (IPV6_V6ONLY). */
  LISTEN: 7,
  LISTEN_V6_ONLY: 8,
} as const;

/** Byte offsets and sizes read from the kernel's BTF. */
export interface Offsets {
  family: number;
  rcvSaddr: number;
  daddr: number;
  num: number;
  dport: number;
  v6RcvSaddr: number;
  v6Daddr: number;
  /** sock.sk_protocol (u16). */
  protocol: number;
  /** tcp_sock.rcv_nxt (u32) and bytes_received (u64): rcv_nxt - bytes_received - 1 is the peer's initial sequence number. */
  rcvNxt: number;
  bytesReceived: number;
  /** task_struct.nsproxy, nsproxy.net_ns, and net->ns.inum. */
  nsproxy: number;
  netNs: number;
  netnsInum: number;
  groupLeader: number;
  startTime: number;
  execId: number;
  execIdSize: 4 | 8;
}

export const AF_INET = 2;
export const AF_INET6 = 10;
/** Bytes 8..11 of a v4-mapped IPv6 address (::ffff:a.b.c.d) read as a little-endian u32. */
export const MAPPED_WORD = 0xffff0000;

// Stack layout (r10 is the frame pointer): the key, the value, and a second key (a socket's cookie).
export const K = -KEY.SIZE;
export const V = K - VALUE.SIZE;
export const K2 = V - KEY.SIZE;

export const ST_B = 0x72;
export const ST_W = 0x62;
export const JSLT32_IMM = 0xc6;

const { MOV64_IMM, MOV64_REG, ADD64_IMM, RSH64_IMM, LDX_DW, LDX_W, STX_DW, STX_W, ST_DW } = Op;

/** Zeroes the key and the value (the verifier wants every byte a helper reads written first). */
export function zeroStack(): Line[] {
  const out: Line[] = [];
  for (let at = V; at < 0; at += 8) out.push(insn(ST_DW, 10, 0, at, 0));
  return out;
}

/** Zeroes the second key. */
export function zeroCookieKey(): Line[] {
  const out: Line[] = [];
  for (let at = K2; at < V; at += 8) out.push(insn(ST_DW, 10, 0, at, 0));
  return out;
}

/** Copies `words` u32 context fields (r6) from `from` to the stack at `to` (context reads must be u32). */
export function ctxWords(from: number, to: number, words: number): Line[] {
  const out: Line[] = [];
  for (let i = 0; i < words; i++)
    out.push(insn(LDX_W, 1, 6, from + i * 4, 0), insn(STX_W, 10, 1, to + i * 4, 0));
  return out;
}

/** The v4-mapped test on the IPv6 address of 4 context words at `from`: jumps to `notMapped` unless ::ffff:a.b.c.d. */
export function mappedTest(from: number, notMapped: string): Line[] {
  return [
    insn(LDX_W, 1, 6, from, 0),
    jump(Op.JNE_IMM, 1, 0, notMapped),
    insn(LDX_W, 1, 6, from + 4, 0),
    jump(Op.JNE_IMM, 1, 0, notMapped),
    insn(LDX_W, 1, 6, from + 8, 0),
    jump(Op.JNE32_IMM, 1, MAPPED_WORD, notMapped),
  ];
}

/** `helper(map, stack at key)`: a lookup (r0 = the value or 0) or a delete. */
function keyed(helper: number, mapFd: number, key: number): Line[] {
  return [
    ...loadMap(1, mapFd),
    insn(MOV64_REG, 2, 10, 0, 0),
    insn(ADD64_IMM, 2, 0, 0, key),
    insn(Op.CALL, 0, 0, 0, helper),
  ];
}

/** `r0 = lookup(map, stack at key)`. */
export const lookup = (mapFd: number, key: number) => keyed(Helper.MAP_LOOKUP_ELEM, mapFd, key);

/** Deletes the entry keyed by the stack at `key`. */
export const remove = (mapFd: number, key: number) => keyed(Helper.MAP_DELETE_ELEM, mapFd, key);

/** Writes the stack at `value` under the stack at `key` (BPF_ANY: a newer record replaces the older). */
export function update(mapFd: number, key: number, value: number): Line[] {
  return [
    ...loadMap(1, mapFd),
    insn(MOV64_REG, 2, 10, 0, 0),
    insn(ADD64_IMM, 2, 0, 0, key),
    insn(MOV64_REG, 3, 10, 0, 0),
    insn(ADD64_IMM, 3, 0, 0, value),
    insn(MOV64_IMM, 4, 0, 0, 0),
    insn(Op.CALL, 0, 0, 0, Helper.MAP_UPDATE_ELEM),
  ];
}

/** Who is running (the socket's owner, as these hooks run in its task), into the value on the stack. */
export function fillValue(o: Offsets, hook: number): Line[] {
  return [
    insn(Op.CALL, 0, 0, 0, Helper.GET_CURRENT_PID_TGID),
    insn(RSH64_IMM, 0, 0, 0, 32),
    insn(STX_W, 10, 0, V + VALUE.TGID, 0),
    insn(Op.CALL, 0, 0, 0, Helper.GET_CURRENT_TASK_BTF),
    insn(MOV64_REG, 9, 0, 0, 0),
    insn(LDX_DW, 1, 9, o.nsproxy, 0), // current->nsproxy->net_ns->ns.inum
    insn(LDX_DW, 1, 1, o.netNs, 0),
    insn(LDX_W, 1, 1, o.netnsInum, 0),
    insn(STX_W, 10, 1, V + VALUE.NETNS, 0),
    insn(LDX_DW, 1, 9, o.groupLeader, 0),
    insn(LDX_DW, 2, 1, o.startTime, 0),
    insn(STX_DW, 10, 2, V + VALUE.START_TIME, 0),
    insn(o.execIdSize === 8 ? LDX_DW : LDX_W, 2, 1, o.execId, 0),
    insn(STX_DW, 10, 2, V + VALUE.EXEC_ID, 0),
    insn(Op.CALL, 0, 0, 0, Helper.GET_CURRENT_CGROUP_ID),
    insn(STX_DW, 10, 0, V + VALUE.CGROUP, 0),
    insn(Op.CALL, 0, 0, 0, Helper.KTIME_GET_NS),
    insn(STX_DW, 10, 0, V + VALUE.WRITTEN, 0),
    insn(MOV64_REG, 1, 10, 0, 0),
    insn(ADD64_IMM, 1, 0, 0, V + VALUE.COMM),
    insn(MOV64_IMM, 2, 0, 0, 16),
    insn(Op.CALL, 0, 0, 0, Helper.GET_CURRENT_COMM),
    insn(ST_W, 10, 0, V + VALUE.HOOK, hook),
  ];
}

/** The common end: `out` returns `allow` (a verdict for cgroup programs, ignored by the others). */
export function exit(allow: number): Line[] {
  return [label('out'), insn(MOV64_IMM, 0, 0, 0, allow), insn(Op.EXIT, 0, 0, 0, 0)];
}

/** Fills the value, writes it under the key, and ends. */
export function valueAndUpdate(o: Offsets, hook: number, mapFd: number, allow: number): Line[] {
  return [...fillValue(o, hook), ...update(mapFd, K, V), ...exit(allow)];
}

/** The struct members the programs read, or undefined if one is missing or where it cannot be read. */
export function offsetsOf(btf: Btf): Offsets | undefined {
  const m = (struct: string, member: string) => btf.memberOffset(struct, member);
  const execIdSize = btf.memberSize('task_struct', 'self_exec_id');
  const offsets: Offsets = {
    family: m('sock_common', 'skc_family'),
    rcvSaddr: m('sock_common', 'skc_rcv_saddr'),
    daddr: m('sock_common', 'skc_daddr'),
    num: m('sock_common', 'skc_num'),
    dport: m('sock_common', 'skc_dport'),
    v6RcvSaddr: m('sock_common', 'skc_v6_rcv_saddr'),
    v6Daddr: m('sock_common', 'skc_v6_daddr'),
    protocol: m('sock', 'sk_protocol'),
    rcvNxt: m('tcp_sock', 'rcv_nxt'),
    bytesReceived: m('tcp_sock', 'bytes_received'),
    nsproxy: m('task_struct', 'nsproxy'),
    netNs: m('nsproxy', 'net_ns'),
    netnsInum:
      m('net', 'ns') < 0 || m('ns_common', 'inum') < 0 ? -1 : m('net', 'ns') + m('ns_common', 'inum'),
    groupLeader: m('task_struct', 'group_leader'),
    startTime: m('task_struct', 'start_boottime'),
    execId: m('task_struct', 'self_exec_id'),
    execIdSize: execIdSize === 4 ? 4 : 8,
  };
  // struct sock starts with its sock_common (sk->__sk_common), which is where the offsets count from.
  if (m('sock', '__sk_common') !== 0) return undefined;
  if ((execIdSize !== 4 && execIdSize !== 8) || btf.memberSize('sock', 'sk_protocol') !== 2) return undefined;
  if (btf.memberSize('tcp_sock', 'rcv_nxt') !== 4 || btf.memberSize('tcp_sock', 'bytes_received') !== 8)
    return undefined;
  const values = Object.entries(offsets)
    .filter(([k]) => k !== 'execIdSize')
    .map(([, v]) => v as number);
  return values.some((v) => v < 0 || v > 0x7fff) ? undefined : offsets;
}
