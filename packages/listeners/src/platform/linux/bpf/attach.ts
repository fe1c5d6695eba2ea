import { readFileSync } from 'node:fs';
import koffi from 'koffi';
import { libc } from '../ffi';
import { loadProgram } from './load';

// bpf(2) commands (include/uapi/linux/bpf.h).
const BPF_RAW_TRACEPOINT_OPEN = 17;
const BPF_LINK_CREATE = 28;

const bpf = (cmd: number, attr: Buffer) => libc().bpf(cmd, attr);

/** Loads a program; returns its fd, or throws with the verifier's last lines. */
export function load(type: number, attachType: number, attachBtfId: number, insns: Buffer): number {
  const loaded = loadProgram({
    type,
    attachType,
    attachBtfId,
    insns,
    name: 'netwho_owners',
    logSize: 256 * 1024,
  });
  if ('fd' in loaded) return loaded.fd;
  const { errno, verifier } = loaded;
  throw new Error(`the kernel refused the program (errno ${errno})${verifier ? `: ${verifier}` : ''}`);
}

/**
 * The capabilities the hooks need that this process lacks: CAP_BPF and CAP_PERFMON to load
 * tracing programs and read kernel memory through BTF pointers, CAP_NET_ADMIN to attach to a
 * cgroup (include/uapi/linux/capability.h: 12, 38, 39). Root has them all; a service run as
 * another user gets them from AmbientCapabilities=.
 */
export function missingCapabilities(): string[] {
  if (process.getuid?.() === 0) return [];
  let effective = 0n;
  try {
    const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'latin1'));
    effective = line ? BigInt(`0x${line[1]}`) : 0n;
  } catch {
    // No /proc: as if none.
  }
  const needed: [string, bigint][] = [
    ['CAP_NET_ADMIN', 12n],
    ['CAP_PERFMON', 38n],
    ['CAP_BPF', 39n],
  ];
  return needed.filter(([, bit]) => (effective & (1n << bit)) === 0n).map(([name]) => name);
}

/** Attaches a cgroup program to the root cgroup through a link (detached when the link fd closes). */
export function linkToCgroup(prog: number, cgroupFd: number, attachType: number): number {
  const attr = Buffer.alloc(64);
  attr.writeUInt32LE(prog, 0);
  attr.writeUInt32LE(cgroupFd, 4);
  attr.writeUInt32LE(attachType, 8);
  const link = bpf(BPF_LINK_CREATE, attr);
  const errno = koffi.errno();
  libc().close(prog);
  if (link < 0) throw new Error(`attaching to the root cgroup was refused (errno ${errno})`);
  return link;
}

/** Attaches a BTF tracepoint program (its target is in the program); returns the link fd. */
export function attachRawTracepoint(prog: number): number {
  const open = Buffer.alloc(16);
  open.writeUInt32LE(prog, 8); // bpf_attr.raw_tracepoint { u64 name (0: the program's own target); u32 prog_fd; }
  const link = bpf(BPF_RAW_TRACEPOINT_OPEN, open);
  const errno = koffi.errno();
  libc().close(prog);
  if (link < 0) throw new Error(`attach refused (errno ${errno})`);
  return link;
}
