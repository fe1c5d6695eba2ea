import type { Listener, Process, Protocol, ScanOptions, ScanResult } from '../types';

/** Every open socket of the machine, with owners resolved where they can be. */
export type Scan = (options: Required<ScanOptions>) => ScanResult;
/** The process owning local `port`; throws E_NOT_FOUND or E_OWNER_UNKNOWN. */
export type ProcessByPort = (port: number, protocol: Protocol, options: Required<ScanOptions>) => Process;
/** The sockets of one process; throws E_NOT_FOUND when no such process exists. */
export type SocketsOfPid = (pid: number, options: Required<ScanOptions>) => Listener[];

/** What each OS folder provides. The rest of the package only ever talks to this. */
export interface Platform {
  name: string;
  isSupported: boolean;
  scan: Scan;
  processByPort: ProcessByPort;
  socketsOfPid: SocketsOfPid;
}
