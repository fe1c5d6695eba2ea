import { Bpf, INSN, type Insn, programOf, SKF_AD_IFINDEX, SKF_AD_OFF, SKF_AD_PKTTYPE } from './program';

/** sll_pkttype of a packet this host sent (<linux/if_packet.h>). */
const PACKET_OUTGOING = 4;

/**
 * Puts in front of `program` a test that rejects what the loopback device sends: every loopback
 * packet passes a packet socket twice, once leaving and once arriving, and tcpdump shows it once.
 * For a socket on all devices (`any`), where PACKET_IGNORE_OUTGOING would also hide what the other
 * devices send. Jumps in classic BPF are relative, so the program after the prefix is unchanged.
 */
export function rejectLoopbackOutgoing(program: Uint8Array, loopbackIndex: number): Uint8Array {
  const prefix: Insn[] = [
    { code: Bpf.LD | Bpf.W | Bpf.ABS, jt: 0, jf: 0, k: SKF_AD_OFF + SKF_AD_IFINDEX },
    { code: Bpf.JMP | Bpf.JEQ | Bpf.K, jt: 0, jf: 3, k: loopbackIndex },
    { code: Bpf.LD | Bpf.B | Bpf.ABS, jt: 0, jf: 0, k: SKF_AD_OFF + SKF_AD_PKTTYPE },
    { code: Bpf.JMP | Bpf.JEQ | Bpf.K, jt: 0, jf: 1, k: PACKET_OUTGOING },
    { code: Bpf.RET | Bpf.K, jt: 0, jf: 0, k: 0 },
  ];
  const out = new Uint8Array(prefix.length * INSN + program.length);
  out.set(programOf(prefix), 0);
  out.set(program, prefix.length * INSN);
  return out;
}
