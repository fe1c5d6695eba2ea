import koffi from 'koffi';
import { libc } from '../ffi';

const BPF_PROG_LOAD = 5;

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
  const fd = libc().bpf(BPF_PROG_LOAD, attr);
  if (fd >= 0) return { fd };
  const errno = koffi.errno();
  return {
    errno,
    verifier: log.toString('latin1', 0, log.indexOf(0)).trim().split('\n').slice(-3).join(' | '),
  };
}
