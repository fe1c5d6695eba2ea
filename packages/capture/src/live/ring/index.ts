import { readFileSync } from 'node:fs';
import { CaptureError } from '../../errors';
import type { BackendHooks, BackendOptions, CaptureBackend, KernelCounters } from '../backend';
import { ReusedPacket } from '../packet';
import * as C from './constants';
import { ringLibc } from './ffi';
import { RingDevice } from './ring-device';
import { type FdWaiter, fdWaiter } from './waiter';

/** Blocks walked per device before the event loop gets a turn (timers, I/O, the listeners' own work). */
const BLOCKS_PER_TURN = 64;
/** How often devices that went down are checked for having come back or gone away. */
const DOWN_CHECK_MS = 500;

/**
 * The Linux engine: one ring per device (TPACKET_V3 blocks, or V2 frames for immediate delivery),
 * walked in place on the thread that opened it, whenever its socket is readable: watched by the
 * event loop's own poller (a uv_poll_t per socket) on the main thread, else by poll(2) on a pool
 * thread (waiter.ts). So there is no native call per packet, and none per block while traffic
 * keeps up (libuv's one epoll_wait per turn of the loop is all).
 */
export class RingBackend implements CaptureBackend {
  readonly kind = 'ring' as const;
  readonly devices: readonly string[];
  private readonly open: RingDevice[];
  /** Devices still polled (a removed one leaves). */
  private active: RingDevice[];
  private readonly down = new Set<RingDevice>();
  private readonly packet = new ReusedPacket();
  private readonly waiter: FdWaiter;
  /** While a device is down: checks whether it came back or went away. */
  private downTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    devices: RingDevice[],
    private readonly hooks: BackendHooks,
  ) {
    this.open = devices;
    this.active = [...devices];
    this.devices = devices.map((d) => d.name);
    try {
      this.waiter = fdWaiter();
    } catch (error) {
      for (const d of devices) d.close();
      throw new CaptureError('E_RING', (error as Error).message);
    }
    this.waiter.watch(
      devices.map((d) => d.fd),
      (failed) => this.onReadable(failed),
    );
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
            immediate: options.immediate,
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

  /**
   * A socket is readable (or failed): walk what every device has ready, up to BLOCKS_PER_TURN
   * blocks each; what is left keeps its socket readable, so the waiter calls again next turn of
   * the event loop, after timers and other I/O had theirs.
   */
  private onReadable(failed: number[]): void {
    if (this.closed) return;
    for (const d of this.active) if (failed.includes(d.fd)) this.onSocketError(d);
    for (const d of this.active) {
      if (this.closed) return;
      if (d.ready) d.walk(this.packet, this.hooks.deliver, BLOCKS_PER_TURN);
    }
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
    this.downTimer ??= setInterval(() => this.checkDown(), DOWN_CHECK_MS);
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
    if (this.down.size === 0) {
      clearInterval(this.downTimer);
      this.downTimer = undefined;
    }
  }

  private remove(d: RingDevice, error: CaptureError): void {
    d.walk(this.packet, this.hooks.deliver, Number.POSITIVE_INFINITY); // what it captured before
    this.active = this.active.filter((x) => x !== d);
    this.waiter.forget(d.fd);
    d.close();
    this.hooks.deviceError(d.name, error, true);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.downTimer);
    this.waiter.close(); // before the sockets close: libuv must not poll a closed fd
    for (const d of this.open) d.close();
  }

  /** How the engine waits for blocks: the event loop's own poller, or poll(2) on a worker thread. */
  get waiting(): FdWaiter['kind'] {
    return this.waiter.kind;
  }
}

function isUp(name: string): boolean {
  try {
    return (Number.parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'latin1'), 16) & 1) === 1;
  } catch {
    return false;
  }
}
