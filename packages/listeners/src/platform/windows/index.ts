import { basename } from 'node:path';
import { ListenersError } from '../../errors';
import type { SocketTable } from '../../socket-table';
import type { Process, ResolvedOptions } from '../../types';
import { ownedTablePlatform } from '../owned-table';
import type { Platform } from '../types';
import { callGrowing, decodeIpTable, decodeProcessEntry, type TableKind } from './decode';
import { isBadHandle, win32 } from './ffi';
import {
  AF_INET,
  AF_INET6,
  PROCESS_QUERY_LIMITED_INFORMATION,
  PROCESSENTRY32W,
  TCP_TABLE_OWNER_PID_ALL,
  TH32CS_SNAPPROCESS,
  UDP_TABLE_OWNER_PID,
} from './structs';

/** Windows names these pids though no process can be opened: System Idle Process and System. */
const WELL_KNOWN: Record<number, string> = { 0: 'System Idle Process', 4: 'System' };

function readTable(options: ResolvedOptions, table: SocketTable): void {
  const w = win32();
  for (const protocol of options.protocols) {
    for (const family of options.families) {
      const kind = `${protocol.toLowerCase()}${family}` as TableKind;
      const af = family === 4 ? AF_INET : AF_INET6;
      // Retried once more when the answer does not decode: rows added between the size in the
      // header and the bytes copied.
      for (let attempt = 0; ; attempt++) {
        const answer = callGrowing((buffer, size) =>
          protocol === 'TCP'
            ? w.GetExtendedTcpTable(buffer, size, 0, af, TCP_TABLE_OWNER_PID_ALL, 0)
            : w.GetExtendedUdpTable(buffer, size, 0, af, UDP_TABLE_OWNER_PID, 0),
        );
        if ('error' in answer) {
          throw new ListenersError(
            'E_SYSTEM',
            `GetExtended${protocol === 'TCP' ? 'Tcp' : 'Udp'}Table(IPv${family}) failed with error ${answer.error}`,
          );
        }
        if (decodeIpTable(kind, answer.buffer, answer.length, table)) break;
        if (attempt === 2)
          throw new ListenersError('E_SYSTEM', `the ${protocol}/IPv${family} table did not decode`);
      }
    }
  }
}

/** One Toolhelp snapshot for the names, then the full path of each wanted pid. */
function processes(pids: ReadonlySet<number>): Map<number, Process> {
  const w = win32();
  const out = new Map<number, Process>();
  const snapshot = w.CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (isBadHandle(snapshot)) throw new ListenersError('E_SYSTEM', 'CreateToolhelp32Snapshot failed');
  try {
    const entry = Buffer.alloc(PROCESSENTRY32W.size);
    entry.writeUInt32LE(PROCESSENTRY32W.size, PROCESSENTRY32W.dwSize);
    for (let ok = w.Process32FirstW(snapshot, entry); ok; ok = w.Process32NextW(snapshot, entry)) {
      const { pid, exeFile } = decodeProcessEntry(entry);
      if (!pids.has(pid)) continue;
      const path = WELL_KNOWN[pid] ? '' : imagePath(pid);
      out.set(pid, { pid, name: WELL_KNOWN[pid] ?? (exeFile || basename(path)), path });
    }
  } finally {
    w.CloseHandle(snapshot);
  }
  for (const pid of pids) {
    if (!out.has(pid) && WELL_KNOWN[pid]) out.set(pid, { pid, name: WELL_KNOWN[pid]!, path: '' });
  }
  return out;
}

/** The full path of a process's image, or '' when it cannot be opened (protected, another session). */
function imagePath(pid: number): string {
  const w = win32();
  const handle = w.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
  if (isBadHandle(handle)) return '';
  try {
    const name = Buffer.alloc(32 * 1024 * 2);
    const size: [number] = [32 * 1024];
    return w.QueryFullProcessImageNameW(handle, 0, name, size)
      ? name.toString('utf16le', 0, size[0] * 2)
      : '';
  } finally {
    w.CloseHandle(handle);
  }
}

export const platform: Platform = ownedTablePlatform({
  name: 'windows',
  source: 'iphlpapi',
  readTable,
  processes,
});
