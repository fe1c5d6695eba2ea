import { assemble, Helper, insn, jump, type Line, label, loadMap, Op } from './asm';

/**
 * The programs that record who owns a connection at the moment the kernel makes it, while the
 * owner is the current task. Each writes KEY -> VALUE into one LRU hash map:
 * - TCP: a sock_ops program on the root cgroup, at BPF_SOCK_OPS_TCP_CONNECT_CB, which tcp_connect()
 *   calls in the connecting task with the 4-tuple complete, just before the SYN leaves;
 * - unconnected UDP: cgroup sock_addr programs at UDP4_SENDMSG / UDP6_SENDMSG (the socket is bound
 *   by then: inet_sendmsg autobinds first), with the destination the program asked for;
 * - connected UDP: a BTF tracepoint program on sock:sock_send_length, after each send.
 * (fentry/fexit on tcp_connect and udp_sendmsg would do the same, where a kernel allows them.)
 * Offsets of every kernel struct member come from the running kernel's BTF (see Offsets).
 */

/**
 * The map key, 40 bytes: protocol (u8: 6, 17), family (u8: 4, 6; v4-mapped IPv6 is 4), local and
 * remote port (u16, host order), 2 bytes of padding, local and remote address (16 bytes each;
 * IPv4 in the first 4, network order). A local address of zeros is a socket not bound to one
 * (unconnected UDP): the reader then matches any local address.
 */
export const KEY = { SIZE: 40, PROTOCOL: 0, FAMILY: 1, LPORT: 2, RPORT: 4, LADDR: 8, RADDR: 24 } as const;

/**
 * The value, 64 bytes: the holder (tgid), its network namespace (inode number), its thread-group
 * leader's start time (start_boottime: ns since boot, what /proc/PID/stat's starttime counts in
 * clock ticks) and exec count (self_exec_id), its cgroup id, when this was
 * written (bpf_ktime_get_ns, CLOCK_MONOTONIC), its comm (16 bytes), and which hook wrote it.
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
} as const;

export const Hook = { CONNECT: 1, ACCEPT: 2, UDP_SEND: 3, UDP_CONNECTED_SEND: 4 } as const;

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
  /** task_struct.nsproxy, nsproxy.net_ns, and net->ns.inum. */
  nsproxy: number;
  netNs: number;
  netnsInum: number;
  groupLeader: number;
  startTime: number;
  execId: number;
  execIdSize: 4 | 8;
}

const AF_INET = 2;
const AF_INET6 = 10;
/** Bytes 8..11 of a v4-mapped IPv6 address (::ffff:a.b.c.d) read as a little-endian u32. */
const MAPPED_WORD = 0xffff0000;

// Stack layout (r10 is the frame pointer): the key, the value, and room for a sockaddr_in6.
const K = -KEY.SIZE;
const V = K - VALUE.SIZE;
const S = V - 32;

const {
  MOV64_IMM,
  MOV64_REG,
  ADD64_IMM,
  RSH64_IMM,
  TO_BE,
  LDX_H,
  LDX_W,
  LDX_DW,
  STX_H,
  STX_W,
  STX_DW,
  ST_DW,
} = Op;
const ST_B = 0x72;
const JSLT32_IMM = 0xc6;
const ST_W = 0x62;

/** Zeroes the key and the value (the verifier wants every byte a helper reads written first). */
function zeroStack(): Line[] {
  const out: Line[] = [];
  for (let at = V; at < 0; at += 8) out.push(insn(ST_DW, 10, 0, at, 0));
  return out;
}

/** Copies 16 bytes from r`base` + `from` to the stack at `to`, through r1. */
function copy16(base: number, from: number, to: number): Line[] {
  return [
    insn(LDX_DW, 1, base, from, 0),
    insn(STX_DW, 10, 1, to, 0),
    insn(LDX_DW, 1, base, from + 8, 0),
    insn(STX_DW, 10, 1, to + 8, 0),
  ];
}

/** The big-endian u16 at r`base` + `from`, in host order, stored at `to` (ntohs). */
function port(base: number, from: number, to: number): Line[] {
  return [insn(LDX_H, 1, base, from, 0), insn(TO_BE, 1, 0, 0, 16), insn(STX_H, 10, 1, to, 0)];
}

/**
 * The key from the socket in r7 alone (a TCP socket, a connected UDP one): addresses, the local
 * port (skc_num, host order) and the remote one (skc_dport, network order). An IPv6 socket whose
 * peer is v4-mapped is keyed as IPv4 (its IPv4 fields are set too). Jumps to `out` for other families.
 */
function keyFromSocket(o: Offsets): Line[] {
  return [
    insn(LDX_H, 1, 7, o.family, 0),
    jump(Op.JEQ_IMM, 1, AF_INET, 'v4'),
    jump(Op.JNE_IMM, 1, AF_INET6, 'out'),
    insn(LDX_DW, 2, 7, o.v6Daddr, 0),
    jump(Op.JNE_IMM, 2, 0, 'v6'),
    insn(LDX_W, 2, 7, o.v6Daddr + 8, 0),
    jump(Op.JNE32_IMM, 2, MAPPED_WORD, 'v6'),
    label('v4'),
    insn(ST_B, 10, 0, K + KEY.FAMILY, 4),
    insn(LDX_W, 1, 7, o.rcvSaddr, 0),
    insn(STX_W, 10, 1, K + KEY.LADDR, 0),
    insn(LDX_W, 1, 7, o.daddr, 0),
    insn(STX_W, 10, 1, K + KEY.RADDR, 0),
    jump(Op.JA, 0, 0, 'ports'),
    label('v6'),
    insn(ST_B, 10, 0, K + KEY.FAMILY, 6),
    ...copy16(7, o.v6RcvSaddr, K + KEY.LADDR),
    ...copy16(7, o.v6Daddr, K + KEY.RADDR),
    label('ports'),
    ...port(7, o.dport, K + KEY.RPORT),
  ];
}

/** How often a UDP 5-tuple's record is rewritten for the same sender: at most once a second. */
const REWRITE_NS = 1_000_000_000;

/**
 * For a send: skip the rest when the map already says this sender, written less than a second ago
 * (a lookup costs a fraction of an update, and a UDP flood sends on one 5-tuple again and again).
 */
function unlessFresh(mapFd: number): Line[] {
  return [
    ...loadMap(1, mapFd),
    insn(MOV64_REG, 2, 10, 0, 0),
    insn(ADD64_IMM, 2, 0, 0, K),
    insn(Op.CALL, 0, 0, 0, Helper.MAP_LOOKUP_ELEM),
    jump(Op.JEQ_IMM, 0, 0, 'fill'),
    insn(MOV64_REG, 8, 0, 0, 0), // the existing value
    insn(Op.CALL, 0, 0, 0, Helper.GET_CURRENT_PID_TGID),
    insn(RSH64_IMM, 0, 0, 0, 32),
    insn(LDX_W, 1, 8, VALUE.TGID, 0),
    { ...insn(Op.JNE_REG, 1, 0, 0, 0), to: 'fill' }, // another sender: write it
    insn(Op.CALL, 0, 0, 0, Helper.KTIME_GET_NS),
    insn(LDX_DW, 1, 8, VALUE.WRITTEN, 0),
    insn(Op.SUB64_REG, 0, 1, 0, 0),
    jump(Op.JLT_IMM, 0, REWRITE_NS, 'out'),
    label('fill'),
  ];
}

/** Who is running (the socket's owner, as these hooks run in its task), then the map update. */
function valueAndUpdate(o: Offsets, hook: number, mapFd: number, allow: number): Line[] {
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
    ...loadMap(1, mapFd),
    insn(MOV64_REG, 2, 10, 0, 0),
    insn(ADD64_IMM, 2, 0, 0, K),
    insn(MOV64_REG, 3, 10, 0, 0),
    insn(ADD64_IMM, 3, 0, 0, V),
    insn(MOV64_IMM, 4, 0, 0, 0), // BPF_ANY: a newer connection on the same 5-tuple replaces the older
    insn(Op.CALL, 0, 0, 0, Helper.MAP_UPDATE_ELEM),
    label('out'),
    insn(MOV64_IMM, 0, 0, 0, allow),
    insn(Op.EXIT, 0, 0, 0, 0),
  ];
}

/** struct bpf_sock_ops (include/uapi/linux/bpf.h): the fields read, each a __u32. */
const SockOps = {
  OP: 0,
  FAMILY: 20,
  REMOTE_IP4: 24,
  LOCAL_IP4: 28,
  REMOTE_IP6: 32,
  LOCAL_IP6: 48,
  /** The port in network order in the high half: bswap32 gives it in host order. */
  REMOTE_PORT: 64,
  LOCAL_PORT: 68,
} as const;
const BPF_SOCK_OPS_TCP_CONNECT_CB = 3;

/** Copies `words` u32 context fields from `from` to the stack at `to` (context reads must be u32). */
function ctxWords(from: number, to: number, words: number): Line[] {
  const out: Line[] = [];
  for (let i = 0; i < words; i++)
    out.push(insn(LDX_W, 1, 6, from + i * 4, 0), insn(STX_W, 10, 1, to + i * 4, 0));
  return out;
}

/** The v4-mapped test on the IPv6 address of 4 context words at `from`: jumps to `notMapped` unless ::ffff:a.b.c.d. */
function mappedTest(from: number, notMapped: string): Line[] {
  return [
    insn(LDX_W, 1, 6, from, 0),
    jump(Op.JNE_IMM, 1, 0, notMapped),
    insn(LDX_W, 1, 6, from + 4, 0),
    jump(Op.JNE_IMM, 1, 0, notMapped),
    insn(LDX_W, 1, 6, from + 8, 0),
    jump(Op.JNE32_IMM, 1, MAPPED_WORD, notMapped),
  ];
}

/**
 * sock_ops on the root cgroup: at BPF_SOCK_OPS_TCP_CONNECT_CB, key the connection from the
 * context (its IPv4 or IPv6 addresses; an IPv6 socket to a v4-mapped peer keyed as IPv4).
 * Returns 1 (sock_ops programs answer through `reply`; the return value is not a verdict).
 */
export function connectProgram(o: Offsets, mapFd: number): Buffer {
  return assemble([
    insn(MOV64_REG, 6, 1, 0, 0),
    insn(LDX_W, 1, 6, SockOps.OP, 0),
    jump(Op.JNE_IMM, 1, BPF_SOCK_OPS_TCP_CONNECT_CB, 'out'),
    ...zeroStack(),
    insn(ST_B, 10, 0, K + KEY.PROTOCOL, 6),
    insn(LDX_W, 1, 6, SockOps.FAMILY, 0),
    jump(Op.JEQ_IMM, 1, AF_INET, 'v4'),
    jump(Op.JNE_IMM, 1, AF_INET6, 'out'),
    ...mappedTest(SockOps.REMOTE_IP6, 'v6'),
    insn(ST_B, 10, 0, K + KEY.FAMILY, 4),
    ...ctxWords(SockOps.LOCAL_IP6 + 12, K + KEY.LADDR, 1),
    ...ctxWords(SockOps.REMOTE_IP6 + 12, K + KEY.RADDR, 1),
    jump(Op.JA, 0, 0, 'ports'),
    label('v4'),
    insn(ST_B, 10, 0, K + KEY.FAMILY, 4),
    ...ctxWords(SockOps.LOCAL_IP4, K + KEY.LADDR, 1),
    ...ctxWords(SockOps.REMOTE_IP4, K + KEY.RADDR, 1),
    jump(Op.JA, 0, 0, 'ports'),
    label('v6'),
    insn(ST_B, 10, 0, K + KEY.FAMILY, 6),
    ...ctxWords(SockOps.LOCAL_IP6, K + KEY.LADDR, 4),
    ...ctxWords(SockOps.REMOTE_IP6, K + KEY.RADDR, 4),
    label('ports'),
    insn(LDX_W, 1, 6, SockOps.LOCAL_PORT, 0),
    insn(STX_H, 10, 1, K + KEY.LPORT, 0),
    insn(LDX_W, 1, 6, SockOps.REMOTE_PORT, 0),
    insn(TO_BE, 1, 0, 0, 32),
    insn(STX_H, 10, 1, K + KEY.RPORT, 0),
    ...valueAndUpdate(o, Hook.CONNECT, mapFd, 1),
  ]);
}

/** struct bpf_sock_addr and struct bpf_sock (include/uapi/linux/bpf.h): the fields read. */
const SockAddr = { USER_IP4: 4, USER_IP6: 8, USER_PORT: 24, SK: 64 } as const;
const BpfSock = { SRC_IP4: 24, SRC_IP6: 28, SRC_PORT: 44 } as const;

/**
 * cgroup sock_addr at UDP4_SENDMSG or UDP6_SENDMSG (an unconnected send): the destination the
 * program gave, the socket's source port (bound by now) and address (zeros when unbound: the reader
 * matches any). Returns 1: the send is allowed; a 0 here would refuse every such send.
 */
export function udpSendProgram(o: Offsets, mapFd: number, family: 4 | 6): Buffer {
  const lines: Line[] = [
    insn(MOV64_REG, 6, 1, 0, 0),
    ...zeroStack(),
    insn(ST_B, 10, 0, K + KEY.PROTOCOL, 17),
  ];
  if (family === 4) {
    lines.push(
      insn(ST_B, 10, 0, K + KEY.FAMILY, 4),
      ...ctxWords(SockAddr.USER_IP4, K + KEY.RADDR, 1),
      insn(LDX_DW, 7, 6, SockAddr.SK, 0),
      jump(Op.JEQ_IMM, 7, 0, 'out'),
      insn(LDX_W, 1, 7, BpfSock.SRC_IP4, 0),
      insn(STX_W, 10, 1, K + KEY.LADDR, 0),
    );
  } else {
    lines.push(
      ...mappedTest(SockAddr.USER_IP6, 'v6'),
      insn(ST_B, 10, 0, K + KEY.FAMILY, 4),
      ...ctxWords(SockAddr.USER_IP6 + 12, K + KEY.RADDR, 1),
      insn(LDX_DW, 7, 6, SockAddr.SK, 0),
      jump(Op.JEQ_IMM, 7, 0, 'out'),
      insn(LDX_W, 1, 7, BpfSock.SRC_IP6 + 12, 0),
      insn(STX_W, 10, 1, K + KEY.LADDR, 0),
      jump(Op.JA, 0, 0, 'port'),
      label('v6'),
      insn(ST_B, 10, 0, K + KEY.FAMILY, 6),
      ...ctxWords(SockAddr.USER_IP6, K + KEY.RADDR, 4),
      insn(LDX_DW, 7, 6, SockAddr.SK, 0),
      jump(Op.JEQ_IMM, 7, 0, 'out'),
    );
    for (let i = 0; i < 4; i++) {
      lines.push(insn(LDX_W, 1, 7, BpfSock.SRC_IP6 + i * 4, 0), insn(STX_W, 10, 1, K + KEY.LADDR + i * 4, 0));
    }
    lines.push(label('port'));
  }
  lines.push(
    insn(LDX_W, 1, 6, SockAddr.USER_PORT, 0), // sin_port as it was given: network order
    insn(TO_BE, 1, 0, 0, 16),
    insn(STX_H, 10, 1, K + KEY.RPORT, 0),
    insn(LDX_W, 1, 7, BpfSock.SRC_PORT, 0), // host order
    insn(STX_H, 10, 1, K + KEY.LPORT, 0),
    ...unlessFresh(mapFd),
    ...valueAndUpdate(o, Hook.UDP_SEND, mapFd, 1),
  );
  return assemble(lines);
}

/**
 * tp_btf/sock_send_length(struct sock *sk, int ret, int flags): after a send on a connected UDP
 * socket (its 4-tuple is in the socket). ctx[0] is sk, ctx[1] the result.
 */
export function connectedUdpProgram(o: Offsets, mapFd: number): Buffer {
  return assemble([
    insn(LDX_DW, 7, 1, 0, 0),
    insn(LDX_DW, 2, 1, 8, 0),
    jump(JSLT32_IMM, 2, 1, 'out'), // nothing sent
    insn(LDX_H, 2, 7, o.protocol, 0),
    jump(Op.JNE_IMM, 2, 17, 'out'),
    insn(LDX_H, 2, 7, o.dport, 0),
    jump(Op.JEQ_IMM, 2, 0, 'out'), // unconnected: the sock_addr programs saw it
    ...zeroStack(),
    insn(ST_B, 10, 0, K + KEY.PROTOCOL, 17),
    ...keyFromSocket(o),
    insn(LDX_H, 1, 7, o.num, 0),
    insn(STX_H, 10, 1, K + KEY.LPORT, 0),
    ...unlessFresh(mapFd),
    ...valueAndUpdate(o, Hook.UDP_CONNECTED_SEND, mapFd, 0),
  ]);
}
