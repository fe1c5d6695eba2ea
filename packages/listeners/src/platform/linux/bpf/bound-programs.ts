import { assemble, Helper, insn, jump, type Line, label, Op } from './asm';
import {
  COOKIE_KEY,
  ctxWords,
  exit,
  fillValue,
  Hook,
  K,
  K2,
  KEY,
  lookup,
  mappedTest,
  type Offsets,
  remove,
  ST_B,
  ST_W,
  update,
  V,
  VALUE,
  zeroCookieKey,
  zeroStack,
} from './owner-layout';

/**
 * UDP sockets that only receive (a DNS or syslog server, a discovery responder) send nothing the
 * send hooks could see, so their owner is recorded when they bind: a cgroup sock program at
 * INET4_POST_BIND / INET6_POST_BIND runs in the binding task with the address and port bound.
 * The record lives as long as the socket: a program at INET_SOCK_RELEASE removes it, found
 * through the socket's cookie (bpf_get_socket_cookie), which the bind program keys the bind's key
 * by. Sockets bound to one port by more than one process (SO_REUSEPORT) have no single owner:
 * their record's holder is 0 until all are closed, and the reader gives no answer for it.
 */

/** struct bpf_sock (include/uapi/linux/bpf.h): the fields read, each a __u32. */
const BpfSock = { PROTOCOL: 12, SRC_IP4: 24, SRC_IP6: 28, SRC_PORT: 44 } as const;

const { MOV64_REG, ADD32_IMM, RSH64_IMM, LDX_W, LDX_DW, STX_W, STX_DW } = Op;

/** Only UDP sockets: r6 is the context; jumps to `out` for others. */
function udpOnly(): Line[] {
  return [
    insn(MOV64_REG, 6, 1, 0, 0),
    insn(LDX_W, 1, 6, BpfSock.PROTOCOL, 0),
    jump(Op.JNE_IMM, 1, 17, 'out'),
  ];
}

/** The cookie key of the socket in the context: COOKIE_KEY, then the u64 cookie. */
function cookieKey(): Line[] {
  return [
    ...zeroCookieKey(),
    insn(MOV64_REG, 1, 6, 0, 0),
    insn(Op.CALL, 0, 0, 0, Helper.GET_SOCKET_COOKIE),
    insn(STX_DW, 10, 0, K2 + KEY.LADDR, 0),
    insn(ST_B, 10, 0, K2 + KEY.PROTOCOL, COOKIE_KEY),
  ];
}

/** Copies the 40-byte key at r`from` (a map value) or the stack to the stack at `to`, 8 bytes at a time. */
function copyKey(from: number, fromOffset: number, to: number): Line[] {
  const out: Line[] = [];
  for (let at = 0; at < KEY.SIZE; at += 8)
    out.push(insn(LDX_DW, 1, from, fromOffset + at, 0), insn(STX_DW, 10, 1, to + at, 0));
  return out;
}

/**
 * cgroup sock at INET4_POST_BIND or INET6_POST_BIND: records the binder of a UDP socket under
 * (UDP, its address, its port, no remote end), or counts one more socket there (and, when another
 * process binds it too, says there is no single owner). Returns 1: the bind stands.
 */
export function bindProgram(o: Offsets, mapFd: number, family: 4 | 6): Buffer {
  const lines: Line[] = [...udpOnly(), ...zeroStack(), insn(ST_B, 10, 0, K + KEY.PROTOCOL, 17)];
  if (family === 4) {
    lines.push(insn(ST_B, 10, 0, K + KEY.FAMILY, 4), ...ctxWords(BpfSock.SRC_IP4, K + KEY.LADDR, 1));
  } else {
    lines.push(
      ...mappedTest(BpfSock.SRC_IP6, 'v6'),
      insn(ST_B, 10, 0, K + KEY.FAMILY, 4),
      ...ctxWords(BpfSock.SRC_IP6 + 12, K + KEY.LADDR, 1),
      jump(Op.JA, 0, 0, 'port'),
      label('v6'),
      insn(ST_B, 10, 0, K + KEY.FAMILY, 6),
      ...ctxWords(BpfSock.SRC_IP6, K + KEY.LADDR, 4),
      label('port'),
    );
  }
  lines.push(
    insn(LDX_W, 1, 6, BpfSock.SRC_PORT, 0), // host order
    insn(Op.STX_H, 10, 1, K + KEY.LPORT, 0),
    ...cookieKey(),
    ...lookup(mapFd, K),
    jump(Op.JEQ_IMM, 0, 0, 'new'),
    insn(MOV64_REG, 8, 0, 0, 0), // sockets are bound there already
    insn(LDX_W, 1, 8, VALUE.BOUND, 0),
    insn(ADD32_IMM, 1, 0, 0, 1),
    insn(STX_W, 8, 1, VALUE.BOUND, 0),
    insn(Op.CALL, 0, 0, 0, Helper.GET_CURRENT_PID_TGID),
    insn(RSH64_IMM, 0, 0, 0, 32),
    insn(LDX_W, 1, 8, VALUE.TGID, 0),
    { ...insn(Op.JEQ_REG, 1, 0, 0, 0), to: 'cookie' },
    insn(ST_W, 8, 0, VALUE.TGID, 0), // bound by two processes: no single owner
    jump(Op.JA, 0, 0, 'cookie'),
    label('new'),
    insn(ST_W, 10, 0, V + VALUE.BOUND, 1),
    ...fillValue(o, Hook.BIND),
    ...update(mapFd, K, V),
    label('cookie'), // cookie -> the bind's key, for the release
    ...copyKey(10, K, V),
    ...update(mapFd, K2, V),
    ...exit(1),
  );
  return assemble(lines);
}

/**
 * cgroup sock at INET_SOCK_RELEASE: a UDP socket bound by bindProgram closes; its bind's record
 * counts one socket less, and goes with the last. Returns 1 (the verdict is not used here).
 */
export function releaseProgram(mapFd: number): Buffer {
  return assemble([
    ...udpOnly(),
    ...zeroStack(),
    ...cookieKey(),
    ...lookup(mapFd, K2),
    jump(Op.JEQ_IMM, 0, 0, 'out'), // not bound while we watched
    insn(MOV64_REG, 7, 0, 0, 0),
    ...copyKey(7, 0, K),
    ...remove(mapFd, K2),
    ...lookup(mapFd, K),
    jump(Op.JEQ_IMM, 0, 0, 'out'),
    insn(MOV64_REG, 8, 0, 0, 0),
    insn(LDX_W, 1, 8, VALUE.HOOK, 0),
    jump(Op.JNE_IMM, 1, Hook.BIND, 'out'),
    insn(LDX_W, 1, 8, VALUE.BOUND, 0),
    jump(Op.JGT_IMM, 1, 1, 'fewer'),
    ...remove(mapFd, K),
    jump(Op.JA, 0, 0, 'out'),
    label('fewer'),
    insn(ADD32_IMM, 1, 0, 0, -1),
    insn(STX_W, 8, 1, VALUE.BOUND, 0),
    ...exit(1),
  ]);
}
