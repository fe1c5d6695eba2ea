import koffi from 'koffi';

/** Memory koffi allocated: `ptr` goes to C as it is, `buf` reads and writes the same bytes from JS. */
export interface Scratch {
  ptr: unknown;
  buf: Buffer;
}

/**
 * Scratch memory for the hot loops. koffi passes a pointer it allocated straight through, while a
 * Buffer argument is marshalled on every call: measured on readlinkat of a /proc fd, 1.6 us a call
 * with a pointer against 2.8 us with a Buffer (1.4 us from C).
 */
export function scratch(size: number): Scratch {
  const ptr = koffi.alloc('uint8_t', size);
  return { ptr, buf: Buffer.from(koffi.view(ptr, size)) };
}

/** A pointer argument: a Buffer (cold paths) or a Scratch's `ptr` (hot paths). */
type Mem = Buffer | unknown;

/**
 * The libc calls the Linux backend makes, bound once on first use (importing the package loads
 * nothing). Buffer parameters are `void *`, taking either form of Mem.
 */
export interface LibC {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Mem, length: number): number;
  send(fd: number, buf: Mem, length: number, flags: number): number;
  recv(fd: number, buf: Mem, length: number, flags: number): number;
  close(fd: number): number;
  /** Paths are NUL-terminated byte strings (see cString), so hot loops reuse one buffer. */
  openat(dirfd: number, path: Mem, flags: number): number;
  read(fd: number, buf: Mem, count: number): number;
  getdents64(fd: number, buf: Mem, count: number): number;
  readlinkat(dirfd: number, path: Mem, buf: Mem, size: number): number;
  statx(dirfd: number, path: Mem, flags: number, mask: number, buf: Mem): number;
  /** mount(2) and umount2(2), for a private view of cgroupfs where none is mounted. */
  mount(source: Mem, target: Mem, fstype: Mem, flags: number, data: null): number;
  umount2(target: Mem, flags: number): number;
  /** pthread_sigmask(3): `set` and `old` are sigset_t (128 bytes in glibc). */
  pthread_sigmask(how: number, set: Mem | null, old: Mem | null): number;
  /** bpf(2) through syscall(2) (glibc has no wrapper): `attr` is the command's union bpf_attr. */
  bpf(cmd: number, attr: Buffer): number;
  /** errno of the last call on this thread. */
  errno(): number;
}

/** __NR_bpf per architecture (arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h). */
const SYS_BPF: Partial<Record<string, number>> = { x64: 321, arm64: 280 };

let bound: LibC | undefined;

export function libc(): LibC {
  if (bound) return bound;
  const lib = koffi.load('libc.so.6');
  // syscall(2) is variadic, but glibc's is assembly that only moves registers (no va_list), and
  // integer and pointer arguments go in the same registers either way on x86-64 and arm64 Linux:
  // a fixed prototype for bpf's three arguments spares koffi's per-call variadic typing (0.39 ->
  // 0.25 µs a call; a UDP flow's owner can take seven map lookups).
  const bpfSyscall = lib.func('long syscall(long number, int cmd, void *attr, unsigned int size)');
  bound = {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t length)'),
    send: lib.func('intptr_t send(int fd, const void *buf, size_t length, int flags)'),
    recv: lib.func('intptr_t recv(int fd, void *buf, size_t length, int flags)'),
    close: lib.func('int close(int fd)'),
    openat: lib.func('int openat(int dirfd, const void *path, int flags)'),
    read: lib.func('intptr_t read(int fd, void *buf, size_t count)'),
    getdents64: lib.func('intptr_t getdents64(int fd, void *buf, size_t count)'),
    readlinkat: lib.func('intptr_t readlinkat(int dirfd, const void *path, void *buf, size_t size)'),
    statx: lib.func('int statx(int dirfd, const void *path, int flags, uint32_t mask, void *buf)'),
    mount: lib.func(
      'int mount(const void *source, const void *target, const void *fstype, unsigned long flags, const void *data)',
    ),
    umount2: lib.func('int umount2(const void *target, int flags)'),
    pthread_sigmask: lib.func('int pthread_sigmask(int how, const void *set, void *old)'),
    bpf: (cmd: number, attr: Buffer) => {
      const nr = SYS_BPF[process.arch];
      return nr === undefined ? -1 : Number(bpfSyscall(nr, cmd, attr, attr.length));
    },
    errno: () => koffi.errno(),
  } as LibC;
  return bound;
}

/** A NUL-terminated copy of `text`, for the path arguments above. */
export function cString(text: string): Buffer {
  return Buffer.from(`${text}\0`, 'utf8');
}

/** AT_FDCWD, <fcntl.h>: resolve paths from the current directory (absolute paths ignore it). */
export const AT_FDCWD = -100;
