import { current } from './platform';
import type { Process } from './types';

/** A connection as its owner's socket has it: local end, remote end. */
export interface ConnectionKey {
  protocol: 'TCP' | 'UDP';
  local: { address: string; port: number };
  remote: { address: string; port: number };
}

/** Who made a connection, as the kernel told it at the time. */
export interface ConnectionOwner {
  /** The process, its name and path from /proc when it still runs; `comm` and no path once it exited. */
  process: Process;
  /** True when the process had exited by the time it was asked for (or its pid was reused since). */
  exited: boolean;
  /** When the kernel made the connection (or sent the datagram, or the socket was bound), ms since 1970. */
  at: number;
  /**
   * Which hook saw it: `connect` (TCP, before its SYN), `accept` (an accepted TCP socket, at its first
   * send or receive), `udp-send` and `udp-recv` (what a UDP socket last sent or received, at most a
   * second ago for the same process), `bind` (a UDP socket bound there while we watched, still open),
   * `listen` (listenerOf: the TCP listener a connection came to, held by this process alone).
   */
  hook: 'connect' | 'accept' | 'udp-send' | 'udp-recv' | 'bind' | 'listen';
  /**
   * For `accept`: the sequence number of the SYN the peer opened the connection with. A flow whose
   * opening SYN had another number is another connection on the same 4-tuple.
   */
  syn?: number;
  /** The process's cgroup (cgroup v2 id) and network namespace (inode number). */
  cgroupId: bigint;
  netns: number;
}

/** One eBPF hook and whether it is attached (or why not). */
export interface HookStatus {
  name: string;
  attached: boolean;
  reason?: string;
}

/**
 * The eBPF owner source (Linux: root, or CAP_BPF + CAP_PERFMON, with kernel BTF and cgroup v2):
 * kernel programs record the owning process of every connection when it is made, so a connection
 * that lives a millisecond is still known after it closed. `ownerOf` costs one map lookup.
 */
export interface ConnectionOwners {
  readonly hooks: readonly HookStatus[];
  /** Connections remembered at most (least recently written evicted first). */
  readonly capacity: number;
  /**
   * Listeners that were open before the hooks attached, as the socket table gave them at open
   * (listenerOf answers for them too), or why none were read (not root, say).
   */
  readonly listenersSeeded: { seeded: number; reason?: string };
  ownerOf(key: ConnectionKey): ConnectionOwner | undefined;
  /**
   * The process listening where a TCP connection to `local` (this machine's end) arrives, known
   * from listen() on, before the connection is accepted: when one running process alone has held
   * that listener since it listened (not several with SO_REUSEPORT, and no fork since, whose child
   * would hold it too), for an address of this network namespace (loopback, its interfaces) and a
   * listener of it. A listener handed to another process over a Unix socket is not seen: the
   * accepted socket's own record (ownerOf, hook `accept`) is the check. Undefined otherwise, or
   * when the tcp-listen hook is not attached.
   */
  listenerOf(local: { address: string; port: number }): ConnectionOwner | undefined;
  close(): void;
}

export type ConnectionOwnersResult =
  | { owners: ConnectionOwners; reason?: undefined }
  | { owners?: undefined; reason: string };

/** Opens the eBPF owner source, or says why it cannot run here (not root, no BTF, a refused program, not Linux). */
export function openConnectionOwners(options: { capacity?: number } = {}): ConnectionOwnersResult {
  if (!current.connectionOwners) return { reason: `eBPF owners are not available on ${current.name}` };
  try {
    return { owners: current.connectionOwners(options) };
  } catch (error) {
    return { reason: (error as Error).message };
  }
}
