import { linkTypeOfCapName } from '../../decode/link-types';
import { CaptureError, PERMISSION_HINT } from '../../errors';
import type { BackendHooks, BackendOptions, CaptureBackend, KernelCounters } from '../backend';
import { filterProblem } from '../filter/program';
import { ReusedPacket } from '../packet';
import { wallClock } from '../wall-clock';
import { type CapHandle, capModule } from './binding';
import { PacketSocket, packetSocketErrno, socketFds } from './packet-socket-linux';

interface CapDevice {
  name: string;
  cap: CapHandle;
  buffer: Buffer;
  linkType: number;
  delivered: number;
  /** The kernel socket libpcap opened, where we can reach it (Linux): drop counters and unread packets. */
  socket: PacketSocket | undefined;
}

/**
 * libpcap through `cap` (Npcap on Windows): the engine wherever our own ring is not available.
 * `cap` calls back once per packet with the packet copied into our buffer; it hides libpcap's
 * timestamps (packets are stamped on delivery) and pcap_stats() (on Linux we read the same kernel
 * counters from the socket), and always opens devices in promiscuous mode.
 */
export class CapBackend implements CaptureBackend {
  readonly kind = 'cap' as const;
  readonly devices: readonly string[];
  private readonly open: CapDevice[] = [];
  private readonly packet = new ReusedPacket();
  private closed = false;

  private constructor(
    devices: string[],
    private readonly hooks: BackendHooks,
  ) {
    this.devices = devices;
  }

  static open(options: BackendOptions, hooks: BackendHooks): CapBackend {
    // A Cap whose open() failed crashes the process later (its destructor stops a poll handle that
    // was never started), so open() is only called once the filter compiles and we may capture.
    const problem = filterProblem(options.filter);
    if (problem) throw new CaptureError('E_BAD_FILTER', `bad capture filter "${options.filter}": ${problem}`);
    const errno = packetSocketErrno();
    if (errno === 1 /* EPERM */ || errno === 13 /* EACCES */) {
      throw new CaptureError('E_PERMISSION', `no permission to capture packets: ${PERMISSION_HINT}`);
    }
    const backend = new CapBackend(options.devices, hooks);
    try {
      for (const name of options.devices) backend.openDevice(name, options);
    } catch (error) {
      backend.close();
      throw error;
    }
    return backend;
  }

  private openDevice(name: string, options: BackendOptions): void {
    const { Cap } = capModule();
    const cap = new Cap();
    everyCap.push(cap);
    const buffer = Buffer.alloc(options.snapLength);
    const before = socketFds();
    let linkName: string;
    try {
      linkName = cap.open(name, options.filter, options.bufferSize, buffer);
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
    const device: CapDevice = {
      name,
      cap,
      buffer,
      linkType,
      delivered: 0,
      socket: PacketSocket.find(before),
    };
    cap.on('packet', (bytes, truncated) => this.deliver(device, bytes, truncated));
    this.open.push(device);
  }

  private deliver(device: CapDevice, bytes: number, truncated: boolean): void {
    const p = this.packet;
    const now = wallClock.now(); // cap gives no stamp of its own: the time it delivered the packet
    p.seconds = Math.floor(now / 1000);
    p.nanoseconds = Math.floor((now - p.seconds * 1000) * 1e6);
    p.buffer = device.buffer;
    p.offset = 0;
    p.length = bytes;
    p.wireLength = bytes; // cap does not pass the packet's length on the wire
    p.device = device.name;
    p.linkType = device.linkType;
    p.truncated = truncated;
    device.delivered++;
    this.hooks.deliver(p);
  }

  linkTypeOf(device: string): number | undefined {
    return this.open.find((d) => d.name === device)?.linkType;
  }

  delivered(device: string): number {
    return this.open.find((d) => d.name === device)?.delivered ?? 0;
  }

  counters(device: string): KernelCounters | undefined {
    const d = this.open.find((x) => x.name === device);
    if (!d?.socket) return undefined;
    if (!this.closed) d.socket.updateStats();
    return { received: d.socket.received, dropped: d.socket.dropped, freezes: 0 };
  }

  holdsUnread(): boolean {
    return this.open.some((d) => d.socket?.hasUnread());
  }

  /** cap reads a device until its ring is empty whenever the event loop polls it readable: nothing to do here. */
  pump(): void {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const d of this.open) {
      d.socket?.updateStats();
      d.cap.removeAllListeners('packet');
      d.cap.close();
    }
  }
}

/**
 * Every Cap ever created, kept from the garbage collector: cap 0.2.1's destructor emits an async
 * "destroy" from inside V8's GC, which crashes Node 20 (seen as a SIGSEGV in
 * AsyncWrap::EmitDestroy under ~Pcap), and for a Cap whose open() failed it also stops a poll
 * handle that was never started. The cost is a few hundred bytes per capture opened.
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
