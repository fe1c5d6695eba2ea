import { processCgroup } from './cgroup/read';
import { current } from './platform';
import type { Platform } from './platform/types';
import type { Family, Listener, Process, Protocol, ResolvedOptions, ScanOptions, ScanResult } from './types';
import { checkOwners, checkPid, checkPort, checkProtocol } from './validate';

const ALL_PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP'];
const ALL_FAMILIES: readonly Family[] = [4, 6];

function resolve(options: ScanOptions = {}): ResolvedOptions {
  return {
    protocols: options.protocols ?? ALL_PROTOCOLS,
    families: options.families ?? ALL_FAMILIES,
    source: options.source ?? 'auto',
    ports: options.ports ? new Set(options.ports.map(checkPort)) : undefined,
    tcpInfo: options.tcpInfo === true,
    parallel: options.parallel,
    owners: checkOwners(options.owners),
  };
}

/**
 * The public calls over one backend. The package exports them bound to the backend of the OS it
 * runs on; tests bind them to the other backends (with their OS calls replaced) to check that every
 * backend behaves the same.
 */
export function createApi(platform: Platform) {
  const scanSync = (options?: ScanOptions): ScanResult => {
    const result = platform.scan(resolve(options));
    return options?.cgroups ? { ...result, listeners: withCgroups(result.listeners) } : result;
  };
  const getAllSync = (options?: ScanOptions): Listener[] => scanSync(options).listeners;
  const getProcessByPortSync = (port: number, protocol: Protocol, options?: ScanOptions): Process =>
    platform.processByPort(checkPort(port), checkProtocol(protocol), resolve(options));
  const getByPidSync = (pid: number, options?: ScanOptions): Listener[] => {
    const listeners = platform.socketsOfPid(checkPid(pid), resolve(options));
    return options?.cgroups ? withCgroups(listeners) : listeners;
  };
  return {
    isSupported: platform.isSupported,
    scanSync,
    getAllSync,
    getProcessByPortSync,
    getByPidSync,
    // The Promise forms. The OS calls take a few milliseconds even for thousands of sockets, so they
    // run on the calling thread; errors come back as rejections.
    scan: async (options?: ScanOptions): Promise<ScanResult> => scanSync(options),
    getAll: async (options?: ScanOptions): Promise<Listener[]> => getAllSync(options),
    getProcessByPort: async (port: number, protocol: Protocol, options?: ScanOptions): Promise<Process> =>
      getProcessByPortSync(port, protocol, options),
    getByPid: async (pid: number, options?: ScanOptions): Promise<Listener[]> => getByPidSync(pid, options),
    isStillOwner(listener: Pick<Listener, 'process' | 'inode' | 'fd'>): boolean {
      const { process, inode, fd } = listener;
      if (!process || fd === undefined || inode === 0) return false;
      return platform.holdsSocket(process.pid, fd, inode);
    },
  };
}

/** Listeners whose owners carry their cgroup: one read of /proc/PID/cgroup per process, one Process object per pid. */
function withCgroups(listeners: Listener[]): Listener[] {
  const described = new Map<Process, Process>();
  return listeners.map((l) => {
    if (!l.process || l.process.cgroup) return l;
    let p = described.get(l.process);
    if (!p) {
      const cgroup = processCgroup(l.process.pid);
      p = cgroup ? { ...l.process, cgroup } : l.process;
      described.set(l.process, p);
    }
    return p === l.process ? l : { ...l, process: p };
  });
}

const api = createApi(current);

/** True when this OS has a backend (Linux, Windows, macOS, FreeBSD). */
export const isSupported: boolean = api.isSupported;

/**
 * Every open TCP (all states) and UDP socket, IPv4 and IPv6, with the counts of sockets whose owner
 * is unknown, by reason. The work is synchronous: the OS calls are made on this thread.
 */
export const scanSync = api.scanSync;
/** Every open socket of the machine. Sockets whose owner is unknown have no `process` and say why in `unowned`. */
export const getAllSync = api.getAllSync;
/**
 * The process that owns local `port` for `protocol` (for TCP, the one listening on it). Throws a
 * ListenersError: E_INVALID_ARGUMENT, E_NOT_FOUND when nothing owns it, E_OWNER_UNKNOWN when a socket
 * is there but its owner cannot be seen.
 */
export const getProcessByPortSync = api.getProcessByPortSync;
/** The sockets of the process `pid`, without reading any other process. Throws E_NOT_FOUND when there is no such process. */
export const getByPidSync = api.getByPidSync;
export const scan = api.scan;
export const getAll = api.getAll;
export const getProcessByPort = api.getProcessByPort;
export const getByPid = api.getByPid;
/**
 * Whether the process of `listener` still holds that very socket: on Linux one readlink of
 * /proc/<pid>/fd/<fd>, so a cached answer can be checked before it is reused (a port closed and
 * bound again by another program fails the check). False when the listener has no owner, or the
 * backend cannot check cheaply (Windows, macOS, FreeBSD: look it up again instead).
 */
export const isStillOwner = api.isStillOwner;
