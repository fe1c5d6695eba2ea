import { current } from './platform';
import type { Family, Listener, Process, Protocol, ResolvedOptions, ScanOptions, ScanResult } from './types';
import { checkPid, checkPort, checkProtocol } from './validate';

/** True when this OS has a backend (Linux, Windows, macOS, FreeBSD). */
export const isSupported: boolean = current.isSupported;

const ALL_PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP'];
const ALL_FAMILIES: readonly Family[] = [4, 6];

function resolve(options: ScanOptions = {}): ResolvedOptions {
  return {
    protocols: options.protocols ?? ALL_PROTOCOLS,
    families: options.families ?? ALL_FAMILIES,
    source: options.source ?? 'auto',
    ports: options.ports ? new Set(options.ports.map(checkPort)) : undefined,
    tcpInfo: options.tcpInfo === true,
  };
}

/**
 * Every open TCP (all states) and UDP socket, IPv4 and IPv6, with the counts of sockets whose owner
 * is unknown, by reason. The work is synchronous: the OS calls are made on this thread.
 */
export function scanSync(options?: ScanOptions): ScanResult {
  return current.scan(resolve(options));
}

/** Every open socket of the machine. Sockets whose owner is unknown have no `process` and say why in `unowned`. */
export function getAllSync(options?: ScanOptions): Listener[] {
  return scanSync(options).listeners;
}

/**
 * The process that owns local `port` for `protocol` (for TCP, the one listening on it). Throws a
 * ListenersError: E_INVALID_ARGUMENT, E_NOT_FOUND when nothing owns it, E_OWNER_UNKNOWN when a socket
 * is there but its owner cannot be seen.
 */
export function getProcessByPortSync(port: number, protocol: Protocol, options?: ScanOptions): Process {
  return current.processByPort(checkPort(port), checkProtocol(protocol), resolve(options));
}

/** The sockets of the process `pid`, without reading any other process. Throws E_NOT_FOUND when there is no such process. */
export function getByPidSync(pid: number, options?: ScanOptions): Listener[] {
  return current.socketsOfPid(checkPid(pid), resolve(options));
}

/**
 * Whether the process of `listener` still holds that very socket: on Linux one readlink of
 * /proc/<pid>/fd/<fd>, so a cached answer can be checked before it is reused (a port closed and
 * bound again by another program fails the check). False when the listener has no owner, or the
 * backend cannot check cheaply.
 */
export function isStillOwner(listener: Pick<Listener, 'process' | 'inode' | 'fd'>): boolean {
  const { process, inode, fd } = listener;
  if (!process || fd === undefined || inode === 0) return false;
  return current.holdsSocket(process.pid, fd, inode);
}

// The Promise forms. The OS calls take a few milliseconds even for thousands of sockets, so they run
// on the calling thread; errors come back as rejections.
export const scan = async (options?: ScanOptions): Promise<ScanResult> => scanSync(options);
export const getAll = async (options?: ScanOptions): Promise<Listener[]> => getAllSync(options);
export const getProcessByPort = async (
  port: number,
  protocol: Protocol,
  options?: ScanOptions,
): Promise<Process> => getProcessByPortSync(port, protocol, options);
export const getByPid = async (pid: number, options?: ScanOptions): Promise<Listener[]> =>
  getByPidSync(pid, options);
