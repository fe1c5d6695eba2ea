import { assemble, Helper, insn, jump, type Line, label, loadMap, Op } from './asm';
import {
  AF_INET,
  AF_INET6,
  fillValue,
  Hook,
  JSLT32_IMM,
  K,
  KEY,
  KIND_SOCKET,
  lookup,
  MAPPED_WORD,
  type Offsets,
  ST_B,
  update,
  V,
  VALUE,
  zeroStack,
} from './owner-layout';
import { STORAGE } from './sk-storage';

/**
 * tp_btf/sock_send_length and tp_btf/sock_recv_length(struct sock *sk, int ret, int flags)
 * (include/trace/events/sock.h, Linux 6.4+): after each sock_sendmsg and sock_recvmsg, in the task
 * that sent or received, so the current task holds the socket. ctx[0] is sk, ctx[1] the result.
 * - TCP: the first send or receive of a socket this process did not connect (an accepted one),
 *   recorded with the peer's initial sequence number (rcv_nxt - bytes_received - 1:
 *   bytes_received counts every sequence number after the SYN, a FIN included). Skipped, after
 *   one map lookup, when the record is this process's connect, or this connection's already.
 * - UDP, connected: its 4-tuple is in the socket. Unconnected: a send's destination is not, only
 *   the socket's local address and port, which are what a flow's local end shows; so the record
 *   is the socket's (KIND_SOCKET), and two processes using one port at once (SO_REUSEPORT) are
 *   noted in it (no single owner). Rewritten at most once a second for the same process.
 * Every socket this ran for keeps, in socket-local storage (sk-storage.ts), which process it
 * last recorded and when: a send or receive that would change nothing ends after that one
 * lookup, before any key is built (what keeps a flood of datagrams cheap); its time is in
 * jiffies, which only the storage is compared with.
 */

const {
  MOV64_IMM,
  MOV64_REG,
  ADD32_IMM,
  RSH64_IMM,
  SUB32_REG,
  TO_BE,
  LDX_H,
  LDX_W,
  LDX_DW,
  STX_H,
  STX_W,
  STX_DW,
} = Op;
const SK_STORAGE_GET = 107;
/** bpf_jiffies64: the tick count, a variable read (bpf_ktime_get_ns reads a clock: a third of the program's time). */
const JIFFIES64 = 118;

/** The socket-local storage the programs keep (sk-storage.ts): its map, and what its clock counts in a second. */
export interface SocketStorage {
  fd: number;
  ticksPerSecond: number;
}
const BPF_LOCAL_STORAGE_GET_F_CREATE = 1;

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
 * The local half of the key from the socket in r7 (an unconnected UDP one, a listener): the address
 * it is bound to (zeros for any), keyed as IPv4 when it is a v4-mapped one. Jumps to `out` for
 * other families. `p` prefixes its labels (a program may key twice).
 */
export function localKeyFromSocket(o: Offsets, p = ''): Line[] {
  return [
    insn(LDX_H, 1, 7, o.family, 0),
    jump(Op.JEQ_IMM, 1, AF_INET, `${p}lv4`),
    jump(Op.JNE_IMM, 1, AF_INET6, 'out'),
    insn(LDX_DW, 2, 7, o.v6RcvSaddr, 0),
    jump(Op.JNE_IMM, 2, 0, `${p}lv6`),
    insn(LDX_W, 2, 7, o.v6RcvSaddr + 8, 0),
    jump(Op.JNE32_IMM, 2, MAPPED_WORD, `${p}lv6`),
    label(`${p}lv4`),
    insn(ST_B, 10, 0, K + KEY.FAMILY, 4),
    insn(LDX_W, 1, 7, o.rcvSaddr, 0),
    insn(STX_W, 10, 1, K + KEY.LADDR, 0),
    jump(Op.JA, 0, 0, `${p}lkeyed`),
    label(`${p}lv6`),
    insn(ST_B, 10, 0, K + KEY.FAMILY, 6),
    ...copy16(7, o.v6RcvSaddr, K + KEY.LADDR),
    label(`${p}lkeyed`),
  ];
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

/** How often a UDP record is rewritten for the same process: at most once a second. */
const REWRITE_NS = 1_000_000_000;

/**
 * The record under the key on the stack, if any (else to `missing`): r8 the record, r9 its age in
 * ns, r1 its holder, r0 the current process (tgid), for the caller to compare.
 */
function existingRecord(mapFd: number, missing: string): Line[] {
  return [
    ...lookup(mapFd, K),
    jump(Op.JEQ_IMM, 0, 0, missing),
    insn(MOV64_REG, 8, 0, 0, 0),
    insn(Op.CALL, 0, 0, 0, Helper.KTIME_GET_NS),
    insn(LDX_DW, 1, 8, VALUE.WRITTEN, 0),
    insn(Op.SUB64_REG, 0, 1, 0, 0),
    insn(MOV64_REG, 9, 0, 0, 0),
    insn(Op.CALL, 0, 0, 0, Helper.GET_CURRENT_PID_TGID),
    insn(RSH64_IMM, 0, 0, 0, 32),
    insn(LDX_W, 1, 8, VALUE.TGID, 0),
  ];
}

/**
 * For a connected UDP socket: skip the rest when the map already says this process, written less
 * than a second ago (a lookup costs a fraction of an update); else go on to `fill`.
 */
function unlessFresh(mapFd: number, fill: string): Line[] {
  return [
    ...existingRecord(mapFd, fill),
    { ...insn(Op.JNE_REG, 1, 0, 0, 0), to: fill },
    jump(Op.JLT_IMM, 9, REWRITE_NS, 'mark'),
    label(fill),
  ];
}

/**
 * For an unconnected UDP socket's record: the same, and when another process's record is less
 * than a second old, two processes use the port at once (SO_REUSEPORT): the record says when, in
 * VALUE.SHARED (ktime >> 30, units of about a second), which a rewrite keeps; the reader gives no
 * single owner for a port shared in the last seconds.
 */
function unlessFreshSocket(mapFd: number): Line[] {
  return [
    ...existingRecord(mapFd, 'sfill'),
    insn(LDX_W, 2, 8, VALUE.SHARED, 0),
    insn(STX_W, 10, 2, V + VALUE.SHARED, 0),
    { ...insn(Op.JEQ_REG, 1, 0, 0, 0), to: 'ssame' },
    jump(Op.JLT_IMM, 9, REWRITE_NS, 'sshared'),
    jump(Op.JA, 0, 0, 'sfill'),
    label('ssame'),
    jump(Op.JLT_IMM, 9, REWRITE_NS, 'mark'),
    jump(Op.JA, 0, 0, 'sfill'),
    label('sshared'),
    insn(Op.CALL, 0, 0, 0, Helper.KTIME_GET_NS),
    insn(RSH64_IMM, 0, 0, 0, 30),
    insn(STX_W, 10, 0, V + VALUE.SHARED, 0),
    label('sfill'),
  ];
}

export function socketIoProgram(
  o: Offsets,
  mapFd: number,
  direction: 'send' | 'recv',
  storage?: SocketStorage,
): Buffer {
  const udpHook = direction === 'send' ? Hook.UDP_SEND : Hook.UDP_RECV;
  return assemble([
    insn(LDX_DW, 7, 1, 0, 0),
    insn(LDX_DW, 6, 1, 8, 0),
    insn(LDX_H, 2, 7, o.protocol, 0),
    jump(Op.JEQ_IMM, 2, 6, 'protocol-ok'),
    jump(Op.JNE_IMM, 2, 17, 'out'),
    jump(JSLT32_IMM, 6, 1, 'out'), // UDP: nothing sent or received
    label('protocol-ok'),
    ...storageCheck(o, storage),
    insn(LDX_H, 2, 7, o.protocol, 0),
    jump(Op.JEQ_IMM, 2, 6, 'tcp'),
    insn(LDX_H, 2, 7, o.dport, 0),
    jump(Op.JEQ_IMM, 2, 0, 'unconnected'),
    ...zeroStack(),
    insn(ST_B, 10, 0, K + KEY.PROTOCOL, 17),
    ...keyFromSocket(o, 'u'),
    insn(LDX_H, 1, 7, o.num, 0),
    insn(STX_H, 10, 1, K + KEY.LPORT, 0),
    ...unlessFresh(mapFd, 'ufill'),
    ...fillValue(o, Hook.UDP_CONNECTED_SEND),
    ...update(mapFd, K, V),
    jump(Op.JA, 0, 0, 'mark'),

    label('unconnected'),
    ...zeroStack(),
    insn(ST_B, 10, 0, K + KEY.PROTOCOL, 17),
    insn(ST_B, 10, 0, K + KEY.KIND, KIND_SOCKET),
    ...localKeyFromSocket(o),
    insn(LDX_H, 1, 7, o.num, 0),
    insn(STX_H, 10, 1, K + KEY.LPORT, 0),
    ...unlessFreshSocket(mapFd),
    ...fillValue(o, udpHook),
    ...update(mapFd, K, V),
    jump(Op.JA, 0, 0, 'mark'),

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
    jump(Op.JEQ_IMM, 1, Hook.CONNECT, 'mark'), // this process connected it
    insn(LDX_W, 1, 8, VALUE.SYN, 0),
    insn(LDX_W, 2, 10, V + VALUE.SYN, 0),
    { ...insn(Op.JEQ_REG, 1, 2, 0, 0), to: 'mark' }, // this connection, recorded already
    label('tfill'),
    ...fillValue(o, Hook.ACCEPT),
    ...update(mapFd, K, V),

    label('mark'),
    ...storageMark(storage),
    label('out'),
    insn(MOV64_IMM, 0, 0, 0, 0),
    insn(Op.EXIT, 0, 0, 0, 0),
  ]);
}

/**
 * The socket's storage (created on first use) into r6, or 0 when there is none; when it already
 * names this process (TCP), or this process less than a second ago (UDP), the program ends.
 */
function storageCheck(o: Offsets, storage: SocketStorage | undefined): Line[] {
  if (storage === undefined) return [insn(MOV64_IMM, 6, 0, 0, 0)];
  return [
    ...loadMap(1, storage.fd),
    insn(MOV64_REG, 2, 7, 0, 0),
    insn(MOV64_IMM, 3, 0, 0, 0),
    insn(MOV64_IMM, 4, 0, 0, BPF_LOCAL_STORAGE_GET_F_CREATE),
    insn(Op.CALL, 0, 0, 0, SK_STORAGE_GET),
    insn(MOV64_REG, 6, 0, 0, 0),
    jump(Op.JEQ_IMM, 6, 0, 'stored'),
    insn(Op.CALL, 0, 0, 0, Helper.GET_CURRENT_PID_TGID),
    insn(RSH64_IMM, 0, 0, 0, 32),
    insn(LDX_W, 1, 6, STORAGE.TGID, 0),
    { ...insn(Op.JNE_REG, 1, 0, 0, 0), to: 'stored' },
    insn(LDX_H, 2, 7, o.protocol, 0),
    jump(Op.JEQ_IMM, 2, 6, 'out'), // TCP: one record per socket and process
    insn(Op.CALL, 0, 0, 0, JIFFIES64),
    insn(LDX_DW, 1, 6, STORAGE.WRITTEN, 0),
    insn(Op.SUB64_REG, 0, 1, 0, 0),
    jump(Op.JLT_IMM, 0, storage.ticksPerSecond, 'out'),
    label('stored'),
  ];
}

/** Notes in the socket's storage (r6, when there is one) that this process is recorded now. */
function storageMark(storage: SocketStorage | undefined): Line[] {
  if (storage === undefined) return [];
  return [
    jump(Op.JEQ_IMM, 6, 0, 'out'),
    insn(Op.CALL, 0, 0, 0, Helper.GET_CURRENT_PID_TGID),
    insn(RSH64_IMM, 0, 0, 0, 32),
    insn(STX_W, 6, 0, STORAGE.TGID, 0),
    insn(Op.CALL, 0, 0, 0, JIFFIES64),
    insn(STX_DW, 6, 0, STORAGE.WRITTEN, 0),
  ];
}
