import { assemble, Helper, insn, jump, type Line, label, Op } from './asm';
import {
  AF_INET,
  AF_INET6,
  ctxWords,
  exit,
  fillValue,
  Hook,
  JSLT32_IMM,
  K,
  KEY,
  lookup,
  MAPPED_WORD,
  mappedTest,
  type Offsets,
  ST_B,
  update,
  V,
  VALUE,
  valueAndUpdate,
  zeroStack,
} from './owner-layout';

export { Hook, KEY, type Offsets, VALUE } from './owner-layout';

/**
 * The programs that record who owns a connection while the owner is the current task. Each writes
 * KEY -> VALUE into one LRU hash map (owner-layout.ts):
 * - TCP made here: a sock_ops program on the root cgroup, at BPF_SOCK_OPS_TCP_CONNECT_CB, which
 *   tcp_connect() calls in the connecting task with the 4-tuple complete, just before the SYN leaves;
 * - TCP accepted here: BTF tracepoint programs on sock:sock_send_length and sock:sock_recv_length,
 *   at the first send or receive of the accepted socket, which runs in the task that holds it; the
 *   record carries the peer's initial sequence number, so it names that one connection (the SYN the
 *   capture saw) and no earlier one on the same 4-tuple;
 * - unconnected UDP: cgroup sock_addr programs at UDP4_SENDMSG / UDP6_SENDMSG (the socket is bound
 *   by then: inet_sendmsg autobinds first), with the destination the program asked for;
 * - connected UDP: the same tracepoint programs, after each send or receive;
 * - UDP sockets that only receive: bound-programs.ts.
 * (fentry/fexit on tcp_connect, inet_csk_accept and udp_sendmsg would do the same, where a kernel
 * allows them.) Offsets of every kernel struct member come from the running kernel's BTF (see Offsets).
 */

const { MOV64_REG, ADD32_IMM, RSH64_IMM, SUB32_REG, TO_BE, LDX_H, LDX_W, LDX_DW, STX_H, STX_W, STX_DW } = Op;

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
 * peer is v4-mapped is keyed as IPv4 (its IPv4 fields are set too). Jumps to `out` for other
 * families. `p` prefixes its labels (a program may key two ways).
 */
function keyFromSocket(o: Offsets, p: string): Line[] {
  return [
    insn(LDX_H, 1, 7, o.family, 0),
    jump(Op.JEQ_IMM, 1, AF_INET, `${p}v4`),
    jump(Op.JNE_IMM, 1, AF_INET6, 'out'),
    insn(LDX_DW, 2, 7, o.v6Daddr, 0),
    jump(Op.JNE_IMM, 2, 0, `${p}v6`),
    insn(LDX_W, 2, 7, o.v6Daddr + 8, 0),
    jump(Op.JNE32_IMM, 2, MAPPED_WORD, `${p}v6`),
    label(`${p}v4`),
    insn(ST_B, 10, 0, K + KEY.FAMILY, 4),
    insn(LDX_W, 1, 7, o.rcvSaddr, 0),
    insn(STX_W, 10, 1, K + KEY.LADDR, 0),
    insn(LDX_W, 1, 7, o.daddr, 0),
    insn(STX_W, 10, 1, K + KEY.RADDR, 0),
    jump(Op.JA, 0, 0, `${p}ports`),
    label(`${p}v6`),
    insn(ST_B, 10, 0, K + KEY.FAMILY, 6),
    ...copy16(7, o.v6RcvSaddr, K + KEY.LADDR),
    ...copy16(7, o.v6Daddr, K + KEY.RADDR),
    label(`${p}ports`),
    ...port(7, o.dport, K + KEY.RPORT),
  ];
}

/** How often a UDP 5-tuple's record is rewritten for the same sender: at most once a second. */
const REWRITE_NS = 1_000_000_000;

/**
 * For a send: skip the rest when the map already says this sender, written less than a second ago
 * (a lookup costs a fraction of an update, and a UDP flood sends on one 5-tuple again and again).
 */
function unlessFresh(mapFd: number, fill: string): Line[] {
  return [
    ...lookup(mapFd, K),
    jump(Op.JEQ_IMM, 0, 0, fill),
    insn(MOV64_REG, 8, 0, 0, 0), // the existing value
    insn(Op.CALL, 0, 0, 0, Helper.GET_CURRENT_PID_TGID),
    insn(RSH64_IMM, 0, 0, 0, 32),
    insn(LDX_W, 1, 8, VALUE.TGID, 0),
    { ...insn(Op.JNE_REG, 1, 0, 0, 0), to: fill }, // another sender: write it
    insn(Op.CALL, 0, 0, 0, Helper.KTIME_GET_NS),
    insn(LDX_DW, 1, 8, VALUE.WRITTEN, 0),
    insn(Op.SUB64_REG, 0, 1, 0, 0),
    jump(Op.JLT_IMM, 0, REWRITE_NS, 'out'),
    label(fill),
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
    ...unlessFresh(mapFd, 'fill'),
    ...valueAndUpdate(o, Hook.UDP_SEND, mapFd, 1),
  );
  return assemble(lines);
}

/**
 * tp_btf/sock_send_length and tp_btf/sock_recv_length(struct sock *sk, int ret, int flags), loaded
 * once for each: they run in the task that sends or receives (sock_sendmsg, sock_recvmsg).
 * - TCP: the first send or receive of a socket this process did not connect (an accepted one),
 *   with the peer's initial sequence number (rcv_nxt - bytes_received - 1: bytes_received counts
 *   every sequence number after the SYN, a FIN included). Skipped, after one map lookup, when the
 *   record is this process's connect, or this connection's already.
 * - UDP: a connected socket (its 4-tuple is in the socket), after a send or receive of data.
 * ctx[0] is sk, ctx[1] the result.
 */
export function socketIoProgram(o: Offsets, mapFd: number): Buffer {
  return assemble([
    insn(LDX_DW, 7, 1, 0, 0),
    insn(LDX_DW, 6, 1, 8, 0),
    insn(LDX_H, 2, 7, o.protocol, 0),
    jump(Op.JEQ_IMM, 2, 6, 'tcp'),
    jump(Op.JNE_IMM, 2, 17, 'out'),
    jump(JSLT32_IMM, 6, 1, 'out'), // nothing sent or received
    insn(LDX_H, 2, 7, o.dport, 0),
    jump(Op.JEQ_IMM, 2, 0, 'out'), // unconnected: the sock_addr and bind programs see those
    ...zeroStack(),
    insn(ST_B, 10, 0, K + KEY.PROTOCOL, 17),
    ...keyFromSocket(o, 'u'),
    insn(LDX_H, 1, 7, o.num, 0),
    insn(STX_H, 10, 1, K + KEY.LPORT, 0),
    ...unlessFresh(mapFd, 'ufill'),
    ...fillValue(o, Hook.UDP_CONNECTED_SEND),
    ...update(mapFd, K, V),
    jump(Op.JA, 0, 0, 'out'),

    label('tcp'),
    insn(LDX_H, 2, 7, o.dport, 0),
    jump(Op.JEQ_IMM, 2, 0, 'out'), // a listening socket
    ...zeroStack(),
    insn(ST_B, 10, 0, K + KEY.PROTOCOL, 6),
    ...keyFromSocket(o, 't'),
    insn(LDX_H, 1, 7, o.num, 0),
    insn(STX_H, 10, 1, K + KEY.LPORT, 0),
    insn(MOV64_REG, 1, 7, 0, 0),
    insn(Op.CALL, 0, 0, 0, Helper.SKC_TO_TCP_SOCK),
    jump(Op.JEQ_IMM, 0, 0, 'out'),
    insn(LDX_W, 1, 0, o.rcvNxt, 0),
    insn(LDX_DW, 2, 0, o.bytesReceived, 0),
    insn(SUB32_REG, 1, 2, 0, 0),
    insn(ADD32_IMM, 1, 0, 0, -1),
    insn(STX_W, 10, 1, V + VALUE.SYN, 0),
    ...lookup(mapFd, K),
    jump(Op.JEQ_IMM, 0, 0, 'tfill'),
    insn(MOV64_REG, 8, 0, 0, 0), // the existing record
    insn(Op.CALL, 0, 0, 0, Helper.GET_CURRENT_PID_TGID),
    insn(RSH64_IMM, 0, 0, 0, 32),
    insn(LDX_W, 1, 8, VALUE.TGID, 0),
    { ...insn(Op.JNE_REG, 1, 0, 0, 0), to: 'tfill' }, // another process's: this one holds it now
    insn(LDX_W, 1, 8, VALUE.HOOK, 0),
    jump(Op.JEQ_IMM, 1, Hook.CONNECT, 'out'), // this process connected it
    insn(LDX_W, 1, 8, VALUE.SYN, 0),
    insn(LDX_W, 2, 10, V + VALUE.SYN, 0),
    { ...insn(Op.JEQ_REG, 1, 2, 0, 0), to: 'out' }, // this connection, recorded already
    label('tfill'),
    ...fillValue(o, Hook.ACCEPT),
    ...update(mapFd, K, V),
    ...exit(0),
  ]);
}
