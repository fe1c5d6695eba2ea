import type { ConnectionOwners } from '../connection-owners';
import type { Listener, Process, Protocol, ResolvedOptions, ScanResult } from '../types';

/** Every open socket of the machine, with owners resolved where they can be. */
export type Scan = (options: ResolvedOptions) => ScanResult;
/** The process owning local `port`; throws E_NOT_FOUND or E_OWNER_UNKNOWN. */
export type ProcessByPort = (port: number, protocol: Protocol, options: ResolvedOptions) => Process;
/** The sockets of one process; throws E_NOT_FOUND when no such process exists. */
export type SocketsOfPid = (pid: number, options: ResolvedOptions) => Listener[];

/** What each OS folder provides. The rest of the package only ever talks to this. */
export interface Platform {
  name: string;
  isSupported: boolean;
  scan: Scan;
  processByPort: ProcessByPort;
  socketsOfPid: SocketsOfPid;
  /** Whether process `pid` holds socket `inode` at file descriptor `fd` (false when it cannot tell). */
  holdsSocket: (pid: number, fd: number, inode: number) => boolean;
  /** The eBPF owner source, where the OS has one (Linux); throws why it cannot load. */
  connectionOwners?: (options: { capacity?: number }) => ConnectionOwners;
}
