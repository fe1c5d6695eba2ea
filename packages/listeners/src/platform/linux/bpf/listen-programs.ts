import { assemble, Helper, insn, jump, type Line, label, loadMap, Op } from './asm';
import type { Btf } from './btf';
import {
  exit,
  fillValue,
  Hook,
  K,
  K2,
  KEY,
  lookup,
  type Offsets,
  remove,
  ST_B,
  ST_W,
  update,
  V,
  VALUE,
  zeroStack,
} from './owner-layout';
import { localKeyFromSocket } from './socket-io-program';

/**
 * Who listens on a TCP port, known before any connection to it is accepted: a connection whose
 * server is slow to accept (or never does) is still named from its SYN on, by the one process
 * that holds the listener. Two programs:
 *
 * - tp_btf/inet_sock_set_state(const struct sock *sk, int oldstate, int newstate)
 *   (include/trace/events/sock.h): inet_csk_listen_start() moves a socket to TCP_LISTEN inside the
 *   listen() call, so in the listening task, which is recorded under (TCP, its address, its port,
 *   no remote end) in a hash map of listeners (not an LRU: a listener's record must not go while
 *   the socket listens). Its move from TCP_LISTEN to TCP_CLOSE (close, shutdown, the process's
 *   exit) removes it; not the moves of the sockets it accepts, which are cloned from it in
 *   TCP_LISTEN and traced as they leave it (inet_csk_clone_lock sets TCP_SYN_RECV).
 *   Several sockets on one port (SO_REUSEPORT) are counted, and when they are not all one
 *   process's the record names nobody (holder 0) until all are closed.
 * - tp_btf/sched_process_fork(struct task_struct *parent, struct task_struct *child): a process
 *   that listens is noted in a second map (tgid -> 0); a fork of it (not a new thread) writes the
 *   time there, since the child holds the parent's listeners too and either may accept. The
 *   reader takes a listener's holder only when it has not forked since it listened.
 *
 * A socket handed to another process over a Unix socket (SCM_RIGHTS) is not seen here: the
 * attributor checks each connection named this way against the kernel's record of the accepted
 * socket when its server first reads or writes (socket-io-program.ts), and the reader stops
 * trusting a listener that did not match.
 */

/** struct sock's TCP states (include/net/tcp_states.h). */
const TCP_CLOSE = 7;
const TCP_LISTEN = 10;
const BPF_NOEXIST = 1;

/** Where the listen program reads what struct sock and inet_sock do not share with Offsets. */
export interface ListenOffsets {
  /** inet_sock.inet_sport (__be16), from a tcp_sock (whose first member is the inet_sock). */
  sport: number;
  /** sock_common.skc_ipv6only, a 1-bit bitfield: its byte and bit. */
  ipv6OnlyByte: number;
  ipv6OnlyBit: number;
  /** task_struct.tgid (pid_t). */
  tgid: number;
}

/**
 * The members the listen programs read, or undefined when the BTF lacks one. inet_sport, not
 * skc_num: inet_put_port() zeroes skc_num before a listener's move to TCP_CLOSE is traced, for a
 * port the kernel picked, while inet_sport keeps the port (both are set when the socket is bound).
 */
export function listenOffsetsOf(btf: Btf): ListenOffsets | undefined {
  const sport = btf.memberOffset('inet_sock', 'inet_sport');
  const ipv6Only = btf.memberBits('sock_common', 'skc_ipv6only');
  const tgid = btf.memberOffset('task_struct', 'tgid');
  if (sport < 0 || tgid < 0 || !ipv6Only || ipv6Only.width !== 1) return undefined;
  if (
    btf.memberOffset('tcp_sock', 'inet_conn') !== 0 ||
    btf.memberOffset('inet_connection_sock', 'icsk_inet') !== 0
  )
    return undefined;
  return { sport, ipv6OnlyByte: ipv6Only.bit >> 3, ipv6OnlyBit: ipv6Only.bit & 7, tgid };
}

const {
  MOV64_IMM,
  MOV64_REG,
  ADD64_IMM,
  ADD32_IMM,
  RSH64_IMM,
  AND64_IMM,
  TO_BE,
  LDX_B,
  LDX_H,
  LDX_W,
  LDX_DW,
} = Op;
const { STX_H, STX_W, STX_DW, ST_DW } = Op;

/** The listener's key from the socket in r7: TCP, its address (localKeyFromSocket), inet_sport in host order. */
function listenerKey(o: Offsets, l: ListenOffsets, p: string): Line[] {
  return [
    ...zeroStack(),
    insn(ST_B, 10, 0, K + KEY.PROTOCOL, 6),
    ...localKeyFromSocket(o, p),
    insn(MOV64_REG, 1, 7, 0, 0),
    insn(Op.CALL, 0, 0, 0, Helper.SKC_TO_TCP_SOCK),
    jump(Op.JEQ_IMM, 0, 0, 'out'),
    insn(LDX_H, 1, 0, l.sport, 0),
    insn(TO_BE, 1, 0, 0, 16),
    jump(Op.JEQ_IMM, 1, 0, 'out'), // not bound yet (listen() binds it after this)
    insn(STX_H, 10, 1, K + KEY.LPORT, 0),
  ];
}

/** Builds the listen program: `listenersFd` the listeners' map, `holdersFd` the tgid -> fork time map. */
export function listenProgram(o: Offsets, l: ListenOffsets, listenersFd: number, holdersFd: number): Buffer {
  return assemble([
    insn(MOV64_REG, 6, 1, 0, 0),
    insn(LDX_DW, 7, 6, 0, 0), // sk
    insn(LDX_H, 1, 7, o.protocol, 0),
    jump(Op.JNE_IMM, 1, 6, 'out'),
    insn(LDX_DW, 8, 6, 8, 0), // oldstate
    insn(LDX_DW, 9, 6, 16, 0), // newstate
    jump(Op.JEQ_IMM, 8, TCP_LISTEN, 'unlisten'),
    jump(Op.JNE_IMM, 9, TCP_LISTEN, 'out'),

    ...listenerKey(o, l, 'l'),
    ...lookup(listenersFd, K),
    jump(Op.JEQ_IMM, 0, 0, 'new'),
    insn(MOV64_REG, 8, 0, 0, 0), // sockets listen there already: one more
    insn(LDX_W, 1, 8, VALUE.BOUND, 0),
    insn(ADD32_IMM, 1, 0, 0, 1),
    insn(STX_W, 8, 1, VALUE.BOUND, 0),
    insn(Op.CALL, 0, 0, 0, Helper.GET_CURRENT_PID_TGID),
    insn(RSH64_IMM, 0, 0, 0, 32),
    insn(LDX_W, 1, 8, VALUE.TGID, 0),
    { ...insn(Op.JEQ_REG, 1, 0, 0, 0), to: 'holder' },
    insn(ST_W, 8, 0, VALUE.TGID, 0), // two processes listen there: no single owner
    jump(Op.JA, 0, 0, 'holder'),
    label('new'),
    insn(ST_W, 10, 0, V + VALUE.BOUND, 1),
    ...fillValue(o, Hook.LISTEN),
    insn(LDX_B, 1, 7, l.ipv6OnlyByte, 0),
    insn(RSH64_IMM, 1, 0, 0, l.ipv6OnlyBit),
    insn(AND64_IMM, 1, 0, 0, 1),
    jump(Op.JEQ_IMM, 1, 0, 'write'),
    insn(ST_W, 10, 0, V + VALUE.HOOK, Hook.LISTEN_V6_ONLY), // serves no IPv4 peer
    label('write'),
    ...update(listenersFd, K, V),

    label('holder'), // holders[tgid] = 0 unless it is there (its fork time stays)
    insn(Op.CALL, 0, 0, 0, Helper.GET_CURRENT_PID_TGID),
    insn(RSH64_IMM, 0, 0, 0, 32),
    insn(STX_W, 10, 0, K2, 0),
    insn(ST_DW, 10, 0, K2 + 8, 0),
    ...loadMap(1, holdersFd),
    insn(MOV64_REG, 2, 10, 0, 0),
    insn(ADD64_IMM, 2, 0, 0, K2),
    insn(MOV64_REG, 3, 10, 0, 0),
    insn(ADD64_IMM, 3, 0, 0, K2 + 8),
    insn(MOV64_IMM, 4, 0, 0, BPF_NOEXIST),
    insn(Op.CALL, 0, 0, 0, Helper.MAP_UPDATE_ELEM),
    jump(Op.JA, 0, 0, 'out'),

    label('unlisten'), // to TCP_CLOSE only: an accepted socket is cloned from its listener (LISTEN -> SYN_RECV)
    jump(Op.JNE_IMM, 9, TCP_CLOSE, 'out'),
    ...listenerKey(o, l, 'u'),
    ...lookup(listenersFd, K),
    jump(Op.JEQ_IMM, 0, 0, 'out'),
    insn(MOV64_REG, 8, 0, 0, 0),
    insn(LDX_W, 1, 8, VALUE.BOUND, 0),
    jump(Op.JGT_IMM, 1, 1, 'fewer'),
    ...remove(listenersFd, K),
    jump(Op.JA, 0, 0, 'out'),
    label('fewer'),
    insn(ADD32_IMM, 1, 0, 0, -1),
    insn(STX_W, 8, 1, VALUE.BOUND, 0),
    ...exit(0),
  ]);
}

/** Builds the fork program: a process (not a thread) forked by a listener's holder marks it, with the time. */
export function forkProgram(l: ListenOffsets, holdersFd: number): Buffer {
  return assemble([
    insn(LDX_DW, 6, 1, 8, 0), // child
    insn(Op.CALL, 0, 0, 0, Helper.GET_CURRENT_PID_TGID),
    insn(RSH64_IMM, 0, 0, 0, 32),
    insn(STX_W, 10, 0, K2, 0),
    insn(LDX_W, 1, 6, l.tgid, 0),
    { ...insn(Op.JEQ_REG, 1, 0, 0, 0), to: 'out' }, // a new thread of the same process
    ...lookup(holdersFd, K2),
    jump(Op.JEQ_IMM, 0, 0, 'out'),
    insn(MOV64_REG, 8, 0, 0, 0),
    insn(Op.CALL, 0, 0, 0, Helper.KTIME_GET_NS),
    insn(STX_DW, 8, 0, 0, 0),
    ...exit(0),
  ]);
}
