import type { Process } from '@netwho/listeners';

export type { Process };

/** Transport protocols whose flows can be attributed (ports identify their sockets). */
export type Protocol = 'TCP' | 'UDP';

export interface Endpoint {
  address: string;
  port: number;
}

/**
 * What the attributor needs to know of a flow. A `@netwho/capture` Flow has this shape; any other
 * source of flows can produce it. `local` is this machine's side (for loopback: the side that opened
 * the flow); `protocol` is the IP protocol number (6, 17) or its name.
 */
export interface FlowInput {
  id: number;
  protocol: number | Protocol;
  local: Endpoint;
  remote: Endpoint;
  /** Time of the flow's first packet in ms since 1970, if known: the label latency is measured from it. */
  firstSeen?: number;
  /** The SYN that opened a TCP flow, when it was seen (a capture Flow's `syn`). */
  syn?: Syn;
  /**
   * A capture Flow's own fields, which tell whether the flow's first packet left a socket of this
   * machine: no packet in yet, and `local` one of this machine's addresses (`localKnown`) or both
   * ends local (`bothLocal`, `local` being the sender). Such a UDP flow waits a little for its
   * eBPF record, which the kernel writes as the send returns, just after the datagram.
   */
  packetsIn?: number;
  localKnown?: boolean;
  bothLocal?: boolean;
}

/** A TCP connection's opening SYN: its sequence number, and whether this flow's local end sent it. */
export interface Syn {
  seq: number;
  fromLocal: boolean;
}

/**
 * Why a flow has no program:
 * - `not-found`: no socket on this machine has the flow's local port (traffic not for a local
 *   program: forwarded, or to a closed port), after every retry.
 * - `permission`: the socket exists but belongs to another user's process, and we are not root.
 * - `gave-up`: a socket was there but its owner could not be seen in time (it closed before we
 *   looked, or it is outside our PID namespace), or the pending queue was full.
 */
export type UnknownReason = 'not-found' | 'permission' | 'gave-up';

/** A flow's label. `pending` until the first answer; `unknown` may still become `known` later. */
export type Label =
  | { status: 'pending' }
  | {
      status: 'known';
      process: Process;
      /** Where the answer came from: the kernel at connect time (eBPF), or the socket table. Absent: the socket table. */
      source?: LabelSource;
      /** The program had exited when the flow was labelled (eBPF answers only): its name is the kernel's 15-character comm, with no path. */
      exited?: boolean;
    }
  | { status: 'unknown'; reason: UnknownReason };

export type LabelSource = 'ebpf' | 'socket-table';

/**
 * Owners the kernel recorded when each connection was made (`@netwho/listeners`'
 * openConnectionOwners() on Linux): asked first for every new flow, one lookup each.
 */
export interface ConnectionOwnerSource {
  /**
   * `at`: when the record was written (ms since 1970). `hook` `accept`: written after the SYN, at
   * the accepted socket's first send or receive, with the peer's initial sequence number in `syn`;
   * `bind`: a UDP socket's bind, true while it is open. `connect` runs before the SYN; UDP sends
   * and receives as the call returns, just after the datagram (which a capture may deliver first).
   */
  ownerOf(
    query: OwnerQuery,
  ): { process: Process; exited: boolean; at: number; hook?: string; syn?: number } | undefined;
  /**
   * Optional: the running process that alone holds the TCP listener a connection to `local` came
   * to, known before the connection is accepted (`@netwho/listeners`: from listen() on, while that
   * process has not forked). A connection accepted here whose record is not written yet is labelled
   * from it, then checked against its `accept` record when that comes.
   */
  listenerOf?(local: Endpoint): { process: Process; exited: boolean; at: number; hook?: string } | undefined;
}

/** The socket that answered for a port: its process, and what lets us check it again cheaply. */
export interface Owner {
  process: Process;
  /** Kernel socket id (Linux inode); with `fd`, verified by one readlink. */
  inode: number;
  fd?: number;
  /** The connected peer of that socket; absent for a listening or unconnected socket, which serves any peer. */
  remote?: Endpoint;
  /** The socket's local address (a wildcard address serves every local address). */
  localAddress: string;
}

/** One question to a socket table: who holds the socket of this flow? */
export interface OwnerQuery {
  protocol: Protocol;
  local: Endpoint;
  remote: Endpoint;
}

/**
 * One answer: the owner, or why there is none yet. `unresolved`: a matching socket exists but its
 * owner could not be told (closed meanwhile, hidden, or several programs share the port).
 */
export type OwnerAnswer = { owner: Owner } | { missing: 'not-found' | 'permission' | 'unresolved' };

/** Where answers come from: the OS socket table (see systemOwners()), or a fake in tests. */
export interface OwnerSource {
  /** Answers many queries with one socket-table read; the answers come in the order of the queries. */
  lookup(queries: readonly OwnerQuery[]): Promise<OwnerAnswer[]>;
  /** Cheap check that the owner still holds that socket (Linux: one readlink). */
  verify(owner: Owner): boolean;
}
