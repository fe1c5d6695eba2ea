import koffi from 'koffi';
import { ListenersError } from '../../errors';
import { extendedName } from '../../process-name';
import { IPPROTO_TCP, IPPROTO_UDP, type SocketTable } from '../../socket-table';
import type { Process, ResolvedOptions } from '../../types';
import { ownedTablePlatform } from '../owned-table';
import type { Platform } from '../types';
import { decodePcbList, joinOwners, kinfoComm, socketOwners } from './decode';
import { CTL_KERN, ENOMEM, KERN_PROC, KERN_PROC_PATHNAME, KERN_PROC_PID, KINFO_PROC } from './structs';

interface LibC {
  sysctlbyname(
    name: string,
    old: Buffer | null,
    oldLength: [number],
    newValue: null,
    newLength: number,
  ): number;
  sysctl(
    mib: Int32Array,
    length: number,
    old: Buffer | null,
    oldLength: [number],
    newValue: null,
    newLength: number,
  ): number;
}

let bound: LibC | undefined;
function libc(): LibC {
  if (bound) return bound;
  const lib = koffi.load('libc.so.7');
  bound = {
    sysctlbyname: lib.func(
      'int sysctlbyname(const char *name, void *old, _Inout_ size_t *oldlen, const void *newp, size_t newlen)',
    ),
    sysctl: lib.func(
      'int sysctl(const int *mib, uint32_t namelen, void *old, _Inout_ size_t *oldlen, const void *newp, size_t newlen)',
    ),
  } as LibC;
  return bound;
}

/**
 * A sysctl answer whole: the size is asked first, then the read made with room to spare; when the
 * data grew past it in between (ENOMEM) the read is repeated with more room.
 */
function readSysctl(name: string): { buffer: Buffer; bytes: number } {
  const c = libc();
  for (let attempt = 0; attempt < 6; attempt++) {
    const size: [number] = [0];
    if (c.sysctlbyname(name, null, size, null, 0) !== 0) break;
    const room = Math.ceil(size[0] * 1.25) + 4096 * (attempt + 1);
    const buffer = Buffer.alloc(room);
    const length: [number] = [room];
    if (c.sysctlbyname(name, buffer, length, null, 0) === 0) return { buffer, bytes: length[0] };
    if (koffi.errno() !== ENOMEM) break;
  }
  throw new ListenersError('E_SYSTEM', `sysctl ${name} failed (errno ${koffi.errno()})`);
}

function readTable(options: ResolvedOptions, table: SocketTable): void {
  for (const protocol of options.protocols) {
    const number = protocol === 'TCP' ? IPPROTO_TCP : IPPROTO_UDP;
    const name = `net.inet.${protocol.toLowerCase()}.pcblist`;
    for (let attempt = 0; ; attempt++) {
      const { buffer, bytes } = readSysctl(name);
      const result = decodePcbList(buffer, bytes, number, table);
      if (result === 'complete') break;
      if (attempt === 4) throw new ListenersError('E_SYSTEM', `${name} kept changing while it was read`);
    }
  }
  // Only the families asked for.
  let to = 0;
  for (let row = 0; row < table.count; row++) {
    if (!options.families.includes(table.family[row] as 4 | 6)) continue;
    if (to !== row) table.copyRow(row, to);
    to++;
  }
  table.count = to;
  const files = readSysctl('kern.file');
  joinOwners(table, socketOwners(files.buffer, files.bytes));
}

function processes(pids: ReadonlySet<number>): Map<number, Process> {
  const c = libc();
  const out = new Map<number, Process>();
  const info = Buffer.alloc(KINFO_PROC.size);
  const path = Buffer.alloc(4096);
  for (const pid of pids) {
    const infoLength: [number] = [info.length];
    const ok =
      c.sysctl(Int32Array.of(CTL_KERN, KERN_PROC, KERN_PROC_PID, pid), 4, info, infoLength, null, 0) === 0;
    const comm = ok ? kinfoComm(info, infoLength[0]) : undefined;
    if (comm === undefined) continue; // gone
    const pathLength: [number] = [path.length];
    const fullPath =
      c.sysctl(Int32Array.of(CTL_KERN, KERN_PROC, KERN_PROC_PATHNAME, pid), 4, path, pathLength, null, 0) ===
        0 && pathLength[0] > 1
        ? path.toString('utf8', 0, pathLength[0] - 1)
        : '';
    out.set(pid, { pid, name: extendedName(comm, fullPath), path: fullPath });
  }
  return out;
}

export const platform: Platform = ownedTablePlatform({
  name: 'freebsd',
  source: 'sysctl',
  readTable,
  processes,
});
