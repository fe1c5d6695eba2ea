import type { CaptureError } from '../errors';
import type { ReusedPacket } from './packet';

/** Which engine captures: our own TPACKET_V3 ring (Linux), or libpcap through `cap`. */
export type BackendKind = 'ring' | 'cap';

/** The kernel's counters of one device's capture socket, accumulated since it was opened. */
export interface KernelCounters {
  /** Packets the capture filter accepted, dropped ones included (tcpdump's "received by filter"). */
  received: number;
  /** Packets the kernel dropped because the ring was full (tcpdump's "dropped by kernel"). */
  dropped: number;
  /** Times the ring filled up (TPACKET_V3 queue freezes; 0 where the backend cannot tell). */
  freezes: number;
}

/** What a backend needs from the capture that runs it. */
export interface BackendHooks {
  /** Called for every packet, in order per device, with the capture's one reused packet. */
  deliver(packet: ReusedPacket): void;
  /** A device went down (gone false; it may come back) or was removed (gone true; it is closed). */
  deviceError(device: string, error: CaptureError, gone: boolean): void;
}

export interface BackendOptions {
  devices: string[];
  filter: string;
  snapLength: number;
  bufferSize: number;
  blockTimeoutMs: number;
  /** Hand each packet over as soon as the kernel has it (the ring's TPACKET_V2 frames; cap ignores it). */
  immediate: boolean;
  promiscuous: boolean;
}

/**
 * One capture engine on one or more devices. Every backend passes test/conformance.ts; nothing
 * above this interface knows which one runs.
 */
export interface CaptureBackend {
  readonly kind: BackendKind;
  readonly devices: readonly string[];
  /** How it waits for packets (ring: the event loop's own poller, or poll(2) on a pool thread). */
  readonly waiting?: 'event-loop' | 'thread';
  linkTypeOf(device: string): number | undefined;
  /** Packets delivered from the device so far. */
  delivered(device: string): number;
  /** The device's kernel counters, refreshed now; undefined where the OS gives none. */
  counters(device: string): KernelCounters | undefined;
  /** Whether the kernel holds captured packets not yet delivered (false where it cannot tell). */
  holdsUnread(): boolean;
  /** Delivers, now, what is ready to be delivered. */
  pump(): void;
  /** Stops capturing; packets not yet delivered are discarded. */
  close(): void;
}
