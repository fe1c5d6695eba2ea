/**
 * eBPF instructions as data (Documentation/bpf/standardization/instruction-set.rst): struct
 * bpf_insn { u8 code; u8 dst:4, src:4; s16 off; s32 imm; }, 8 bytes, little-endian here (x86-64,
 * arm64). A program is a list of instructions and labels; `assemble` resolves jumps to labels.
 */
export const Op = {
  /** ALU64 with an immediate / a register. */
  MOV64_IMM: 0xb7,
  MOV64_REG: 0xbf,
  ADD64_IMM: 0x07,
  AND64_IMM: 0x57,
  RSH64_IMM: 0x77,
  /** ALU32 byte swap to big-endian (imm 16, 32 or 64): ntohs on a little-endian machine. */
  TO_BE: 0xdc,
  LDX_B: 0x71,
  LDX_H: 0x69,
  LDX_W: 0x61,
  LDX_DW: 0x79,
  STX_B: 0x73,
  STX_H: 0x6b,
  STX_W: 0x63,
  STX_DW: 0x7b,
  ST_DW: 0x7a,
  /** Two instructions: a 64-bit immediate (src 1: the immediate is a map fd). */
  LD_IMM64: 0x18,
  JA: 0x05,
  JEQ_IMM: 0x15,
  JNE_IMM: 0x55,
  /** if dst != src (registers). */
  JNE_REG: 0x5d,
  JSLT_IMM: 0xc5,
  /** Unsigned 64-bit less-than against an immediate. */
  JLT_IMM: 0xa5,
  SUB64_REG: 0x1f,
  /** ALU32 (the result is the low 32 bits, zero-extended): subtract a register, add an immediate. */
  SUB32_REG: 0x1c,
  ADD32_IMM: 0x04,
  /** if dst == src (registers). */
  JEQ_REG: 0x1d,
  /** Unsigned 64-bit greater-than against an immediate. */
  JGT_IMM: 0x25,
  /** 32-bit comparisons (BPF_JMP32 class), for immediates above 2^31 that a 64-bit compare would sign-extend. */
  JNE32_IMM: 0x56,
  CALL: 0x85,
  EXIT: 0x95,
} as const;

/** Helper function ids (include/uapi/linux/bpf.h, __BPF_FUNC_MAPPER). */
export const Helper = {
  MAP_LOOKUP_ELEM: 1,
  MAP_UPDATE_ELEM: 2,
  MAP_DELETE_ELEM: 3,
  KTIME_GET_NS: 5,
  GET_CURRENT_PID_TGID: 14,
  GET_CURRENT_COMM: 16,
  GET_SOCKET_COOKIE: 46,
  GET_CURRENT_CGROUP_ID: 80,
  PROBE_READ_KERNEL: 113,
  SEQ_WRITE: 127,
  SKC_TO_TCP_SOCK: 137,
  GET_CURRENT_TASK_BTF: 158,
} as const;

/** BPF_PSEUDO_MAP_FD: the src register of an LD_IMM64 whose immediate is a map's fd. */
export const PSEUDO_MAP_FD = 1;

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** A jump to this label (its `off` is filled in by assemble). */
  to?: string;
  /** A comment, for reading a program back. */
  note?: string;
}

export type Line = Insn | { label: string };

export function insn(code: number, dst: number, src: number, off: number, imm: number, note?: string): Insn {
  return { code, dst, src, off, imm, ...(note !== undefined && { note }) };
}

/** A conditional or unconditional jump to `label`. */
export function jump(code: number, dst: number, imm: number, label: string, note?: string): Insn {
  return { code, dst, src: 0, off: 0, imm, to: label, ...(note !== undefined && { note }) };
}

export function label(name: string): Line {
  return { label: name };
}

/** `dst = map fd` as the two-instruction LD_IMM64 the kernel rewrites to the map's address. */
export function loadMap(dst: number, mapFd: number): Insn[] {
  return [insn(Op.LD_IMM64, dst, PSEUDO_MAP_FD, 0, mapFd, 'map'), insn(0, 0, 0, 0, 0)];
}

/** Resolves labels (jump offsets count instructions from the one after the jump) and encodes. */
export function assemble(lines: Line[]): Buffer {
  const positions = new Map<string, number>();
  const code: Insn[] = [];
  for (const line of lines) {
    if ('label' in line) {
      if (positions.has(line.label)) throw new Error(`BPF program: label ${line.label} twice`);
      positions.set(line.label, code.length);
    } else code.push(line);
  }
  const out = Buffer.alloc(code.length * 8);
  code.forEach((i, n) => {
    let off = i.off;
    if (i.to !== undefined) {
      const target = positions.get(i.to);
      if (target === undefined) throw new Error(`BPF program: no label ${i.to}`);
      off = target - (n + 1);
    }
    out[n * 8] = i.code;
    out[n * 8 + 1] = (i.src << 4) | i.dst;
    out.writeInt16LE(off, n * 8 + 2);
    out.writeInt32LE(i.imm | 0, n * 8 + 4);
  });
  return out;
}
