import koffi from 'koffi';
import { libc } from '../ffi';

const BPF_PROG_LOAD = 5;
const EINTR = 4;
const EAGAIN = 11;
// pthread_sigmask(3): glibc's sigset_t is 1024 bits.
const SIG_BLOCK = 0;
const SIG_SETMASK = 2;
const SIGSET_BYTES = 128;

export interface ProgramToLoad {
  /** BPF_PROG_TYPE_*, expected_attach_type and attach_btf_id (include/uapi/linux/bpf.h, union bpf_attr). */
  type: number;
  attachType: number;
  attachBtfId: number;
  insns: Buffer;
  /** prog_name: at most 15 characters. */
  name: string;
  /** Bytes of verifier log kept. */
  logSize: number;
}

/**
 * BPF_PROG_LOAD with a GPL licence (the helpers used are GPL-only) and the verifier's log:
 * the program's fd, or the errno and the log's last three lines.
 */
export function loadProgram(p: ProgramToLoad): { fd: number } | { errno: number; verifier: string } {
  const license = Buffer.from('GPL\0');
  const log = Buffer.alloc(p.logSize);
  const attr = Buffer.alloc(128);
  attr.writeUInt32LE(p.type, 0);
  attr.writeUInt32LE(p.insns.length / 8, 4);
  attr.writeBigUInt64LE(koffi.address(p.insns), 8);
  attr.writeBigUInt64LE(koffi.address(license), 16);
  attr.writeUInt32LE(1, 24); // log_level
  attr.writeUInt32LE(log.length, 28);
  attr.writeBigUInt64LE(koffi.address(log), 32);
  attr.write(p.name.slice(0, 15), 48, 'latin1'); // prog_name (16 bytes, NUL-padded)
  attr.writeUInt32LE(p.attachType, 68); // expected_attach_type
  attr.writeUInt32LE(p.attachBtfId, 108);
  let fd = -1;
  let errno = 0;
  // The verifier gives up with EAGAIN when a signal arrives while it works, and a profiler's
  // SIGPROF comes every millisecond: signals wait (blocked on this thread) until the load is done,
  // and a load cut short all the same is tried again, as libbpf does.
  const c = libc();
  const all = Buffer.alloc(SIGSET_BYTES, 0xff);
  const old = Buffer.alloc(SIGSET_BYTES);
  const blocked = c.pthread_sigmask(SIG_BLOCK, all, old) === 0;
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      fd = c.bpf(BPF_PROG_LOAD, attr);
      if (fd >= 0) return { fd };
      errno = koffi.errno();
      if (errno !== EAGAIN && errno !== EINTR) break;
      log.fill(0);
    }
  } finally {
    if (blocked) c.pthread_sigmask(SIG_SETMASK, old, null);
  }
  return {
    errno,
    verifier: log.toString('latin1', 0, log.indexOf(0)).trim().split('\n').slice(-3).join(' | '),
  };
}
