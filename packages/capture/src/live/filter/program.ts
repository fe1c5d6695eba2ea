import { endianness } from 'node:os';
import { LinkType } from '../../decode/link-types';
import { CaptureError } from '../../errors';
import { libpcap, NETMASK_UNKNOWN, programInstructions } from './libpcap';

/**
 * Classic BPF programs as the kernel takes them (SO_ATTACH_FILTER): struct sock_filter { __u16
 * code; __u8 jt; __u8 jf; __u32 k; } (<linux/filter.h>), 8 bytes each in the machine's byte order,
 * the same layout as libpcap's struct bpf_insn.
 */
export const INSN = 8;
const LE = endianness() === 'LE';

/** Opcode parts (<linux/bpf_common.h>). */
export const Bpf = {
  LD: 0x00,
  LDX: 0x01,
  JMP: 0x05,
  RET: 0x06,
  W: 0x00,
  H: 0x08,
  B: 0x10,
  ABS: 0x20,
  IND: 0x40,
  MSH: 0xa0,
  JEQ: 0x10,
  K: 0x00,
} as const;

/** SKF_AD_OFF and the ancillary loads of <linux/filter.h>: the kernel answers them from the skb. */
export const SKF_AD_OFF = 0xfffff000;
export const SKF_AD_PROTOCOL = 0;
export const SKF_AD_PKTTYPE = 4;
export const SKF_AD_IFINDEX = 8;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export function readInsn(program: Uint8Array, index: number): Insn {
  const v = new DataView(program.buffer, program.byteOffset + index * INSN, INSN);
  return { code: v.getUint16(0, LE), jt: v.getUint8(2), jf: v.getUint8(3), k: v.getUint32(4, LE) };
}

export function writeInsn(program: Uint8Array, index: number, insn: Insn): void {
  const v = new DataView(program.buffer, program.byteOffset + index * INSN, INSN);
  v.setUint16(0, insn.code, LE);
  v.setUint8(2, insn.jt);
  v.setUint8(3, insn.jf);
  v.setUint32(4, insn.k >>> 0, LE);
}

export function programOf(insns: Insn[]): Uint8Array {
  const program = new Uint8Array(insns.length * INSN);
  for (const [i, insn] of insns.entries()) writeInsn(program, i, insn);
  return program;
}

export function instructionsOf(program: Uint8Array): Insn[] {
  return Array.from({ length: program.length / INSN }, (_, i) => readInsn(program, i));
}

/**
 * Compiles a pcap-filter(7) expression for frames of `linkType` with libpcap's own compiler, so
 * the kernel runs exactly what tcpdump would; accepted packets are cut to `snapLength` by the
 * program's return value. An empty filter accepts everything. Throws E_BAD_FILTER with libpcap's
 * message, E_NO_LIBPCAP when libpcap is missing.
 */
export function compileFilter(filter: string, linkType: number, snapLength: number): Uint8Array {
  const result = compile(filter, linkType, snapLength);
  if (typeof result === 'string')
    throw new CaptureError('E_BAD_FILTER', `bad capture filter "${filter}": ${result}`);
  return result;
}

/** libpcap's complaint about `filter`, or undefined if it compiles (or libpcap cannot be asked). */
export function filterProblem(filter: string, linkType = 1): string | undefined {
  if (filter.trim() === '' || !libpcap()) return undefined;
  const result = compile(filter, linkType, 65535);
  return typeof result === 'string' ? result : undefined;
}

/** The program, or libpcap's message when the filter does not compile. */
function compile(filter: string, linkType: number, snapLength: number): Uint8Array | string {
  if (filter.trim() === '') return programOf([{ code: Bpf.RET | Bpf.K, jt: 0, jf: 0, k: snapLength }]);
  const lib = libpcap();
  if (!lib) {
    throw new CaptureError(
      'E_NO_LIBPCAP',
      'compiling a capture filter needs libpcap (Debian: apt install libpcap0.8)',
    );
  }
  // libpcap takes a DLT, which is the LINKTYPE except for raw IP (DLT_RAW is 12 on Linux, 14 on OpenBSD).
  const dlt = linkType === LinkType.RAW ? (process.platform === 'openbsd' ? 14 : 12) : linkType;
  const handle = lib.pcap_open_dead(dlt, snapLength);
  if (!handle)
    throw new CaptureError('E_NO_LIBPCAP', 'libpcap could not make a handle to compile the filter');
  try {
    const program = Buffer.alloc(16);
    if (lib.pcap_compile(handle, program, filter, 1, NETMASK_UNKNOWN) !== 0) return lib.pcap_geterr(handle);
    try {
      return programInstructions(program);
    } finally {
      lib.pcap_freecode(program);
    }
  } finally {
    lib.pcap_close(handle);
  }
}
