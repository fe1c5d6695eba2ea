import { EventEmitter } from 'node:events';
import { CaptureError } from '../errors';
import type { BackendHooks, BackendKind, BackendOptions, CaptureBackend } from './backend';
import { CapBackend } from './cap/index';
import { defaultDevice, listDevices } from './devices';
import type { LivePacket, ReusedPacket } from './packet';
import { RingBackend } from './ring/index';
import { type HelperThreadsHold, holdHelperThreads } from './threads/helper-threads';
import { holdReaderCpu, type ReaderCpuHold } from './threads/reader-cpu';

export interface LiveCaptureOptions {
  /** Device name(s); default: the device of the default route (see defaultDevice). `any` captures all on Linux. */
  device?: string | string[];
  /** BPF filter in pcap-filter(7) syntax, e.g. "tcp or udp". */
  filter?: string;
  /** Bytes kept of each packet (default 65535; the rest is cut and `truncated` set). */
  snapLength?: number;
  /**
   * Bytes of kernel memory per device holding packets until they are read (default 32 MiB). With
   * the ring backend packets are packed one after another (a 64-byte datagram on loopback takes
   * about 200 bytes), so this bounds how long a burst may outrun the reader; see the README.
   */
  bufferSize?: number;
  /**
   * `ring` (Linux: our own TPACKET_V3 ring), `cap` (libpcap through the `cap` module), or `auto`
   * (default): the ring on Linux, libpcap where it is not available or the kernel refuses it
   * (`stats().fallbackReason` says why).
   */
  backend?: 'auto' | BackendKind;
  /** Capture packets to other hosts too (ring backend; default false: netwho watches this machine's traffic). cap always sets it. */
  promiscuous?: boolean;
  /**
   * Ring backend: the longest a packet waits in a block that is not full before the kernel hands it
   * over (tp_retire_blk_tov, default 2 ms). Lower is sooner, higher is fewer wake-ups at low rates.
   */
  blockTimeoutMs?: number;
  /**
   * Ring backend: deliver each packet as soon as the kernel has it, as libpcap's immediate mode
   * does (a TPACKET_V2 ring: one frame of snapLength + 128 bytes per packet, and the reader woken
   * for each). Sooner (tens of microseconds instead of up to blockTimeoutMs) at the cost of a
   * wake-up per packet at low rates and fewer small packets held by bufferSize; for monitors
   * that act on a connection's first packet. Default false.
   */
  immediate?: boolean;
  /**
   * Linux, main thread: `batch` moves the process's other threads (V8's compiler and collector
   * helpers, libuv's pool, workers) from SCHED_OTHER to SCHED_BATCH while the capture is open, so
   * that their wake-ups no longer preempt the thread that reads the packets (threads/helper-threads.ts);
   * they keep their share of CPU. Default `batch` with `immediate` (a reader that must see each
   * packet soon), else `unchanged`.
   */
  helperThreads?: 'batch' | 'unchanged';
  /**
   * Linux, main thread: binds the thread that reads the packets to this CPU, and the process's
   * other threads to the other CPUs it may use, while the capture is open (threads/reader-cpu.ts):
   * on a CPU of its own the reader no longer waits a scheduler tick behind its own helpers. The
   * reader can then not move off a CPU other programs keep busy, and a process started from the
   * main thread meanwhile inherits its one CPU. Default: not bound. Where it
   * cannot be bound (one CPU, a CPU the process may not use), the capture runs as without it and
   * `stats().readerCpu` says why.
   */
  readerCpu?: number;
}

export type { LivePacket } from './packet';

/** What a capture saw and lost on one device. Every packet the filter accepted is delivered, dropped, or still waiting. */
export interface DeviceStats {
  /** Packets the kernel's filter accepted (tcpdump's "received by filter"), drops included; undefined where the OS does not say. */
  received: number | undefined;
  /** Packets delivered to listeners. */
  delivered: number;
  /** Packets the kernel dropped because the ring was full (tcpdump's "dropped by kernel"). */
  kernelDropped: number | undefined;
  /** Times the ring filled up and the kernel stopped filling it until the reader freed a block. */
  freezes: number;
  /** Packets netwho itself dropped: the async iterator's queue was full (see queueLimit). */
  netwhoDropped: number;
  /** `down` after E_DEVICE_DOWN (until it is up again), `gone` after E_DEVICE_GONE. */
  state: 'up' | 'down' | 'gone';
}

export interface CaptureStats {
  backend: BackendKind;
  /** On Linux with the `cap` backend under `auto`: why the ring was not used. */
  fallbackReason?: string;
  /**
   * Ring backend: how it waits for packets. `event-loop` (on the main thread): the sockets are
   * watched by the event loop's own poller, so a packet wakes the thread that reads it;
   * `thread` (worker threads, or a Node that does not export libuv): poll(2) on one thread of
   * libuv's pool, one more wake-up per wait.
   */
  waiting?: 'event-loop' | 'thread';
  /** With `helperThreads: 'batch'`: the threads under SCHED_BATCH now, and why others were left (see holdHelperThreads). */
  helperThreads?: { moved: number; reason?: string };
  /** With `readerCpu`: the CPU the reader is bound to (none when it could not be), the threads kept off it, and why not (see holdReaderCpu). */
  readerCpu?: { cpu?: number; moved: number; reason?: string };
  /** Sums over the devices (kernelDropped counts only devices whose OS says). */
  delivered: number;
  kernelDropped: number;
  netwhoDropped: number;
  devices: Record<string, DeviceStats>;
}

interface LiveCaptureEvents {
  packet: [packet: LivePacket];
  /** A CaptureError E_DEVICE_DOWN or E_DEVICE_GONE; without a listener it is a process warning instead. */
  error: [error: Error];
  close: [];
}

const DEFAULTS = { snapLength: 65535, bufferSize: 32 * 1024 * 1024, blockTimeoutMs: 2 };

/**
 * A live capture on one or more devices. Listen to `packet`, or iterate:
 * `for await (const p of capture)`. Always close() it (after drain() to keep what the kernel holds).
 */
export class LiveCapture extends EventEmitter<LiveCaptureEvents> implements AsyncIterable<LivePacket> {
  readonly devices: readonly string[];
  private backend!: CaptureBackend;
  private fallbackReason: string | undefined;
  private helpers: HelperThreadsHold | undefined;
  private readerCpu: ReaderCpuHold | undefined;
  private closed = false;
  private readonly states = new Map<string, DeviceStats['state']>();
  private readonly netwhoDropped = new Map<string, number>();
  /** Iterator state: packets waiting for the consumer, and its pending promise. */
  private queue: LivePacket[] = [];
  private waiting: ((result: IteratorResult<LivePacket>) => void) | undefined;
  private iterating = false;
  /** Most packets the async iterator buffers before it drops (and counts) new ones. */
  queueLimit = 100_000;

  private constructor(devices: string[]) {
    super();
    this.devices = devices;
  }

  /**
   * Opens the capture. Throws CaptureError E_NO_DEVICE, E_PERMISSION, E_BAD_FILTER, E_NO_LIBPCAP,
   * E_INVALID_ARGUMENT; E_RING only when `backend: 'ring'` was asked for and the kernel refused it.
   */
  static open(options: LiveCaptureOptions = {}): LiveCapture {
    const resolved = resolveOptions(options);
    const capture = new LiveCapture(resolved.devices);
    const hooks: BackendHooks = {
      deliver: (p) => capture.deliver(p),
      deviceError: (device, error, gone) => capture.onDeviceError(device, error, gone),
    };
    const kind = options.backend ?? 'auto';
    if (kind === 'ring' || (kind === 'auto' && process.platform === 'linux')) {
      try {
        capture.backend = RingBackend.open(resolved, hooks);
      } catch (error) {
        if (kind === 'ring' || !(error instanceof CaptureError) || error.code !== 'E_RING') throw error;
        capture.fallbackReason = error.message.replace(/^\[netwho\/capture\] /, '');
      }
    }
    capture.backend ??= CapBackend.open(resolved, hooks);
    const helperThreads = options.helperThreads ?? (resolved.immediate ? 'batch' : 'unchanged');
    if (helperThreads === 'batch') capture.helpers = holdHelperThreads();
    if (options.readerCpu !== undefined) capture.readerCpu = holdReaderCpu(options.readerCpu);
    for (const d of resolved.devices) capture.states.set(d, 'up');
    return capture;
  }

  /** Which engine runs this capture. */
  get backendKind(): BackendKind {
    return this.backend.kind;
  }

  /** The link type (LINKTYPE_*) of an open device's packets, e.g. to describe it in a pcapng file. */
  linkTypeOf(device: string): number | undefined {
    return this.backend.linkTypeOf(device);
  }

  private deliver(p: ReusedPacket): void {
    if (this.closed) return; // a listener closed the capture mid-block
    this.emit('packet', p);
    if (this.waiting || this.iterating) this.enqueue(p);
  }

  private onDeviceError(device: string, error: CaptureError, gone: boolean): void {
    this.states.set(device, gone ? 'gone' : 'down');
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(error.message, { code: error.code });
    if (gone && [...this.states.values()].every((s) => s === 'gone')) this.close();
  }

  stats(): CaptureStats {
    const devices: CaptureStats['devices'] = {};
    let delivered = 0;
    let kernelDropped = 0;
    let netwhoDropped = 0;
    for (const name of this.devices) {
      const kernel = this.backend.counters(name);
      let state = this.states.get(name) ?? 'up';
      if (state === 'down' && !this.closed && isUp(name)) {
        state = 'up';
        this.states.set(name, state);
      }
      const d: DeviceStats = {
        received: kernel?.received,
        delivered: this.backend.delivered(name),
        kernelDropped: kernel?.dropped,
        freezes: kernel?.freezes ?? 0,
        netwhoDropped: this.netwhoDropped.get(name) ?? 0,
        state,
      };
      devices[name] = d;
      delivered += d.delivered;
      kernelDropped += d.kernelDropped ?? 0;
      netwhoDropped += d.netwhoDropped;
    }
    return {
      backend: this.backend.kind,
      ...(this.fallbackReason !== undefined && { fallbackReason: this.fallbackReason }),
      ...(this.backend.waiting !== undefined && { waiting: this.backend.waiting }),
      ...(this.helpers && {
        helperThreads: {
          moved: this.helpers.moved,
          ...(this.helpers.reason !== undefined && { reason: this.helpers.reason }),
        },
      }),
      ...(this.readerCpu && {
        readerCpu: {
          ...(this.readerCpu.cpu !== undefined && { cpu: this.readerCpu.cpu }),
          moved: this.readerCpu.moved,
          ...(this.readerCpu.reason !== undefined && { reason: this.readerCpu.reason }),
        },
      }),
      delivered,
      kernelDropped,
      netwhoDropped,
      devices,
    };
  }

  /**
   * Waits until the kernel holds no captured packet that has not been delivered: call it before
   * close() so that the packets of traffic that just ended, still waiting in the kernel (a block
   * not yet full, a process slow to be scheduled), reach the listeners rather than being
   * discarded. Resolves true when nothing is left, false after `timeoutMs` (on a busy device new
   * packets keep arriving) or when the capture is closed. Where the kernel cannot be asked (cap
   * backend off Linux) it waits one turn of the event loop and resolves true.
   */
  async drain(timeoutMs = 2000): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (let turn = 0; ; turn++) {
      await new Promise((resolve) => (turn === 0 ? setImmediate(resolve) : setTimeout(resolve, 1)));
      if (this.closed) return false;
      this.backend.pump();
      if (this.closed) return false;
      if (!this.backend.holdsUnread()) return true;
      if (performance.now() >= deadline) return false;
    }
  }

  /** Stops capturing on every device; packets not yet read are discarded (see drain). Safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.backend?.close();
    this.helpers?.release();
    this.readerCpu?.release();
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
    this.emit('close');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private enqueue(p: ReusedPacket): void {
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: p.copy(), done: false });
    } else if (this.queue.length < this.queueLimit) this.queue.push(p.copy());
    else this.netwhoDropped.set(p.device, (this.netwhoDropped.get(p.device) ?? 0) + 1);
  }

  [Symbol.asyncIterator](): AsyncIterator<LivePacket> {
    this.iterating = true;
    return {
      next: () => {
        const next = this.queue.shift();
        if (next) return Promise.resolve({ value: next, done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiting = resolve;
        });
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/** Checks the options and picks the devices; throws E_INVALID_ARGUMENT or E_NO_DEVICE. */
function resolveOptions(options: LiveCaptureOptions): BackendOptions {
  const snapLength = options.snapLength ?? DEFAULTS.snapLength;
  const bufferSize = options.bufferSize ?? DEFAULTS.bufferSize;
  const blockTimeoutMs = options.blockTimeoutMs ?? DEFAULTS.blockTimeoutMs;
  if (!Number.isInteger(snapLength) || snapLength < 64 || snapLength > 262144) {
    throw new CaptureError(
      'E_INVALID_ARGUMENT',
      `snapLength must be an integer from 64 to 262144, not ${snapLength}`,
    );
  }
  if (!Number.isInteger(bufferSize) || bufferSize < 65536 || bufferSize > 2 ** 31) {
    throw new CaptureError(
      'E_INVALID_ARGUMENT',
      `bufferSize must be an integer from 65536 to 2 GiB, not ${bufferSize}`,
    );
  }
  if (!Number.isInteger(blockTimeoutMs) || blockTimeoutMs < 1 || blockTimeoutMs > 1000) {
    throw new CaptureError(
      'E_INVALID_ARGUMENT',
      `blockTimeoutMs must be an integer from 1 to 1000, not ${blockTimeoutMs}`,
    );
  }
  if (options.helperThreads !== undefined && !['batch', 'unchanged'].includes(options.helperThreads)) {
    throw new CaptureError(
      'E_INVALID_ARGUMENT',
      `helperThreads must be batch or unchanged, not ${options.helperThreads}`,
    );
  }
  const { readerCpu } = options;
  if (readerCpu !== undefined && !(Number.isInteger(readerCpu) && readerCpu >= 0 && readerCpu < 1024)) {
    throw new CaptureError(
      'E_INVALID_ARGUMENT',
      `readerCpu must be a CPU number from 0 to 1023, not ${readerCpu}`,
    );
  }
  if (options.backend !== undefined && !['auto', 'ring', 'cap'].includes(options.backend)) {
    throw new CaptureError('E_INVALID_ARGUMENT', `backend must be auto, ring or cap, not ${options.backend}`);
  }
  if (options.backend === 'ring' && process.platform !== 'linux') {
    throw new CaptureError('E_INVALID_ARGUMENT', 'the ring backend needs Linux');
  }
  const known = listDevices();
  const wanted = options.device === undefined ? [] : [options.device].flat();
  if (wanted.length === 0) {
    const chosen = defaultDevice(known);
    if (!chosen) throw new CaptureError('E_NO_DEVICE', 'no capture device found');
    wanted.push(chosen);
  }
  for (const name of wanted) {
    if (!known.some((d) => d.name === name)) {
      throw new CaptureError(
        'E_NO_DEVICE',
        `no capture device named "${name}"; devices: ${known.map((d) => d.name).join(', ') || 'none'}`,
      );
    }
  }
  return {
    devices: [...new Set(wanted)],
    filter: options.filter ?? '',
    snapLength,
    bufferSize,
    blockTimeoutMs,
    immediate: options.immediate ?? false,
    promiscuous: options.promiscuous ?? false,
  };
}

function isUp(name: string): boolean {
  return listDevices().find((d) => d.name === name)?.up !== false;
}
