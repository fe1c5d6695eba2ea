import { type SocketTable, UNKNOWN_ID } from '../../socket-table';
import type { Process } from '../../types';
import { RECORD } from './bpf/task-files';
import { listPids, pinProcess } from './fd-walk';
import { libc } from './ffi';
import type { ProcessCache } from './owners';
import { readProcess } from './process-info';

/**
 * Owners from the task_file iterator's records ({tgid u32, fd u32, inode u64} per socket fd of
 * every process), read after the socket table, so every socket of the table that a process still
 * held was seen. Each row gets its newest holder (as a /proc walk, newest first, would give it);
 * each holder is then pinned (its /proc/<pid> opened and the fd checked to still be that socket)
 * and read once. Returns the pids whose sockets stay unexplained: holders gone before they could
 * be read, and (when sockets remain without an owner) the processes that held no socket at all,
 * among which an exiting owner would be (see explainUnowned).
 */
export function ownersFromRecords(
  records: Buffer,
  length: number,
  table: SocketTable,
  rowOf: ReadonlyMap<number, number>,
  processes: ProcessCache,
): { denied: number[]; unsettled: number[] } {
  const firstRow = new Map<number, number>(); // pid -> a row it holds, to pin it by
  const words = wordsOf(records, length);
  for (let w = 0; w + 4 <= words.length; w += 4) {
    const row = rowOf.get(inodeAt(words, w));
    if (row === undefined) continue; // not in the table: a unix socket, say
    const pid = words[w]!;
    const owner = table.pid[row]!;
    if (owner !== UNKNOWN_ID && owner >= pid) continue;
    table.pid[row] = pid;
    table.fd[row] = words[w + 1]!;
    if (!firstRow.has(pid)) firstRow.set(pid, row);
  }
  const gone = new Set<number>();
  for (const [pid, row] of firstRow) {
    const process = readPinned(pid, table.fd[row]!, table.inode[row]!);
    if (process) processes.set(pid, process);
    else gone.add(pid);
  }
  let unresolved = false;
  for (let row = 0; row < table.count; row++) {
    if (gone.has(table.pid[row]!)) table.pid[row] = UNKNOWN_ID;
    if (table.inode[row] !== 0 && table.pid[row] === UNKNOWN_ID) unresolved = true;
  }
  const unsettled = [...gone];
  if (unresolved) {
    const holders = new Set(firstRow.keys());
    for (const pid of listPids()) if (!holders.has(pid)) unsettled.push(pid);
  }
  return { denied: [], unsettled };
}

/** Name and path of `pid` if it still holds socket `inode` at `fd`. */
export function readPinned(pid: number, fd: number, inode: number): Process | undefined {
  const pidDir = pinProcess(pid, fd, inode);
  if (pidDir < 0) return undefined;
  try {
    return readProcess(pid, pidDir);
  } finally {
    libc().close(pidDir);
  }
}

/** The newest process holding one of `inodes` according to the records, with the fd it holds it at. */
export function newestHolder(
  records: Buffer,
  length: number,
  inodes: ReadonlySet<number>,
): { pid: number; fd: number; inode: number } | undefined {
  let best: { pid: number; fd: number; inode: number } | undefined;
  const words = wordsOf(records, length);
  for (let w = 0; w + 4 <= words.length; w += 4) {
    const inode = inodeAt(words, w);
    if (!inodes.has(inode)) continue;
    const pid = words[w]!;
    if (!best || pid > best.pid) best = { pid, fd: words[w + 1]!, inode };
  }
  return best;
}

/** The records as 32-bit words (little-endian, as the kernel wrote them on this machine). */
function wordsOf(records: Buffer, length: number): Uint32Array {
  return new Uint32Array(records.buffer, records.byteOffset, Math.floor(length / RECORD) * (RECORD / 4));
}

/** The u64 inode of the record at word `w` (inode numbers stay far below 2^53). */
function inodeAt(words: Uint32Array, w: number): number {
  return words[w + 3]! * 0x100000000 + words[w + 2]!;
}
