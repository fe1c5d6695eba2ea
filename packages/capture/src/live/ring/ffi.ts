import { endianness } from 'node:os';
import koffi from 'koffi';

/**
 * The libc calls the ring makes, bound once on first use (importing the package loads nothing).
 * Pointers into memory we own are koffi pointers (`unknown`); small structs are Buffers.
 */
export interface RingLibc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, length: number): number;
  getsockopt(fd: number, level: number, name: number, value: Buffer, length: Buffer): number;
  bind(fd: number, address: Buffer, length: number): number;
  close(fd: number): number;
  mmap(address: unknown, length: number, prot: number, flags: number, fd: number, offset: number): unknown;
  munmap(address: unknown, length: number): number;
  /** poll(2) on an array of struct pollfd; `.async` runs it on a worker thread. */
  poll: ((fds: unknown, count: number, timeoutMs: number) => number) & {
    async(
      fds: unknown,
      count: number,
      timeoutMs: number,
      done: (error: unknown, result: number) => void,
    ): void;
  };
  eventfd(initial: number, flags: number): number;
  write(fd: number, bytes: Buffer, length: number): number;
  if_nametoindex(name: string): number;
  errno(): number;
  strerror(errno: number): string;
}

let bound: RingLibc | undefined;

export function ringLibc(): RingLibc {
  if (bound) return bound;
  const lib = koffi.load('libc.so.6');
  bound = {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t length)'),
    getsockopt: lib.func('int getsockopt(int fd, int level, int name, void *value, void *length)'),
    bind: lib.func('int bind(int fd, const void *address, uint32_t length)'),
    close: lib.func('int close(int fd)'),
    mmap: lib.func('void *mmap(void *address, size_t length, int prot, int flags, int fd, int64_t offset)'),
    munmap: lib.func('int munmap(void *address, size_t length)'),
    poll: lib.func('int poll(void *fds, unsigned long count, int timeout)'),
    eventfd: lib.func('int eventfd(unsigned int initial, int flags)'),
    write: lib.func('intptr_t write(int fd, const void *bytes, size_t length)'),
    if_nametoindex: lib.func('unsigned int if_nametoindex(const char *name)'),
    errno: () => koffi.errno(),
    strerror: lib.func('const char *strerror(int errnum)'),
  } as RingLibc;
  return bound;
}

/** MAP_FAILED, ((void *) -1). */
export function mapFailed(pointer: unknown): boolean {
  return pointer === null || koffi.address(pointer) === 0xffff_ffff_ffff_ffffn;
}

/** Memory koffi allocated, seen from JS: `ptr` goes to C as it is, `buf` is the same bytes. */
export function nativeBuffer(size: number): { ptr: unknown; buf: Buffer } {
  const ptr = koffi.alloc('uint8_t', size);
  return { ptr, buf: Buffer.from(koffi.view(ptr, size)) };
}

export function freeNative(pointer: unknown): void {
  koffi.free(pointer);
}

/** The bytes at a native pointer, without a copy (the mapped ring). */
export function viewOf(pointer: unknown, size: number): ArrayBuffer {
  return koffi.view(pointer, size);
}

/** Writes a pointer value, in the machine's byte order, into a struct laid out in a Buffer. */
export function putPointer(into: Buffer, offset: number, pointer: unknown): void {
  if (LITTLE_ENDIAN) into.writeBigUInt64LE(koffi.address(pointer), offset);
  else into.writeBigUInt64BE(koffi.address(pointer), offset);
}

export const LITTLE_ENDIAN = endianness() === 'LE';
