import { readFileSync } from 'node:fs';
import { CaptureError } from '../../errors';
import type { BackendHooks, BackendOptions, CaptureBackend, KernelCounters } from '../backend';
import { ReusedPacket } from '../packet';
import * as C from './constants';
import { LITTLE_ENDIAN, nativeBuffer, ringLibc } from './ffi';
import { RingDevice } from './ring-device';
import { PollFd } from './structs';

/** Blocks walked per device before the event loop gets a turn (timers, I/O, the listeners' own work). */
const BLOCKS_PER_TURN = 64;
/** How often devices that went down are checked for having come back or gone away. */
const DOWN_CHECK_MS = 500;

/**
 * The Linux engine: one TPACKET_V3 ring per device, walked in place on the main thread. While
 * blocks are ready it walks them turn after turn of the event loop; when none is, one poll(2) on a
 * worker thread (koffi's async call) waits for any device's next block, or for close() through an
 * eventfd. So there is no native call per packet, and none per block while traffic keeps up.
 */
export class RingBackend implements CaptureBackend {
  readonly kind = 'ring' as const;
  readonly devices: readonly string[];
  private readonly open: RingDevice[];
  /** Devices still polled (a removed one leaves). */
  private active: RingDevice[];
  private readonly down = new Set<RingDevice>();
  private readonly packet = new ReusedPacket();
  private readonly pollFds: { ptr: unknown; buf: Buffer };
  private readonly wakeFd: number;
  private polling = false;
  private scheduled = false;
  private closed = false;

  private constructor(
    devices: RingDevice[],
    private readonly hooks: BackendHooks,
  ) {
    this.open = devices;
    this.active = [...devices];
    this.devices = devices.map((d) => d.name);
    this.pollFds = nativeBuffer(PollFd.SIZE * (devices.length + 1));
    this.wakeFd = ringLibc().eventfd(0, C.EFD_FLAGS);
    if (this.wakeFd < 0) {
      for (const d of devices) d.close();
      throw new CaptureError('E_RING', `eventfd failed: ${ringLibc().strerror(ringLibc().errno())}`);
    }
    this.schedule();
  }

  /** Opens a ring on every device; on any failure closes those already open and throws. */
  static open(options: BackendOptions, hooks: BackendHooks): RingBackend {
    const devices: RingDevice[] = [];
    try {
      for (const name of options.devices) {
        devices.push(
          RingDevice.open({
            name,
            filter: options.filter,
            snapLength: options.snapLength,
            ringSize: options.bufferSize,
            blockTimeoutMs: options.blockTimeoutMs,
            promiscuous: options.promiscuous,
          }),
        );
      }
    } catch (error) {
      for (const d of devices) d.close();
      throw error;
    }
    return new RingBackend(devices, hooks);
  }

  linkTypeOf(device: string): number | undefined {
    return this.open.find((d) => d.name === device)?.linkType;
  }

  delivered(device: string): number {
    return this.open.find((d) => d.name === device)?.delivered ?? 0;
  }

  counters(device: string): KernelCounters | undefined {
    const d = this.open.find((x) => x.name === device);
    if (!d) return undefined;
    d.readCounters();
    return { ...d.counters };
  }

  holdsUnread(): boolean {
    return this.active.some((d) => d.holdsUnread);
  }

  pump(): void {
    for (const d of this.active) {
      if (this.closed) return;
      d.walk(this.packet, this.hooks.deliver, Number.POSITIVE_INFINITY);
    }
  }

  /** Blocks no device could walk because their frame offsets were inconsistent. */
  get corruptBlocks(): number {
    return this.open.reduce((sum, d) => sum + d.corruptBlocks, 0);
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.turn();
    });
  }

  /** One turn: walk what is ready, then either come back next turn or wait in poll(2). */
  private turn(): void {
    if (this.closed || this.polling) return;
    let walked = false;
    for (const d of this.active) {
      if (this.closed) return;
      if (!d.ready) continue;
      d.walk(this.packet, this.hooks.deliver, BLOCKS_PER_TURN);
      walked = true;
    }
    if (this.closed) return;
    if (walked) this.schedule();
    else this.wait();
  }

  private wait(): void {
    const buf = this.pollFds.buf;
    const count = this.active.length + 1;
    const put16 = (value: number, at: number) =>
      LITTLE_ENDIAN ? buf.writeInt16LE(value, at) : buf.writeInt16BE(value, at);
    const put32 = (value: number, at: number) =>
      LITTLE_ENDIAN ? buf.writeInt32LE(value, at) : buf.writeInt32BE(value, at);
    const fds = [...this.active.map((d) => d.fd), this.wakeFd];
    fds.forEach((fd, i) => {
      put32(fd, i * PollFd.SIZE + PollFd.FD);
      put16(C.POLLIN, i * PollFd.SIZE + PollFd.EVENTS);
      put16(0, i * PollFd.SIZE + PollFd.REVENTS);
    });
    this.polling = true;
    const timeout = this.down.size > 0 ? DOWN_CHECK_MS : -1;
    ringLibc().poll.async(this.pollFds.ptr, count, timeout, () => {
      this.polling = false;
      if (this.closed) {
        ringLibc().close(this.wakeFd);
        return;
      }
      const polled = this.active.slice(0, count - 1);
      polled.forEach((d, i) => {
        const revents = LITTLE_ENDIAN
          ? buf.readInt16LE(i * PollFd.SIZE + PollFd.REVENTS)
          : buf.readInt16BE(i * PollFd.SIZE + PollFd.REVENTS);
        if (revents & (C.POLLERR | C.POLLHUP | C.POLLNVAL)) this.onSocketError(d);
      });
      if (this.down.size > 0) this.checkDown();
      this.turn();
    });
  }

  /** The socket reported an error: the device went down (ENETDOWN), and may be on its way out. */
  private onSocketError(d: RingDevice): void {
    const errno = d.takeError();
    if (errno === 0 || this.down.has(d)) return;
    if (errno !== C.ENETDOWN) {
      this.remove(
        d,
        new CaptureError('E_CAPTURE', `capture on ${d.name} failed: ${ringLibc().strerror(errno)}`),
      );
      return;
    }
    this.down.add(d);
    this.hooks.deviceError(
      d.name,
      new CaptureError('E_DEVICE_DOWN', `${d.name} went down; its capture resumes if it comes back up`),
      false,
    );
    this.checkDown();
  }

  /** A device that went down was removed (its name no longer names its index), or is up again. */
  private checkDown(): void {
    for (const d of [...this.down]) {
      if (this.closed) return;
      if (ringLibc().if_nametoindex(d.name) !== d.ifindex) {
        this.down.delete(d);
        this.remove(d, new CaptureError('E_DEVICE_GONE', `${d.name} was removed; its capture ended`));
      } else if (isUp(d.name)) this.down.delete(d);
    }
  }

  private remove(d: RingDevice, error: CaptureError): void {
    d.walk(this.packet, this.hooks.deliver, Number.POSITIVE_INFINITY); // what it captured before
    this.active = this.active.filter((x) => x !== d);
    d.close();
    this.hooks.deviceError(d.name, error, true);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const d of this.open) d.close();
    const libc = ringLibc();
    if (this.polling) {
      const one = Buffer.alloc(8);
      if (LITTLE_ENDIAN) one.writeBigUInt64LE(1n);
      else one.writeBigUInt64BE(1n);
      libc.write(this.wakeFd, one, 8); // the poll returns; its callback closes the eventfd
    } else libc.close(this.wakeFd);
  }
}

function isUp(name: string): boolean {
  try {
    return (Number.parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'latin1'), 16) & 1) === 1;
  } catch {
    return false;
  }
}
