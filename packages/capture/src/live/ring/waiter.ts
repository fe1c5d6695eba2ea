import { isMainThread } from 'node:worker_threads';
import koffi from 'koffi';
import * as C from './constants';
import { LITTLE_ENDIAN, nativeBuffer, ringLibc } from './ffi';
import { PollFd } from './structs';

/**
 * Watches the ring sockets: while watched, `readable` is called whenever one of the fds is
 * readable or reports an error (those are in `failed`), once per turn of the event loop for as
 * long as it stays so (level-triggered: what `readable` leaves unread calls it again).
 */
export interface FdWaiter {
  readonly kind: 'event-loop' | 'thread';
  watch(fds: readonly number[], readable: (failed: number[]) => void): void;
  /** Stops watching an fd, before it is closed. */
  forget(fd: number): void;
  /** Stops watching (`readable` is not called again) and frees what the waiter holds. */
  close(): void;
}

/**
 * The event loop's own poller where we can reach it (the main thread), else poll(2) on a worker
 * thread. The first wakes the thread that walks the ring directly, with nothing but the loop's
 * epoll_wait per wake-up; the second costs a second wake-up (worker, then main thread) and holds
 * one thread of libuv's pool while waiting.
 */
export function fdWaiter(): FdWaiter {
  const uv = isMainThread ? loopPoll() : undefined;
  return uv ? new LoopWaiter(uv) : new ThreadWaiter();
}

// ---- the event loop's poller: uv_poll_t handles on uv_default_loop() -----------------------------

/** libuv as Node exports it to addons (uv.h): the calls a uv_poll_t needs. */
interface LoopPoll {
  loop: unknown;
  handleSize: number;
  init(loop: unknown, handle: unknown, fd: number): number;
  start(handle: unknown, events: number, callback: unknown): number;
  stop(handle: unknown): number;
  close(handle: unknown, callback: unknown): void;
  /** One registered function for every handle: (handle, status, events). */
  onPoll: unknown;
  onClose: unknown;
}

/** uv.h: UV_POLL in uv_handle_type, UV_READABLE in uv_poll_event. */
const UV_POLL = 8;
const UV_READABLE = 1;

type PollListener = (handle: unknown, status: number) => void;
/** Handle address -> what its poll callback does; handle address -> its memory, freed once closed. */
const listeners = new Map<bigint, PollListener>();
const closing = new Map<bigint, unknown>();
let loopPollBound: LoopPoll | null | undefined;

function loopPoll(): LoopPoll | undefined {
  if (loopPollBound !== undefined) return loopPollBound ?? undefined;
  try {
    const self = koffi.load(null as unknown as string); // the node binary, which exports libuv
    const OnPoll = koffi.proto('void netwho_uv_poll_cb(void *handle, int status, int events)');
    const OnClose = koffi.proto('void netwho_uv_close_cb(void *handle)');
    const loop = self.func('void *uv_default_loop()')();
    const handleSize = Number(self.func('size_t uv_handle_size(int type)')(UV_POLL));
    if (!loop || !(handleSize > 0)) throw new Error('no libuv loop');
    loopPollBound = {
      loop,
      handleSize,
      init: self.func('int uv_poll_init(void *loop, void *handle, int fd)'),
      start: self.func('int uv_poll_start(void *handle, int events, netwho_uv_poll_cb *cb)'),
      stop: self.func('int uv_poll_stop(void *handle)'),
      close: self.func('void uv_close(void *handle, netwho_uv_close_cb *cb)'),
      onPoll: koffi.register(
        (handle: unknown, status: number) => listeners.get(koffi.address(handle))?.(handle, status),
        koffi.pointer(OnPoll),
      ),
      onClose: koffi.register((handle: unknown) => {
        const at = koffi.address(handle);
        const memory = closing.get(at);
        closing.delete(at);
        if (memory) koffi.free(memory);
      }, koffi.pointer(OnClose)),
    };
  } catch {
    loopPollBound = null; // not a Node binary that exports libuv (or no koffi self-load): use a thread
  }
  return loopPollBound ?? undefined;
}

class LoopWaiter implements FdWaiter {
  readonly kind = 'event-loop' as const;
  private readonly handles = new Map<number, unknown>();

  constructor(private readonly uv: LoopPoll) {}

  watch(fds: readonly number[], readable: (failed: number[]) => void): void {
    for (const fd of fds) {
      const handle = this.handleFor(fd);
      const start = () => this.uv.start(handle, UV_READABLE, this.uv.onPoll) === 0;
      listeners.set(koffi.address(handle), (_h, status) => {
        if (status >= 0) return readable([]);
        // POLLERR: libuv stopped the handle (status UV_EBADF); the error is read, then we go on watching.
        readable([fd]);
        if (this.handles.get(fd) === handle && !start()) readable([fd]);
      });
      if (!start()) queueMicrotask(() => readable([fd]));
    }
  }

  forget(fd: number): void {
    const handle = this.handles.get(fd);
    if (handle === undefined) return;
    this.handles.delete(fd);
    this.release(handle);
  }

  close(): void {
    for (const handle of this.handles.values()) this.release(handle);
    this.handles.clear();
  }

  private handleFor(fd: number): unknown {
    let handle = this.handles.get(fd);
    if (handle !== undefined) return handle;
    handle = koffi.alloc('uint8_t', this.uv.handleSize);
    // uv_poll_init also makes the socket non-blocking, which the ring never notices (it never reads).
    const result = this.uv.init(this.uv.loop, handle, fd);
    if (result !== 0) {
      koffi.free(handle);
      throw new Error(`uv_poll_init(${fd}) failed: ${result}`);
    }
    this.handles.set(fd, handle);
    return handle;
  }

  /** uv_close, then the memory is freed in its callback (libuv still holds the handle until then). */
  private release(handle: unknown): void {
    this.uv.stop(handle);
    const at = koffi.address(handle);
    listeners.delete(at);
    closing.set(at, handle);
    this.uv.close(handle, this.uv.onClose);
  }
}

// ---- poll(2) on a worker thread, woken for close() through an eventfd ------------------------------

class ThreadWaiter implements FdWaiter {
  readonly kind = 'thread' as const;
  private pollFds: { ptr: unknown; buf: Buffer } | undefined;
  private readonly wakeFd: number;
  private fds: number[] = [];
  private readable: ((failed: number[]) => void) | undefined;
  private polling = false;
  private closed = false;

  constructor() {
    this.wakeFd = ringLibc().eventfd(0, C.EFD_FLAGS);
    if (this.wakeFd < 0) throw new Error(`eventfd failed: ${ringLibc().strerror(ringLibc().errno())}`);
  }

  watch(fds: readonly number[], readable: (failed: number[]) => void): void {
    this.fds = [...fds];
    this.readable = readable;
    if (!this.polling) this.poll();
  }

  /** One poll(2) on a pool thread; when it returns, `readable`, then the next one. */
  private poll(): void {
    const fds = this.fds;
    const count = fds.length + 1;
    if (!this.pollFds || this.pollFds.buf.length < count * PollFd.SIZE) {
      this.pollFds = nativeBuffer(PollFd.SIZE * count);
    }
    const { ptr, buf } = this.pollFds;
    const put16 = (value: number, at: number) =>
      LITTLE_ENDIAN ? buf.writeInt16LE(value, at) : buf.writeInt16BE(value, at);
    const put32 = (value: number, at: number) =>
      LITTLE_ENDIAN ? buf.writeInt32LE(value, at) : buf.writeInt32BE(value, at);
    [...fds, this.wakeFd].forEach((fd, i) => {
      put32(fd, i * PollFd.SIZE + PollFd.FD);
      put16(C.POLLIN, i * PollFd.SIZE + PollFd.EVENTS);
      put16(0, i * PollFd.SIZE + PollFd.REVENTS);
    });
    this.polling = true;
    ringLibc().poll.async(ptr, count, -1, () => {
      this.polling = false;
      if (this.closed) {
        ringLibc().close(this.wakeFd);
        return;
      }
      const failed = fds.filter((_, i) => {
        const at = i * PollFd.SIZE + PollFd.REVENTS;
        const revents = LITTLE_ENDIAN ? buf.readInt16LE(at) : buf.readInt16BE(at);
        return (revents & (C.POLLERR | C.POLLHUP | C.POLLNVAL)) !== 0;
      });
      this.readable?.(failed);
      // Back to the poll after a turn of the event loop: timers and I/O run between two walks.
      if (!this.closed) setImmediate(() => !this.closed && !this.polling && this.poll());
    });
  }

  forget(fd: number): void {
    this.fds = this.fds.filter((f) => f !== fd); // from the next poll(2) on
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.readable = undefined;
    if (this.polling) {
      const one = Buffer.alloc(8);
      if (LITTLE_ENDIAN) one.writeBigUInt64LE(1n);
      else one.writeBigUInt64BE(1n);
      ringLibc().write(this.wakeFd, one, 8); // the poll returns; its callback closes the eventfd
    } else ringLibc().close(this.wakeFd);
  }
}
