import type { Endpoint, Label, Process } from '@netwho/attributor';
import type { FlowNamesStats } from '@netwho/capture';
import type { RemoteEnd } from './remote-names';

/** One connection (flow) in a traffic snapshot, with what is known of its remote end (RemoteEnd). */
export interface ConnectionRow extends RemoteEnd {
  id: number;
  protocol: string;
  local: Endpoint;
  remote: Endpoint;
  label: Label;
  /** When both ends are programs of this machine (loopback): the remote end's program. */
  peer?: Label;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  /** ms since 1970. */
  firstSeen: number;
  lastSeen: number;
  /** TCP: 'open', 'closing' (FIN/RST seen); others: 'open'. */
  state: 'open' | 'closing';
}

/** A connection that ended, as CaptureMonitor's onConnectionEnd reports it: its final counts; lastSeen is its end. */
export type EndedConnection = Omit<ConnectionRow, 'state'>;

/** One program's traffic: cumulative totals since the monitor started, and rates over the last tick. */
export interface ProgramRow {
  /** `pid:<pid>` for a known program, `unknown` for traffic not attributed (yet). */
  key: string;
  process?: Process;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  /** Bytes per second over the last tick. */
  rateIn: number;
  rateOut: number;
  /** Connections it has in the table now (at either end), as the Connections view lists them. */
  connections: number;
  /** Of those, the ones still open: not closing (no FIN or RST seen yet). */
  openConnections: number;
  /** When it last moved a byte or held a connection (ms since 1970): what aging out is decided by. */
  lastActive: number;
}

/** How the capture is doing: the engine, and every packet it lost (nothing is lost without being counted here). */
export interface CaptureHealth {
  backend: 'ring' | 'cap';
  /** Why libpcap runs instead of the ring on Linux. */
  fallbackReason?: string;
  /** Packets the kernel filter accepted (null where the OS does not say), delivered, and dropped, since the start. */
  received: number | null;
  delivered: number;
  kernelDropped: number;
  netwhoDropped: number;
  /** With readerCpu: the CPU the reader is bound to (none when it could not be), the threads kept off it, and why not. */
  readerCpu?: { cpu?: number; moved: number; reason?: string };
}

/** Where programs' names come from: the kernel at connect time (eBPF) first, else the socket table; why eBPF is off when it is. */
export interface OwnerSources {
  ebpf: boolean;
  /** When eBPF is off: why (not root, no BTF, a refused program, turned off). */
  ebpfReason?: string;
  /** When eBPF is on but some of its hooks did not attach: which, and why (the socket table answers for what they would have seen). */
  ebpfMissing?: Array<{ hook: string; reason: string }>;
  /** Flows labelled from eBPF records, and from the socket table, since the start. */
  fromEbpf: number;
  fromSocketTable: number;
  /**
   * Given up for lack of room, since the start: ports whose lookup the full pending queue refused
   * (their flows labelled unknown at once), and accepted flows not waited for in eBPF (the socket
   * table answered them alone).
   */
  lookupsDropped?: number;
  kernelWaitsDropped?: number;
}

export interface TrafficSnapshot {
  /** ms since 1970. */
  at: number;
  /** `capture`: packets counted on the wire; `socket-table`: TCP payload bytes from kernel counters. */
  mode: 'capture' | 'socket-table';
  programs: ProgramRow[];
  connections: ConnectionRow[];
  /** Capture mode: the capture's own counters. */
  capture?: CaptureHealth;
  /** Where owners come from. */
  owners?: OwnerSources;
  /** Capture mode with inspection on: flows named from their first packets, and what was given up (counted). */
  names?: FlowNamesStats;
}

/** What the CLI and the web dashboard read traffic from: a capture pipeline or the socket-table poller. */
export interface TrafficMonitor {
  readonly mode: 'capture' | 'socket-table';
  /** Totals and rates now; rates are over the time since the previous call. */
  snapshot(): TrafficSnapshot;
  close(): void;
}

export const UNKNOWN_KEY = 'unknown';

export function programKey(label: Label): string {
  return label.status === 'known' ? `pid:${label.process.pid}` : UNKNOWN_KEY;
}
