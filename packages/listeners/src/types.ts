import type { CgroupInfo } from './cgroup/describe';
import type { ProcessUser } from './user/read';
/** Transport protocol of a socket. */
export type Protocol = 'TCP' | 'UDP';

/** IP version of a socket's addresses. */
export type Family = 4 | 6;

/**
 * State of a socket. TCP sockets carry their kernel state; UDP has no connection state and is
 * always `Unknown`.
 */
export type SocketState =
  | 'Established'
  | 'SynSent'
  | 'SynReceived'
  | 'FinWait1'
  | 'FinWait2'
  | 'TimeWait'
  | 'Closed'
  | 'CloseWait'
  | 'LastAck'
  | 'Listen'
  | 'Closing'
  | 'Unknown';

/** A running program. */
export interface Process {
  pid: number;
  /** The full program name (not cut at the kernel's 15 characters when a longer one is knowable). */
  name: string;
  /** Absolute path of the executable; '' when it cannot be known (e.g. another user's process). */
  path: string;
  /**
   * Linux: the process's cgroup and what it means (systemd unit, container, pod), where whoever
   * made this record asked for it (processCgroup(); the attributor's monitors do).
   */
  cgroup?: CgroupInfo;
  /** Linux: the user it runs as, where whoever made this record asked for it (processUser(); the monitors do). */
  user?: ProcessUser;
}

/** An address and port. Addresses are printed canonically: `127.0.0.1`, `::1`, `fe80::1`. */
export interface Endpoint {
  address: string;
  port: number;
}

/**
 * Why a socket has no `process`:
 * - `permission`: its owner's file descriptors are not readable by us (another user's process and
 *   we are not root).
 * - `vanished`: the socket or its owner went away while we were scanning.
 * - `hidden`: the socket still exists, every process we can see was read, and none holds it: its
 *   owner lives outside our PID namespace (a container's host, a sandbox).
 * - `none`: no process holds it by design: a TCP socket in TIME_WAIT, or an orphan the kernel
 *   finishes closing after its process let go (inode 0).
 */
export type UnownedReason = 'permission' | 'vanished' | 'hidden' | 'none';

/** One open socket and the process that owns it. */
export interface Listener {
  /** The owning process; absent when it cannot be known, and then `unowned` says why. */
  process?: Process;
  unowned?: UnownedReason;
  socket: Endpoint;
  /** The peer of a connected socket; absent for listening and unconnected sockets. */
  remote?: Endpoint;
  protocol: Protocol;
  state: SocketState;
  family: Family;
  /** The kernel's identifier of the socket (Linux: its inode number; 0 when no process holds it). */
  inode: number;
  /** The user id the socket belongs to (-1 where the OS does not say). */
  uid: number;
  /**
   * Linux: the file descriptor number at which `process` holds the socket. With `inode` it lets
   * `isStillOwner()` check the answer later with one system call.
   */
  fd?: number;
  /** TCP byte counters from the kernel, when the scan asked for them (`tcpInfo: true`, Linux). */
  traffic?: TcpTraffic;
}

/** A TCP socket's byte counters as the kernel keeps them (Linux tcp_info, since 4.1). */
export interface TcpTraffic {
  /** Bytes this side sent that the peer acknowledged (tcpi_bytes_acked; the SYN of a connecting side counts as 1). */
  bytesAcked: number;
  /** Bytes received from the peer (tcpi_bytes_received). */
  bytesReceived: number;
}

/**
 * Where a backend reads the socket table from: Linux netlink sock_diag or /proc/net text files,
 * Windows iphlpapi, macOS libproc, FreeBSD sysctl.
 */
export type SocketSource = 'netlink' | 'procfs' | 'iphlpapi' | 'libproc' | 'sysctl';

export interface ScanOptions {
  /** Protocols to list. Default: both. */
  protocols?: readonly Protocol[];
  /** IP versions to list. Default: both. */
  families?: readonly Family[];
  /**
   * Linux only: force the socket-table source. Default `auto`: netlink sock_diag, falling back to
   * /proc/net/{tcp,tcp6,udp,udp6} per table when netlink is unavailable.
   */
  source?: 'netlink' | 'procfs' | 'auto';
  /**
   * Only sockets bound to these local ports. With it a scan stops reading processes as soon as the
   * owners of those sockets are found, which makes a lookup of a few ports cheap.
   */
  ports?: readonly number[];
  /** Linux: ask the kernel for each TCP socket's byte counters (`Listener.traffic`). Default false. */
  tcpInfo?: boolean;
  /**
   * Linux: read /proc on two threads (this one and a worker that starts on the first scan and then
   * sleeps, unref'd, between scans). Default: when there are 256 processes or more and 2+ CPUs.
   * `true` uses the worker whenever it can run, `false` never starts it.
   */
  parallel?: boolean;
  /**
   * Linux: where the owners of sockets are read from. `bpf`: one BPF iterator over every process's
   * open files (needs root and the kernel's BTF; an E_UNSUPPORTED error says why when it cannot
   * run); `procfs`: the /proc/<pid>/fd walk; `auto` (default): BPF when it can run and is worth
   * loading (256 processes or more, or loaded already), else the walk.
   */
  owners?: 'auto' | 'bpf' | 'procfs';
  /**
   * Linux: give each owner its cgroup and what it means (`Process.cgroup`: systemd unit,
   * container, pod), read once per process per scan. Default false (one more file per process).
   */
  cgroups?: boolean;
}

/** ScanOptions with the defaults filled in, as the backends get them. */
export interface ResolvedOptions {
  protocols: readonly Protocol[];
  families: readonly Family[];
  source: 'netlink' | 'procfs' | 'auto';
  /** undefined: every port. */
  ports: ReadonlySet<number> | undefined;
  tcpInfo: boolean;
  /** undefined: decide by the machine. */
  parallel: boolean | undefined;
  owners: 'auto' | 'bpf' | 'procfs';
}

/** What a full scan found, with the count of sockets whose owner is unknown, by reason. */
export interface ScanResult {
  listeners: Listener[];
  summary: {
    sockets: number;
    owned: number;
    unowned: Record<UnownedReason, number>;
    /** Sources used to read the socket table, e.g. `['netlink']`. */
    sources: SocketSource[];
    /** Linux: threads that read /proc for this scan (2 when the worker took part, 0 when none was needed). */
    threads?: number;
    /** Linux: where the owners came from (see ScanOptions.owners). */
    owners?: 'bpf' | 'procfs';
  };
}
