import koffi from 'koffi';

/**
 * The libc calls the Linux backend makes, bound once on first use (importing the package loads
 * nothing). Buffers are passed as pointers: koffi hands the kernel the Buffer's own memory.
 */
export interface LibC {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, length: number): number;
  send(fd: number, buf: Buffer, length: number, flags: number): number;
  recv(fd: number, buf: Buffer, length: number, flags: number): number;
  close(fd: number): number;
  /** Paths are NUL-terminated byte strings (see cString), so hot loops reuse one buffer. */
  openat(dirfd: number, path: Buffer, flags: number): number;
  read(fd: number, buf: Buffer, count: number): number;
  getdents64(fd: number, buf: Buffer, count: number): number;
  readlinkat(dirfd: number, path: Buffer, buf: Buffer, size: number): number;
  statx(dirfd: number, path: Buffer, flags: number, mask: number, buf: Buffer): number;
  /** errno of the last call on this thread. */
  errno(): number;
}

let bound: LibC | undefined;

export function libc(): LibC {
  if (bound) return bound;
  const lib = koffi.load('libc.so.6');
  bound = {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    setsockopt: lib.func(
      'int setsockopt(int fd, int level, int name, const uint8_t *value, uint32_t length)',
    ),
    send: lib.func('intptr_t send(int fd, const uint8_t *buf, size_t length, int flags)'),
    recv: lib.func('intptr_t recv(int fd, _Out_ uint8_t *buf, size_t length, int flags)'),
    close: lib.func('int close(int fd)'),
    openat: lib.func('int openat(int dirfd, const uint8_t *path, int flags)'),
    read: lib.func('intptr_t read(int fd, _Out_ uint8_t *buf, size_t count)'),
    getdents64: lib.func('intptr_t getdents64(int fd, _Out_ uint8_t *buf, size_t count)'),
    readlinkat: lib.func(
      'intptr_t readlinkat(int dirfd, const uint8_t *path, _Out_ uint8_t *buf, size_t size)',
    ),
    statx: lib.func(
      'int statx(int dirfd, const uint8_t *path, int flags, uint32_t mask, _Out_ uint8_t *buf)',
    ),
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
