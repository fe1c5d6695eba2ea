import {
  Bpf,
  INSN,
  readInsn,
  SKF_AD_IFINDEX,
  SKF_AD_OFF,
  SKF_AD_PKTTYPE,
  SKF_AD_PROTOCOL,
  writeInsn,
} from './program';

/** The Linux cooked header v2 (LINKTYPE_LINUX_SLL2), as the decoders read it: 20 bytes. */
const SLL2 = { LENGTH: 20, PROTOCOL: 0, IFINDEX: 4, PKTTYPE: 10 } as const;

/**
 * Adapts, in place, a program compiled for LINKTYPE_LINUX_SLL2 frames to a cooked packet socket,
 * whose filter sees the packet from its network header, with no link header in front: the same
 * rewrite libpcap makes (pcap-linux.c, fix_program/fix_offset). Packet loads past the header move
 * back by its length; loads of the header's protocol, interface and packet-type fields become the
 * kernel's ancillary loads of the same values; the snap length in each `ret` shrinks by the header
 * we put back in front of each packet. Returns false when the program reads another header field
 * (the link address), which the kernel cannot give a filter.
 */
export function adaptToCookedSocket(program: Uint8Array): boolean {
  for (let i = 0; i < program.length / INSN; i++) {
    const insn = readInsn(program, i);
    const cls = insn.code & 0x07;
    const mode = insn.code & 0xe0;
    if (cls === Bpf.RET && (insn.code & 0x18) === Bpf.K && insn.k > SLL2.LENGTH) {
      insn.k -= SLL2.LENGTH;
    } else if (
      (cls === Bpf.LD || cls === Bpf.LDX) &&
      (mode === Bpf.ABS || mode === Bpf.IND || mode === Bpf.MSH)
    ) {
      if (insn.k >= SKF_AD_OFF) continue; // already ancillary
      if (insn.k >= SLL2.LENGTH) insn.k -= SLL2.LENGTH;
      else if (mode !== Bpf.ABS) return false;
      else if (insn.k === SLL2.PROTOCOL) insn.k = SKF_AD_OFF + SKF_AD_PROTOCOL;
      else if (insn.k === SLL2.IFINDEX) insn.k = SKF_AD_OFF + SKF_AD_IFINDEX;
      else if (insn.k === SLL2.PKTTYPE) insn.k = SKF_AD_OFF + SKF_AD_PKTTYPE;
      else return false;
    } else continue;
    writeInsn(program, i, insn);
  }
  return true;
}
