import { ListenersError } from '../errors';
import { toListener } from '../materialize';
import { IPPROTO_TCP, SocketTable, TCP_LISTEN, TCP_TIME_WAIT, UNKNOWN_ID } from '../socket-table';
import type {
  Listener,
  Process,
  Protocol,
  ResolvedOptions,
  ScanResult,
  SocketSource,
  UnownedReason,
} from '../types';
import type { Platform } from './types';

/**
 * What an OS whose socket table names each socket's owner provides (Windows, macOS, FreeBSD): the
 * table with the pid column filled, and the names and paths of a set of pids.
 */
export interface OwnedTableSource {
  name: string;
  source: SocketSource;
  /** Fills `table` (pid set per row; UNKNOWN_ID where the OS names none, e.g. TIME_WAIT). */
  readTable(options: ResolvedOptions, table: SocketTable): void;
  /**
   * Name and path of each pid that still runs (gone ones are left out). `denied` lists pids that
   * run but could not be inspected (their path is then '').
   */
  processes(pids: ReadonlySet<number>): Map<number, Process>;
}

/**
 * The public behaviour on top of an owned table: the same answers, errors and unowned reasons as on
 * Linux. A socket whose pid the OS names but which has exited by the time its name is read is
 * `vanished`; TIME_WAIT rows (no owner by design) are `none`.
 */
export function ownedTablePlatform(os: OwnedTableSource): Platform {
  const readOwned = (options: ResolvedOptions) => {
    const table = new SocketTable(256);
    os.readTable(options, table);
    if (options.ports) filterRows(table, (row) => options.ports!.has(table.localPort[row]!));
    const pids = new Set<number>();
    for (let row = 0; row < table.count; row++) if (table.pid[row] !== UNKNOWN_ID) pids.add(table.pid[row]!);
    return { table, processes: os.processes(pids) };
  };

  const materialize = (table: SocketTable, processes: Map<number, Process>, row: number): Listener => {
    const pid = table.pid[row]!;
    const process = pid === UNKNOWN_ID ? undefined : processes.get(pid);
    const timeWait = table.protocol[row] === IPPROTO_TCP && table.state[row] === TCP_TIME_WAIT;
    const reason: UnownedReason | undefined = process
      ? undefined
      : pid === UNKNOWN_ID || timeWait
        ? 'none'
        : 'vanished';
    return toListener(table, row, process, reason);
  };

  const scan = (options: ResolvedOptions): ScanResult => {
    const { table, processes } = readOwned(options);
    const listeners: Listener[] = [];
    const unowned: Record<UnownedReason, number> = { permission: 0, vanished: 0, hidden: 0, none: 0 };
    for (let row = 0; row < table.count; row++) {
      const l = materialize(table, processes, row);
      if (l.unowned) unowned[l.unowned]++;
      listeners.push(l);
    }
    const owned = listeners.length - unowned.permission - unowned.vanished - unowned.hidden - unowned.none;
    return { listeners, summary: { sockets: listeners.length, owned, unowned, sources: [os.source] } };
  };

  const processByPort = (port: number, protocol: Protocol, options: ResolvedOptions): Process => {
    const { table, processes } = readOwned({ ...options, protocols: [protocol], ports: new Set([port]) });
    let rows = [...Array(table.count).keys()];
    if (protocol === 'TCP') {
      const listening = rows.filter((row) => table.state[row] === TCP_LISTEN);
      if (listening.length > 0) rows = listening;
    }
    for (const row of rows) {
      const l = materialize(table, processes, row);
      if (l.process) return l.process;
    }
    const detail = table.count > 0 ? ' (only sockets no process holds remain, such as TIME_WAIT)' : '';
    throw new ListenersError('E_NOT_FOUND', `no process owns ${protocol} port ${port}${detail}`);
  };

  const socketsOfPid = (pid: number, options: ResolvedOptions): Listener[] => {
    if (!os.processes(new Set([pid])).has(pid))
      throw new ListenersError('E_NOT_FOUND', `no process with pid ${pid}`);
    const { table, processes } = readOwned(options);
    const out: Listener[] = [];
    for (let row = 0; row < table.count; row++) {
      if (table.pid[row] === pid) out.push(materialize(table, processes, row));
    }
    return out;
  };

  return {
    name: os.name,
    isSupported: true,
    scan,
    processByPort,
    socketsOfPid,
    // No one-call check exists: a cached answer is looked up again instead.
    holdsSocket: () => false,
  };
}

/** Keeps the rows `keep` accepts, in order (compacting every column). */
function filterRows(table: SocketTable, keep: (row: number) => boolean): void {
  let to = 0;
  for (let from = 0; from < table.count; from++) {
    if (!keep(from)) continue;
    if (to !== from) table.copyRow(from, to);
    to++;
  }
  table.count = to;
}
