import koffi from 'koffi';
import { ListenersError } from '../../errors';
import { extendedName } from '../../process-name';
import type { SocketTable } from '../../socket-table';
import type { Process, ResolvedOptions } from '../../types';
import { ownedTablePlatform } from '../owned-table';
import type { Platform } from '../types';
import { decodeSocketFdInfo, pidList, queryGrowing, socketFds } from './decode';
import {
  PROC_ALL_PIDS,
  PROC_PIDFDSOCKETINFO,
  PROC_PIDLISTFDS,
  PROC_PIDPATHINFO_MAXSIZE,
  SOCKET_FDINFO,
} from './structs';

interface LibProc {
  proc_listpids(type: number, info: number, buffer: Buffer | null, size: number): number;
  proc_pidinfo(pid: number, flavor: number, arg: number, buffer: Buffer | null, size: number): number;
  proc_pidfdinfo(pid: number, fd: number, flavor: number, buffer: Buffer, size: number): number;
  proc_name(pid: number, buffer: Buffer, size: number): number;
  proc_pidpath(pid: number, buffer: Buffer, size: number): number;
}

let bound: LibProc | undefined;
function libproc(): LibProc {
  if (bound) return bound;
  const lib = koffi.load('/usr/lib/libSystem.B.dylib');
  bound = {
    proc_listpids: lib.func(
      'int proc_listpids(uint32_t type, uint32_t typeinfo, void *buffer, int buffersize)',
    ),
    proc_pidinfo: lib.func(
      'int proc_pidinfo(int pid, int flavor, uint64_t arg, void *buffer, int buffersize)',
    ),
    proc_pidfdinfo: lib.func('int proc_pidfdinfo(int pid, int fd, int flavor, void *buffer, int buffersize)'),
    proc_name: lib.func('int proc_name(int pid, void *buffer, uint32_t buffersize)'),
    proc_pidpath: lib.func('int proc_pidpath(int pid, void *buffer, uint32_t buffersize)'),
  } as LibProc;
  return bound;
}

/**
 * macOS has no global socket table with owners: every process's fds are listed
 * (proc_pidinfo(PROC_PIDLISTFDS)) and each socket fd read (proc_pidfdinfo(PROC_PIDFDSOCKETINFO)).
 * Processes we may not inspect (another user's, without root) are skipped, so their sockets are not
 * listed at all.
 */
function readTable(options: ResolvedOptions, table: SocketTable): void {
  const lib = libproc();
  const pids = queryGrowing((buffer, size) => lib.proc_listpids(PROC_ALL_PIDS, 0, buffer, size));
  if (!pids) throw new ListenersError('E_SYSTEM', 'proc_listpids failed');
  const info = Buffer.alloc(SOCKET_FDINFO.size);
  const seen = new Set<bigint>();
  const wantTcp = options.protocols.includes('TCP');
  const wantUdp = options.protocols.includes('UDP');
  // Newest first: a socket shared through fork() is named after its newest holder, as on Linux.
  for (const pid of pidList(pids.buffer, pids.bytes).sort((a, b) => b - a)) {
    const fds = queryGrowing((buffer, size) => lib.proc_pidinfo(pid, PROC_PIDLISTFDS, 0, buffer, size));
    if (!fds) continue; // exited, or not ours to read
    for (const fd of socketFds(fds.buffer, fds.bytes)) {
      const bytes = lib.proc_pidfdinfo(pid, fd, PROC_PIDFDSOCKETINFO, info, info.length);
      if (bytes <= 0) continue; // closed meanwhile
      const before = table.count;
      decodeSocketFdInfo(info, bytes, pid, table, seen);
      if (table.count > before) {
        const row = before;
        const keep =
          (table.protocol[row] === 6 ? wantTcp : wantUdp) &&
          options.families.includes(table.family[row] as 4 | 6);
        if (!keep) table.dropLastRow();
      }
    }
  }
}

function processes(pids: ReadonlySet<number>): Map<number, Process> {
  const lib = libproc();
  const out = new Map<number, Process>();
  const name = Buffer.alloc(256);
  const path = Buffer.alloc(PROC_PIDPATHINFO_MAXSIZE);
  for (const pid of pids) {
    const n = lib.proc_name(pid, name, name.length);
    const p = lib.proc_pidpath(pid, path, path.length);
    if (n <= 0 && p <= 0) continue; // gone
    const fullPath = p > 0 ? path.toString('utf8', 0, p) : '';
    const short = n > 0 ? name.toString('utf8', 0, n) : '';
    out.set(pid, { pid, name: extendedName(short, fullPath), path: fullPath });
  }
  return out;
}

export const platform: Platform = ownedTablePlatform({
  name: 'macos',
  source: 'libproc',
  readTable,
  processes,
});
