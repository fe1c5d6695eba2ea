import { SocketTable, UNKNOWN_ID } from '../../socket-table';
import type { Process, ScanOptions, UnownedReason } from '../../types';
import { uidsOf } from './fd-walk';
import { readTables } from './tables';

/**
 * Why the owners of `rows` (sockets with an inode that no walked process held) are unknown:
 * `permission` when processes of the socket's uid had unreadable fds; otherwise we ask the kernel
 * again: a socket that is still there is `hidden` (its owner is outside our PID namespace), one that
 * is gone `vanished`.
 */
export function explainUnowned(
  table: SocketTable,
  rows: readonly number[],
  denied: readonly number[],
  options: Required<ScanOptions>,
): Map<number, UnownedReason> {
  const reasons = new Map<number, UnownedReason>();
  if (rows.length === 0) return reasons;
  const deniedUids = uidsOf(denied);
  const recheck = new Set<number>();
  for (const row of rows) {
    if (deniedUids.has(table.uid[row]!)) reasons.set(row, 'permission');
    else recheck.add(table.inode[row]!);
  }
  if (recheck.size > 0) {
    const again = new SocketTable(recheck.size);
    readTables(options, again, { keep: (inode) => recheck.has(inode) });
    const present = new Set(again.inode.subarray(0, again.count));
    for (const row of rows) {
      if (!reasons.has(row)) reasons.set(row, present.has(table.inode[row]!) ? 'hidden' : 'vanished');
    }
  }
  return reasons;
}

/** The rows of `table` that hold a process-owned socket (inode not 0) whose pid is still unknown. */
export function unresolvedRows(table: SocketTable, rows?: readonly number[]): number[] {
  const out: number[] = [];
  const check = (row: number) => {
    if (table.inode[row] !== 0 && table.pid[row] === UNKNOWN_ID) out.push(row);
  };
  if (rows) rows.forEach(check);
  else for (let row = 0; row < table.count; row++) check(row);
  return out;
}

/** Cache of the processes met during one call: read once per pid, not per socket. */
export type ProcessCache = Map<number, Process>;
