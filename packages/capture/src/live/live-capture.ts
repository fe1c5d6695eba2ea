import { EventEmitter } from 'node:events';
import { linkTypeOfCapName } from '../decode/link-types';
import { CaptureError } from '../errors';
import { type CapHandle, capModule } from './cap-binding';
import { defaultDevice, listDevices } from './devices';
import { PacketSocket, socketFds } from './packet-socket-linux';
import { filterProblem, packetSocketErrno } from './preflight';

export interface LiveCaptureOptions {
  /** Device name(s); default: the device of the default route (see defaultDevice). `any` captures all on Linux. */
  device?: string | string[];
  /** BPF filter in pcap-filter(7) syntax, e.g. "tcp or udp". */
  filter?: string;
  /** Bytes kept of each packet (default 65535; the rest is cut and `truncated` set). */
  snapLength?: number;
  /**
   * The kernel ring holding packets until they are read, in bytes (default 16 MiB). cap opens
   * libpcap with a 65535-byte snap length whatever `snapLength` is, so on devices with receive
   * offloads (loopback, veth, most NICs) each frame takes 128 KiB: 16 MiB holds 128 packets.
   * Raise it for bursts; overflows are counted in `stats().kernel[device].dropped`.
   */
  bufferSize?: number;
}

/**
 * A captured packet. `data` is a view of the capture buffer, valid only during the `packet`
 * listener: copy it (`new Uint8Array(data)`) to keep it. The async iterator hands out copies.
 */
export interface LivePacket {
  data: Uint8Array;
  /** The device it was captured on, and that device's link type (LINKTYPE_*). */
  device: string;
  linkType: number;
  /** True when the packet was longer than the snap length. */
  truncated: boolean;
  /**
   * When the packet reached us: seconds and nanoseconds since 1970. cap does not pass libpcap's
   * kernel timestamp on, so this is read from a monotonic clock anchored to the wall clock when
   * the packet is delivered (immediate mode: typically well under a millisecond after arrival).
   */
  seconds: number;
  nanoseconds: number;
}

export interface CaptureStats {
  /** Packets delivered to listeners. */
  delivered: number;
  /** Per device, libpcap's counters where the OS gives them (Linux); undefined elsewhere. */
  kernel: Record<string, { received: number; dropped: number } | undefined>;
  /** Packets the async iterator discarded because its consumer fell more than `queueLimit` behind. */
  queueDropped: number;
}

interface LiveCaptureEvents {
  packet: [packet: LivePacket];
  error: [error: Error];
  close: [];
}

const PERMISSION_HINT =
  'run as root, or grant the capability: sudo setcap cap_net_raw,cap_net_admin=eip "$(readlink -f "$(command -v node)")"';

interface OpenDevice {
  name: string;
  cap: CapHandle;
  buffer: Buffer;
  linkType: number;
  /** The kernel socket, where we can reach it (Linux): drop counters and unread packets. */
  socket: PacketSocket | undefined;
}

/**
 * A live capture on one or more devices through `cap` (libpcap, Npcap on Windows), in immediate
 * mode. Listen to `packet`, or iterate: `for await (const p of capture)`. Always close() it.
 */
export class LiveCapture extends EventEmitter<LiveCaptureEvents> implements AsyncIterable<LivePacket> {
  readonly devices: readonly string[];
  private readonly open: OpenDevice[] = [];
  private delivered = 0;
  private closed = false;
  private readonly packet: LivePacket = {
    data: new Uint8Array(0),
    device: '',
    linkType: 0,
    truncated: false,
    seconds: 0,
    nanoseconds: 0,
  };
  /** Iterator state: packets waiting for the consumer, and its pending promise. */
  private queue: LivePacket[] = [];
  private waiting: ((result: IteratorResult<LivePacket>) => void) | undefined;
  private queueDropped = 0;
  /** Most packets the async iterator buffers before it drops (and counts) new ones. */
  queueLimit = 100_000;

  private constructor(devices: string[]) {
    super();
    this.devices = devices;
  }

  /** Opens the capture. Throws CaptureError E_NO_DEVICE, E_PERMISSION, E_BAD_FILTER, E_NO_LIBPCAP. */
  static open(options: LiveCaptureOptions = {}): LiveCapture {
    const snapLength = options.snapLength ?? 65535;
    const bufferSize = options.bufferSize ?? 16 * 1024 * 1024;
    if (!Number.isInteger(snapLength) || snapLength < 64 || snapLength > 262144) {
      throw new CaptureError(
        'E_INVALID_ARGUMENT',
        `snapLength must be an integer from 64 to 262144, not ${snapLength}`,
      );
    }
    if (!Number.isInteger(bufferSize) || bufferSize < 65536) {
      throw new CaptureError(
        'E_INVALID_ARGUMENT',
        `bufferSize must be an integer of at least 65536, not ${bufferSize}`,
      );
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
    const problem = filterProblem(options.filter ?? '');
    if (problem) throw new CaptureError('E_BAD_FILTER', `bad capture filter "${options.filter}": ${problem}`);
    const errno = packetSocketErrno();
    if (errno === 1 /* EPERM */ || errno === 13 /* EACCES */) {
      throw new CaptureError('E_PERMISSION', `no permission to capture packets: ${PERMISSION_HINT}`);
    }
    const capture = new LiveCapture([...new Set(wanted)]);
    try {
      for (const name of capture.devices)
        capture.openDevice(name, options.filter ?? '', snapLength, bufferSize);
    } catch (error) {
      capture.close();
      throw error;
    }
    return capture;
  }

  private openDevice(name: string, filter: string, snapLength: number, bufferSize: number): void {
    const { Cap } = capModule();
    // A Cap whose open() failed must never be closed or reopened (that crashes), so each attempt
    // gets its own; and no Cap may ever be garbage collected (see everyCap).
    const cap = new Cap();
    everyCap.push(cap);
    const buffer = Buffer.alloc(snapLength);
    const before = socketFds();
    let linkName: string;
    try {
      linkName = cap.open(name, filter, bufferSize, buffer);
    } catch (error) {
      throw openError(name, error);
    }
    const linkType = linkTypeOfCapName(linkName);
    if (linkType === undefined) {
      cap.close();
      throw new CaptureError(
        'E_CAPTURE',
        `device ${name} has a link type this package does not decode (${linkName})`,
      );
    }
    cap.setMinBytes?.(0);
    const device: OpenDevice = { name, cap, buffer, linkType, socket: PacketSocket.find(before) };
    cap.on('packet', (bytes, truncated) => this.deliver(device, bytes, truncated));
    this.open.push(device);
  }

  /** The link type (LINKTYPE_*) of an open device's packets, e.g. to describe it in a pcapng file. */
  linkTypeOf(device: string): number | undefined {
    return this.open.find((d) => d.name === device)?.linkType;
  }

  private deliver(device: OpenDevice, bytes: number, truncated: boolean): void {
    const p = this.packet;
    const now = performance.timeOrigin + performance.now();
    p.seconds = Math.floor(now / 1000);
    p.nanoseconds = Math.floor((now - p.seconds * 1000) * 1e6);
    p.data = device.buffer.subarray(0, bytes);
    p.device = device.name;
    p.linkType = device.linkType;
    p.truncated = truncated;
    this.delivered++;
    this.emit('packet', p);
    if (this.waiting || this.iterating) this.enqueue(p);
  }

  stats(): CaptureStats {
    const kernel: CaptureStats['kernel'] = {};
    for (const d of this.open) {
      kernel[d.name] = d.socket?.updateStats()
        ? { received: d.socket.received, dropped: d.socket.dropped }
        : undefined;
    }
    return { delivered: this.delivered, kernel, queueDropped: this.queueDropped };
  }

  /**
   * Waits until the kernel holds no captured packet that has not been delivered: call it before
   * close() so that the packets of traffic that just ended, still waiting in the kernel's ring
   * (a process that was slow to be scheduled reads them late), reach the listeners rather than
   * being discarded. Resolves true when nothing is left, false after `timeoutMs` (on a busy device
   * new packets keep arriving) or when the capture is closed. Where the capture socket cannot be
   * polled (not Linux) it waits one turn of the event loop and resolves true.
   */
  async drain(timeoutMs = 2000): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (let turn = 0; ; turn++) {
      // cap reads a device until its ring is empty whenever the event loop polls it readable: one
      // turn usually does; later checks sleep a millisecond rather than spin.
      await new Promise((resolve) => (turn === 0 ? setImmediate(resolve) : setTimeout(resolve, 1)));
      if (this.closed) return false;
      if (!this.open.some((d) => d.socket?.hasUnread())) return true;
      if (performance.now() >= deadline) return false;
    }
  }

  /** Stops capturing on every device; packets not yet read are discarded (see drain). Safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const d of this.open) {
      d.socket?.updateStats();
      d.cap.removeAllListeners('packet');
      d.cap.close();
    }
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
    this.emit('close');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private iterating = false;

  private enqueue(p: LivePacket): void {
    const copy = { ...p, data: new Uint8Array(p.data) }; // a copy: Buffer#slice would share bytes
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: copy, done: false });
    } else if (this.queue.length < this.queueLimit) this.queue.push(copy);
    else this.queueDropped++;
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

/**
 * Every Cap ever created, kept from the garbage collector: cap 0.2.1's destructor emits an async
 * "destroy" from inside V8's GC, which crashes Node 20 (seen as a SIGSEGV in
 * AsyncWrap::EmitDestroy under ~Pcap), and for a Cap whose open() failed it also stops a poll
 * handle that was never started. The cost is a few hundred bytes per capture opened, so an
 * application that opens and closes captures in a loop grows by that much each time.
 */
const everyCap: CapHandle[] = [];

/** Turns cap's open() failure into an error that says what to do. */
function openError(device: string, error: unknown): CaptureError {
  const message = error instanceof Error ? error.message : String(error);
  if (/permission|not permitted|EPERM|EACCES|access denied/i.test(message)) {
    return new CaptureError(
      'E_PERMISSION',
      `no permission to capture on ${device} (${message}): ${PERMISSION_HINT}`,
      {
        cause: error,
      },
    );
  }
  if (/no such device|doesn't exist|not found/i.test(message)) {
    return new CaptureError('E_NO_DEVICE', `cannot capture on ${device}: ${message}`, { cause: error });
  }
  if (/filter|syntax/i.test(message)) {
    return new CaptureError('E_BAD_FILTER', `bad capture filter: ${message}`, { cause: error });
  }
  return new CaptureError('E_CAPTURE', `cannot capture on ${device}: ${message}`, { cause: error });
}
