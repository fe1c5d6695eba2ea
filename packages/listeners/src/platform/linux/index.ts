import { ListenersError } from '../../errors';
import { toListener } from '../../materialize';
import { IPPROTO_TCP, SocketTable, TCP_LISTEN, UNKNOWN_ID } from '../../socket-table';
import type { Listener, Process, Protocol, ResolvedOptions, ScanResult, UnownedReason } from '../../types';
import type { Platform } from '../types';
import { TaskFiles } from './bpf/task-files';
import { newestHolder, ownersFromRecords } from './bpf-owners';
import { connectionOwners } from './connection-owners';
import { EACCES, ENOENT, EPERM, ESRCH } from './constants';
import {
  holdsSocket,
  listPids,
  openPidDir,
  pidsSince,
  preferUid,
  socketInodesOf,
  walkSocketFds,
} from './fd-walk';
import { libc } from './ffi';
import { explainUnowned, type ProcessCache, unresolvedRows } from './owners';
import { startWalk } from './parallel-walk';
import { readProcess } from './process-info';
import { readTables } from './tables';
import type { FoundProcess } from './walk-protocol';

// The socket inodes (inode -> row) of the last full scan, replaced by each one so bounded by the
// table: sockets that existed before a scan began, whose owners its early reads cannot have missed.
let knownBefore: ReadonlyMap<number, number> = new Map();

// The scan's table is kept between calls (its capacity is the most sockets ever seen at once), so a
// repeated scan allocates no columns.
let scanTable: SocketTable | undefined;

/** Full scans made by this process: a second one tells `auto` the iterator is worth loading. */
let fullScans = 0;

function scan(options: ResolvedOptions): ScanResult {
  scanTable = scanTable?.clear() ?? new SocketTable(1024);
  const table = scanTable;
  const ports = options.ports;
  // Owners come from the BPF iterator when it can run, read after the socket table (a port-limited
  // scan walks /proc instead, which stops at its few owners). Otherwise the walk worker starts
  // reading /proc now, while this thread reads the socket table; a port-limited scan stays on one
  // thread: the worker, which reports every socket it meets, would not know when to stop.
  let listed: Int32Array | undefined;
  const listAllPids = () => (listed ??= listPids());
  const iterator = ports ? undefined : taskFilesFor(options, () => listAllPids().length, fullScans++ > 0);
  if (iterator) {
    const sources = readTables(options, table, { tcpInfo: options.tcpInfo });
    const records = iterator.read();
    if (records) return scanWithRecords(table, sources, records, options);
    table.clear(); // the kernel refused the iterator this time: walk /proc, as without it
  }
  const pids = listAllPids();
  const job = startWalk(pids, { mode: 'all' }, ports ? false : options.parallel);
  const sources = readTables(options, table, {
    ...(ports && { keep: (_inode: number, port: number) => ports.has(port) }),
    tcpInfo: options.tcpInfo,
  });

  // How far the worker got while the table was read: see the catch-up below.
  const readEarly = job.readSoFar();
  // Processes started after the pids were listed may hold sockets of the table: they are walked
  // too (first: they are the newest), or their sockets would look held by no visible process.
  const late = pidsSince(pids);

  const rowOf = rowsByInode(table);

  const processes: ProcessCache = new Map();
  let wantedRow = -1; // the row wants() matched, handed to onSocket() without a second lookup
  /** Whether `inode` is a socket of the table whose owner is still unknown (and among `only`). */
  const unresolved = (inode: number, only?: ReadonlySet<number>) => {
    const row = rowOf.get(inode);
    if (row === undefined || table.pid[row] !== UNKNOWN_ID || (only && !only.has(inode))) return false;
    wantedRow = row;
    return true;
  };
  /** Makes `pid` the owner of the row unresolved() matched; false when the process is gone. */
  const own = (pid: number, pidDir: number, fd: number) => {
    let process = processes.get(pid);
    if (!process) {
      process = readProcess(pid, pidDir);
      if (!process) return false; // exited mid-scan: its sockets are explained below
      processes.set(pid, process);
    }
    table.pid[wantedRow] = pid;
    table.fd[wantedRow] = fd;
    return true;
  };

  let remaining = rowOf.size;
  const walk =
    remaining === 0
      ? job.abandon()
      : job.join(
          (inode) => unresolved(inode),
          // Once all are found, older processes need not be read.
          (pid, _inode, pidDir, fd) => (!own(pid, pidDir, fd) ? 'gone' : --remaining === 0 ? 'stop' : 'next'),
          late,
        );
  mergeFound(table, rowOf, walk.found, processes);

  // The worker read its first pids while the table was being read, so a socket created just after
  // its owner was read is in the table but was not seen. A socket already in the previous scan's
  // table is older than this walk; the first pids are read again for the others, if any.
  const fresh = new Set<number>();
  for (const row of unresolvedRows(table)) {
    if (!knownBefore.has(table.inode[row]!)) fresh.add(table.inode[row]!);
  }
  if (fresh.size > 0 && readEarly > 0) {
    let left = fresh.size;
    const again = walkSocketFds(
      (inode) => unresolved(inode, fresh),
      (pid, _inode, pidDir, fd) => (!own(pid, pidDir, fd) ? 'gone' : --left === 0 ? 'stop' : 'next'),
      pids.subarray(0, readEarly),
    );
    walk.denied.push(...again.denied);
    walk.unsettled.push(...again.unsettled);
  }
  if (!ports) knownBefore = rowOf;
  const reasons = explainUnowned(table, unresolvedRows(table), walk, options);

  return finish(table, processes, reasons, sources, { threads: walk.threads, owners: 'procfs' });
}

/** inode -> row for every socket of `table` a process can hold (inode 0: TIME_WAIT, orphans). */
function rowsByInode(table: SocketTable): Map<number, number> {
  const rowOf = new Map<number, number>();
  for (let row = 0; row < table.count; row++) if (table.inode[row] !== 0) rowOf.set(table.inode[row]!, row);
  return rowOf;
}

/** A scan whose owners come from the task_file iterator's records (read after the table). */
function scanWithRecords(
  table: SocketTable,
  sources: ScanResult['summary']['sources'],
  { records, length }: { records: Buffer; length: number },
  options: ResolvedOptions,
): ScanResult {
  const rowOf = rowsByInode(table);
  const processes: ProcessCache = new Map();
  const unexplained = ownersFromRecords(records, length, table, rowOf, processes);
  const reasons = explainUnowned(table, unresolvedRows(table), unexplained, options);
  return finish(table, processes, reasons, sources, { threads: 0, owners: 'bpf' });
}

/** The public result of a scan whose owners are known (or explained by `reasons`). */
function finish(
  table: SocketTable,
  processes: ProcessCache,
  reasons: Map<number, UnownedReason>,
  sources: ScanResult['summary']['sources'],
  how: { threads: number; owners: 'bpf' | 'procfs' },
): ScanResult {
  const listeners: Listener[] = new Array(table.count);
  const unowned: Record<UnownedReason, number> = { permission: 0, vanished: 0, hidden: 0, none: 0 };
  for (let row = 0; row < table.count; row++) {
    const process = table.pid[row] === UNKNOWN_ID ? undefined : processes.get(table.pid[row]!);
    const reason = process ? undefined : table.inode[row] === 0 ? 'none' : (reasons.get(row) ?? 'vanished');
    if (reason) unowned[reason]++;
    listeners[row] = toListener(table, row, process, reason);
  }
  const owned = table.count - unowned.permission - unowned.vanished - unowned.hidden - unowned.none;
  return { listeners, summary: { sockets: table.count, owned, unowned, sources, ...how } };
}

/**
 * Below this many processes the walk takes a few ms, less than loading the iterator the first time
 * (~20 ms: the kernel's BTF is read and the program verified), so `auto` walks until it is loaded,
 * unless the process scans again: one that scans repeatedly (a monitor) soon earns the load back.
 */
const ITERATOR_MIN_PIDS = 256;

/**
 * The task_file iterator if `options` allow it, it can run and (for `auto`) it is worth loading:
 * for `processes()` processes (counted only then), or because this is a `repeated` scan. Throws if
 * the options insist on it and it cannot run.
 */
function taskFilesFor(
  options: ResolvedOptions,
  processes: () => number,
  repeated = false,
): TaskFiles | undefined {
  if (options.owners === 'procfs') return undefined;
  if (options.owners === 'auto' && !TaskFiles.isLoaded() && !repeated && processes() < ITERATOR_MIN_PIDS) {
    return undefined;
  }
  const iterator = TaskFiles.open();
  if (!iterator && options.owners === 'bpf') {
    throw new ListenersError(
      'E_UNSUPPORTED',
      `owners: 'bpf' cannot be used here: ${TaskFiles.unavailable() ?? 'unknown reason'}`,
    );
  }
  return iterator;
}

/**
 * Adds to `table` the owners the walk worker found. A socket held by several processes (inherited
 * across fork) goes to the newest, as in a one-thread walk, which reads the newest first.
 */
function mergeFound(
  table: SocketTable,
  rowOf: Map<number, number>,
  found: readonly FoundProcess[],
  processes: ProcessCache,
): void {
  for (const holder of found) {
    const process: Process = { pid: holder.pid, name: holder.name, path: holder.path };
    for (let i = 0; i < holder.sockets.length; i += 2) {
      const row = rowOf.get(holder.sockets[i + 1]!);
      if (row === undefined) continue; // not in the table: another kind of socket
      const owner = table.pid[row]!;
      if (owner !== UNKNOWN_ID && owner > holder.pid) continue;
      table.pid[row] = holder.pid;
      table.fd[row] = holder.sockets[i]!;
      if (!processes.has(holder.pid)) processes.set(holder.pid, process);
    }
  }
}

function processByPort(port: number, protocol: Protocol, options: ResolvedOptions): Process {
  // A socket that closes mid-lookup may be replaced at once (port reuse): one fresh try tells.
  const answer = lookUpPort(port, protocol, options);
  const final = answer === 'retry' ? lookUpPort(port, protocol, options) : answer;
  if (final === 'retry') throw notFound(port, protocol, ' (its socket closed during the lookup)');
  return final;
}

function lookUpPort(port: number, protocol: Protocol, options: ResolvedOptions): Process | 'retry' {
  const table = new SocketTable(16);
  readTables({ ...options, protocols: [protocol] }, table, { localPort: port });

  let candidates: number[] = [];
  for (let row = 0; row < table.count; row++) {
    if (table.localPort[row] === port && table.inode[row] !== 0) candidates.push(row);
  }
  if (candidates.length === 0) {
    throw notFound(
      port,
      protocol,
      table.count > 0 ? ' (only sockets no process holds remain, such as TIME_WAIT)' : '',
    );
  }
  // A TCP port's owner is the process listening on it; accepted connections share the port.
  if (table.protocol[candidates[0]!] === IPPROTO_TCP) {
    const listening = candidates.filter((row) => table.state[row] === TCP_LISTEN);
    if (listening.length > 0) candidates = listening;
  }
  const wanted = new Set(candidates.map((row) => table.inode[row]!));
  // The iterator names the holder at once; the walk below is for what it cannot explain (a holder
  // gone before it was read, or none visible), where its report tells why.
  // The pids are listed only if the walk needs them (or to decide whether to load the iterator).
  let listed: Int32Array | undefined;
  const pids = () => (listed ??= listPids());
  const iterator = taskFilesFor(options, () => pids().length);
  const records = iterator?.read();
  const holder = records && newestHolder(records.records, records.length, wanted);
  if (holder) return holder;

  let found: Process | undefined;
  const walk = startWalk(
    preferUid(pids(), table.uid[candidates[0]!]!),
    { mode: 'wanted', inodes: [...wanted] },
    options.parallel,
  ).join(
    (inode) => wanted.has(inode),
    (pid, _inode, pidDir) => {
      found = readProcess(pid, pidDir);
      return found ? 'stop' : 'gone';
    },
  );
  const theirs = walk.found[0];
  if (!found && theirs) found = { pid: theirs.pid, name: theirs.name, path: theirs.path };
  if (found) return found;

  const reasons = [...explainUnowned(table, candidates, walk, options).values()];
  if (reasons.includes('permission')) {
    throw new ListenersError(
      'E_OWNER_UNKNOWN',
      `${protocol} port ${port} is open, but its owner belongs to another user: run as root to see it`,
      { reason: 'permission' },
    );
  }
  if (reasons.includes('hidden')) {
    throw new ListenersError(
      'E_OWNER_UNKNOWN',
      `${protocol} port ${port} is open, but no process visible here holds it (its owner is outside this PID namespace)`,
      { reason: 'hidden' },
    );
  }
  return 'retry';
}

function notFound(port: number, protocol: Protocol, detail: string): ListenersError {
  return new ListenersError('E_NOT_FOUND', `no process owns ${protocol} port ${port}${detail}`);
}

function socketsOfPid(pid: number, options: ResolvedOptions): Listener[] {
  const dir = openPidDir(pid);
  if (dir < 0) {
    if (-dir === ENOENT || -dir === ESRCH)
      throw new ListenersError('E_NOT_FOUND', `no process with pid ${pid}`);
    throw new ListenersError('E_SYSTEM', `cannot open /proc/${pid} (errno ${-dir})`);
  }
  try {
    const { inodes, errno } = socketInodesOf(dir);
    if (errno === EACCES || errno === EPERM) {
      throw new ListenersError(
        'E_PERMISSION',
        `cannot read the sockets of pid ${pid}: it belongs to another user; run as root`,
      );
    }
    const process = readProcess(pid, dir);
    if (errno !== 0 || !process)
      throw new ListenersError('E_NOT_FOUND', `no process with pid ${pid} (it exited)`);
    if (inodes.size === 0) return [];
    const table = new SocketTable(Math.max(16, inodes.size));
    readTables(options, table, {
      keep: (inode, port) => inodes.has(inode) && (!options.ports || options.ports.has(port)),
      tcpInfo: options.tcpInfo,
    });
    const listeners: Listener[] = new Array(table.count);
    for (let row = 0; row < table.count; row++) {
      table.fd[row] = inodes.get(table.inode[row]!) ?? UNKNOWN_ID;
      listeners[row] = toListener(table, row, process);
    }
    return listeners;
  } finally {
    libc().close(dir);
  }
}

export const platform: Platform = {
  name: 'linux',
  isSupported: true,
  scan,
  processByPort,
  socketsOfPid,
  holdsSocket,
  connectionOwners,
};
