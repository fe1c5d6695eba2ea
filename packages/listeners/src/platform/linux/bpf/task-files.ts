/**
 * Every process's socket fds in one read, through a BPF iterator over the kernel's (task, file)
 * pairs ("task_file", Linux 5.8+): a small program the kernel runs for each open file writes a
 * record (tgid, fd, inode, and the holder's identity: see RECORD) for sockets, and reading the
 * iterator's fd returns those records. It replaces the /proc/<pid>/fd walk (one getdents64 per
 * process and one readlinkat per fd) by one read, when the kernel allows it: root (CAP_BPF and
 * CAP_PERFMON), BTF in /sys/kernel/btf/vmlinux, and this process in the initial PID namespace (the
 * program sees global pids). Otherwise `open()` says why and callers walk /proc.
 *
 * The program reads task_struct, file and inode fields at offsets taken from the running kernel's
 * BTF, so it does not depend on one kernel build.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import koffi from 'koffi';
import { EAGAIN, EINTR } from '../constants';
import { libc } from '../ffi';
import { insn as asmInsn, assemble, Helper, Op } from './asm';
import { Btf } from './btf';
import { loadProgram } from './load';

// bpf(2) commands, program type and attach type (include/uapi/linux/bpf.h).
const BPF_LINK_CREATE = 28;
const BPF_ITER_CREATE = 33;
const BPF_PROG_TYPE_TRACING = 26;
const BPF_TRACE_ITER = 28;
/** bpf_seq_write(struct seq_file *m, const void *data, u32 len). */
const HELPER_SEQ_WRITE = Helper.SEQ_WRITE;
/** PROC_PID_INIT_INO: the inode number of the initial PID namespace. */
const INIT_PID_NS = 'pid:[4026531836]';
/**
 * The record the program writes per socket fd, 48 bytes: the socket's holder and fd, the socket
 * inode, and who the holder is at that moment: its start time (monotonic ns: with the tgid, one
 * process), its exec count (self_exec_id, which every execve bumps) and its comm (16 bytes, which
 * prctl(PR_SET_NAME) can change). Byte offsets in the record:
 */
export const RECORD = 48;
export const AT = { tgid: 0, fd: 4, inode: 8, startTime: 16, execId: 24, comm: 32 } as const;

const bpf = (cmd: number, attr: Buffer) => libc().bpf(cmd, attr);

const {
  LDX_DW,
  LDX_W,
  LDX_H,
  STX_DW,
  STX_W,
  MOV64_REG,
  MOV64_IMM,
  ADD64_IMM,
  AND64_IMM,
  JEQ_IMM,
  JNE_IMM,
  CALL,
  EXIT,
} = Op;
const insn = (code: number, dst: number, src: number, off: number, imm: number) =>
  assemble([asmInsn(code, dst, src, off, imm)]);

export interface Offsets {
  tgid: number;
  startTime: number;
  execId: number;
  /** 8 on current kernels (u64 since Linux 5.7), 4 before. */
  execIdSize: 4 | 8;
  comm: number;
  fInode: number;
  iMode: number;
  iIno: number;
}

/** Placeholder offset of a jump to the program's exit, filled in by program(). */
const OUT = 0x7fff;
const isJump = (instruction: Buffer) => (instruction[0]! & 0x07) === 0x05; // BPF_JMP class

/**
 * The program, for ctx = struct bpf_iter__task_file { meta @0, task @8, u32 fd @16, file @24 }:
 * for a socket (S_IFSOCK in i_mode), write a RECORD with bpf_seq_write. The record is built on the
 * stack at r10 - RECORD; every byte of it is written first (the verifier insists).
 */
export function program(o: Offsets): Buffer {
  const at = (field: keyof typeof AT) => AT[field] - RECORD; // stack offset of a record field
  const code = [
    insn(MOV64_REG, 6, 1, 0, 0), // r6 = ctx
    insn(LDX_DW, 8, 6, 8, 0), // r8 = ctx->task
    insn(JEQ_IMM, 8, 0, OUT, 0), // if !task goto out
    insn(LDX_DW, 9, 6, 24, 0), // r9 = ctx->file
    insn(JEQ_IMM, 9, 0, OUT, 0), // if !file goto out
    insn(LDX_DW, 1, 9, o.fInode, 0), // r1 = file->f_inode
    insn(JEQ_IMM, 1, 0, OUT, 0), // if !inode goto out
    insn(LDX_H, 2, 1, o.iMode, 0), // r2 = inode->i_mode
    insn(AND64_IMM, 2, 0, 0, 0xf000), // r2 &= S_IFMT
    insn(JNE_IMM, 2, 0, OUT, 0xc000), // if r2 != S_IFSOCK goto out
    insn(LDX_DW, 2, 1, o.iIno, 0), // r2 = inode->i_ino
    insn(STX_DW, 10, 2, at('inode'), 0), // record.inode = r2
    insn(LDX_W, 1, 6, 16, 0), // r1 = ctx->fd
    insn(STX_W, 10, 1, at('fd'), 0), // record.fd = r1
    insn(LDX_W, 1, 8, o.tgid, 0), // r1 = task->tgid
    insn(STX_W, 10, 1, at('tgid'), 0), // record.tgid = r1
    insn(LDX_DW, 1, 8, o.startTime, 0), // r1 = task->start_time
    insn(STX_DW, 10, 1, at('startTime'), 0), // record.startTime = r1
    insn(o.execIdSize === 8 ? LDX_DW : LDX_W, 1, 8, o.execId, 0), // r1 = task->self_exec_id
    insn(STX_DW, 10, 1, at('execId'), 0), // record.execId = r1 (a u32 load zero-extends)
    insn(LDX_DW, 1, 8, o.comm, 0), // r1 = task->comm[0..8]
    insn(STX_DW, 10, 1, at('comm'), 0),
    insn(LDX_DW, 1, 8, o.comm + 8, 0), // r1 = task->comm[8..16]
    insn(STX_DW, 10, 1, at('comm') + 8, 0),
    insn(LDX_DW, 7, 6, 0, 0), // r7 = ctx->meta
    insn(LDX_DW, 1, 7, 0, 0), // r1 = meta->seq
    insn(MOV64_REG, 2, 10, 0, 0), // r2 = r10
    insn(ADD64_IMM, 2, 0, 0, -RECORD), // r2 = &record
    insn(MOV64_IMM, 3, 0, 0, RECORD), // r3 = sizeof record
    insn(CALL, 0, 0, 0, HELPER_SEQ_WRITE), // bpf_seq_write(seq, &record, RECORD)
    insn(MOV64_IMM, 0, 0, 0, 0), // out: r0 = 0
    insn(EXIT, 0, 0, 0, 0),
  ];
  // Jumps to OUT go to the last two instructions (offsets count from the next instruction).
  for (const [i, instruction] of code.entries()) {
    if (isJump(instruction) && instruction.readInt16LE(2) === OUT)
      instruction.writeInt16LE(code.length - 2 - (i + 1), 2);
  }
  return Buffer.concat(code);
}

/** read() calls interrupted (EINTR) or cut short (EAGAIN) that one scan retries. */
const MAX_RETRIES = 16;

/** The iterator, loaded once per process and read once per scan. */
export class TaskFiles {
  private static loaded: TaskFiles | undefined;
  private static why: string | undefined;

  /** The iterator, or undefined when it cannot run here (see `unavailable()`). */
  static open(): TaskFiles | undefined {
    if (TaskFiles.loaded || TaskFiles.why) return TaskFiles.loaded;
    try {
      TaskFiles.loaded = TaskFiles.load();
    } catch (error) {
      TaskFiles.why = (error as Error).message;
    }
    return TaskFiles.loaded;
  }

  /** Whether the iterator is loaded already (so using it costs only its read). */
  static isLoaded(): boolean {
    return TaskFiles.loaded !== undefined;
  }

  /** Why the iterator cannot run here, once open() failed. */
  static unavailable(): string | undefined {
    return TaskFiles.why;
  }

  private static load(): TaskFiles {
    if (process.arch !== 'x64' && process.arch !== 'arm64')
      throw new Error(`no bpf syscall number for ${process.arch}`);
    if (process.getuid?.() !== 0) throw new Error('not root');
    if (readlinkSync('/proc/self/ns/pid') !== INIT_PID_NS)
      throw new Error('not in the initial PID namespace');
    const btf = new Btf(readFileSync('/sys/kernel/btf/vmlinux'), {
      funcs: ['bpf_iter_task_file'],
      structs: ['task_struct', 'file', 'inode'],
    });
    const target = btf.findFunc('bpf_iter_task_file');
    const execIdSize = btf.memberSize('task_struct', 'self_exec_id');
    const offsets: Offsets = {
      tgid: btf.memberOffset('task_struct', 'tgid'),
      startTime: btf.memberOffset('task_struct', 'start_time'),
      execId: btf.memberOffset('task_struct', 'self_exec_id'),
      execIdSize: execIdSize === 4 ? 4 : 8,
      comm: btf.memberOffset('task_struct', 'comm'),
      fInode: btf.memberOffset('file', 'f_inode'),
      iMode: btf.memberOffset('inode', 'i_mode'),
      iIno: btf.memberOffset('inode', 'i_ino'),
    };
    const sizesFit =
      btf.memberSize('task_struct', 'start_time') === 8 &&
      (execIdSize === 4 || execIdSize === 8) &&
      btf.memberSize('task_struct', 'comm') === 16;
    if (target < 0 || !sizesFit || Object.values(offsets).some((o) => o < 0 || o > 0x7fff)) {
      throw new Error('the kernel BTF lacks the task_file iterator or a field it reads');
    }
    const insns = program(offsets);
    const loaded = loadProgram({
      type: BPF_PROG_TYPE_TRACING,
      attachType: BPF_TRACE_ITER,
      attachBtfId: target,
      insns,
      name: 'netwho_sockets',
      logSize: 64 * 1024,
    });
    if ('errno' in loaded) {
      const { errno, verifier } = loaded;
      throw new Error(`BPF_PROG_LOAD failed (errno ${errno})${verifier ? `: ${verifier}` : ''}`);
    }
    const prog = loaded.fd;
    const linkAttr = Buffer.alloc(64);
    linkAttr.writeUInt32LE(prog, 0);
    linkAttr.writeUInt32LE(BPF_TRACE_ITER, 8);
    const link = bpf(BPF_LINK_CREATE, linkAttr);
    const linkErrno = koffi.errno();
    libc().close(prog); // the link holds the program
    if (link < 0) throw new Error(`BPF_LINK_CREATE failed (errno ${linkErrno})`);
    return new TaskFiles(link);
  }

  private buffer = Buffer.alloc(256 * 1024);

  private constructor(private readonly link: number) {}

  /**
   * Runs the iterator: returns the records (RECORD bytes each) and how many bytes they fill, or
   * undefined when the kernel refused (the caller walks /proc instead).
   */
  read(): { records: Buffer; length: number } | undefined {
    const attr = Buffer.alloc(8);
    attr.writeUInt32LE(this.link, 0);
    const fd = bpf(BPF_ITER_CREATE, attr);
    if (fd < 0) return undefined;
    const c = libc();
    let length = 0;
    let retries = 0;
    try {
      for (;;) {
        if (this.buffer.length - length < 64 * 1024) {
          const bigger = Buffer.alloc(this.buffer.length * 2);
          this.buffer.copy(bigger, 0, 0, length);
          this.buffer = bigger;
        }
        const n = c.read(fd, this.buffer.subarray(length), this.buffer.length - length);
        if (n < 0) {
          // A signal, or the kernel's cap on objects per read(): the iterator goes on where it was.
          const errno = c.errno();
          if ((errno === EINTR || errno === EAGAIN) && ++retries <= MAX_RETRIES) continue;
          return undefined;
        }
        if (n === 0) break;
        length += n;
      }
    } finally {
      c.close(fd);
    }
    return { records: this.buffer, length: length - (length % RECORD) };
  }
}
