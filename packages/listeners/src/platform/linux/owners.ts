import { SocketTable, UNKNOWN_ID } from '../../socket-table';
import type { Process, ResolvedOptions, UnownedReason } from '../../types';
import { exitingUids, uidsOf, type WalkReport } from './fd-walk';
import { SockDiag } from './sock-diag';
import { readTables } from './tables';

/**
 * Why the owners of `rows` (sockets with an inode that no walked process held) are unknown:
 * `permission` when processes of the socket's uid had unreadable fds. Otherwise we ask the kernel
 * again: a socket that is gone closed during the scan (`vanished`), and so did one whose owner may be
 * a process of its uid that is exiting (it drops its fds before the kernel frees its sockets). A
 * socket still there otherwise is held by no process we can see (`hidden`: its owner is outside our
 * PID namespace, or the socket is in flight between processes or held by the kernel).
 */
export function explainUnowned(
  table: SocketTable,
  rows: readonly number[],
  walk: Pick<WalkReport, 'denied' | 'unsettled'>,
  options: ResolvedOptions,
): Map<number, UnownedReason> {
  const reasons = new Map<number, UnownedReason>();
  if (rows.length === 0) return reasons;
  const deniedUids = uidsOf(walk.denied);
  const recheck = new Set<number>();
  for (const row of rows) {
    if (deniedUids.has(table.uid[row]!)) reasons.set(row, 'permission');
    else recheck.add(table.inode[row]!);
  }
  if (recheck.size > 0) {
    const present = stillPresent(table, rows, recheck, options);
    // Asked after the recheck: an owner exiting then is exiting, a zombie or gone now.
    const exiting = exitingUids(walk.unsettled);
    for (const row of rows) {
      if (reasons.has(row)) continue;
      const ownerMayBeExiting = exiting.someGone || exiting.uids.has(table.uid[row]!);
      const hidden = present.has(table.inode[row]!) && !ownerMayBeExiting;
      reasons.set(row, hidden ? 'hidden' : 'vanished');
    }
  }
  return reasons;
}

/** Up to this many sockets are rechecked one by one (exact sock_diag requests); past it, one re-read. */
const EXACT_RECHECKS = 32;

/** The inodes among `recheck` whose sockets still exist now. */
function stillPresent(
  table: SocketTable,
  rows: readonly number[],
  recheck: Set<number>,
  options: ResolvedOptions,
): Set<number> {
  const diag = recheck.size <= EXACT_RECHECKS && options.source !== 'procfs' ? SockDiag.open() : undefined;
  if (diag) {
    try {
      const present = new Set<number>();
      for (const row of rows)
        if (recheck.has(table.inode[row]!) && diag.exists(table, row)) present.add(table.inode[row]!);
      return present;
    } finally {
      diag.close();
    }
  }
  const again = new SocketTable(recheck.size);
  readTables(options, again, { keep: (inode) => recheck.has(inode) });
  return new Set(again.inode.subarray(0, again.count));
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
