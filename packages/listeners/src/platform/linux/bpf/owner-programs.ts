import { assemble, insn, jump, label, Op } from './asm';
import {
  AF_INET,
  AF_INET6,
  ctxWords,
  Hook,
  K,
  KEY,
  mappedTest,
  type Offsets,
  ST_B,
  valueAndUpdate,
  zeroStack,
} from './owner-layout';

export { Hook, KEY, type Offsets, VALUE } from './owner-layout';
export { socketIoProgram } from './socket-io-program';

/**
 * The programs that record who owns a connection while the owner is the current task. Each writes
 * KEY -> VALUE into one LRU hash map (owner-layout.ts):
 * - TCP made here: a sock_ops program on the root cgroup, at BPF_SOCK_OPS_TCP_CONNECT_CB, which
 *   tcp_connect() calls in the connecting task with the 4-tuple complete, just before the SYN
 *   leaves (below);
 * - TCP accepted here, and UDP: BTF tracepoint programs on sock:sock_send_length and
 *   sock:sock_recv_length, in the task that sends or receives (socket-io-program.ts);
 * - UDP sockets bound to receive: cgroup sock programs at bind and close (bound-programs.ts).
 * (fentry/fexit on tcp_connect, inet_csk_accept and udp_sendmsg would do the same, where a kernel
 * allows them; cgroup sock_addr programs at UDP4_SENDMSG would see unconnected sends' destinations,
 * but cost a sender a tenth of its rate, most of it the hook's own locking.) Offsets of every
 * kernel struct member come from the running kernel's BTF (see Offsets).
 */

const { MOV64_REG, TO_BE, LDX_W, STX_H } = Op;

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
