import { type SocketTable, UNKNOWN_ID } from '../../socket-table';
import type { Process } from '../../types';
import { AT, RECORD } from './bpf/task-files';
import { listPids, pinProcess } from './fd-walk';
import { libc } from './ffi';
import type { ProcessCache } from './owners';
import { nameNeedsCmdline, readProcess } from './process-info';

// Records are read as 32-bit words, in this machine's byte order (the kernel wrote them): words per
// record and the word of each field.
const WORDS = RECORD / 4;
const TGID = AT.tgid / 4;
const FD = AT.fd / 4;
const INODE = AT.inode / 4;
/** start time, exec count and comm: the words that say which process a record's tgid was. */
const IDENTITY = AT.startTime / 4;
const IDENTITY_WORDS = (RECORD - AT.startTime) / 4;

/**
 * Processes read in the last scan, by pid, with the identity the iterator gave them then. A record
 * with the same pid and identity is the same process, not exec'd and not renamed since, so its
 * name and path are known without reading /proc. Replaced by each scan (bounded by the processes
 * holding sockets); names taken from the command line (which a process may rewrite) are not kept.
 */
let known = new Map<number, { identity: Uint32Array; process: Process }>();

/**
 * Owners from the task_file iterator's records (see RECORD), read after the socket table, so every
 * socket of the table that a process still held was seen. Each row gets its newest holder (as a
 * /proc walk, newest first, would give it). Each holder is then known from the last scan (same
 * identity), or pinned (its /proc/<pid> opened and the fd checked to still be that socket) and read.
 * Returns the pids whose sockets stay unexplained: holders gone before they could be read, and
 * (when sockets remain without an owner) the processes that held no socket at all, among which an
 * exiting owner would be (see explainUnowned).
 */
export function ownersFromRecords(
  records: Buffer,
  length: number,
  table: SocketTable,
  rowOf: ReadonlyMap<number, number>,
  processes: ProcessCache,
): { denied: number[]; unsettled: number[] } {
  const firstRecord = new Map<number, number>(); // pid -> the word index of a record it holds
  const words = wordsOf(records, length);
  for (let w = 0; w + WORDS <= words.length; w += WORDS) {
    const row = rowOf.get(inodeAt(words, w));
    if (row === undefined) continue; // not in the table: a unix socket, say
    const pid = words[w + TGID]!;
    const owner = table.pid[row]!;
    if (owner !== UNKNOWN_ID && owner >= pid) continue;
    table.pid[row] = pid;
    table.fd[row] = words[w + FD]!;
    if (!firstRecord.has(pid)) firstRecord.set(pid, w);
  }
  const gone = new Set<number>();
  const next: typeof known = new Map();
  for (const [pid, w] of firstRecord) {
    const process = identify(records, words, w, next);
    if (process) processes.set(pid, process);
    else gone.add(pid);
  }
  known = next;
  let unresolved = false;
  for (let row = 0; row < table.count; row++) {
    if (gone.has(table.pid[row]!)) table.pid[row] = UNKNOWN_ID;
    if (table.inode[row] !== 0 && table.pid[row] === UNKNOWN_ID) unresolved = true;
  }
  const unsettled = [...gone];
  if (unresolved) {
    const holders = new Set(firstRecord.keys());
    for (const pid of listPids()) if (!holders.has(pid)) unsettled.push(pid);
  }
  return { denied: [], unsettled };
}

/**
 * The process of the record at word `w`: known from the last scan, or read now (pinned by the
 * record's fd and inode), and kept in `keep` for the next scan. Undefined when it is gone.
 */
function identify(records: Buffer, words: Uint32Array, w: number, keep?: typeof known): Process | undefined {
  const pid = words[w + TGID]!;
  const last = known.get(pid);
  if (last && sameIdentity(words, w, last.identity)) {
    keep?.set(pid, last);
    return last.process;
  }
  const comm = commAt(records, w * 4);
  const process = readPinned(pid, words[w + FD]!, inodeAt(words, w), comm);
  if (process && keep && !nameNeedsCmdline(comm, process.path)) {
    keep.set(pid, { identity: words.slice(w + IDENTITY, w + IDENTITY + IDENTITY_WORDS), process });
  }
  return process;
}

function sameIdentity(words: Uint32Array, w: number, identity: Uint32Array): boolean {
  for (let i = 0; i < IDENTITY_WORDS; i++) if (words[w + IDENTITY + i] !== identity[i]) return false;
  return true;
}

/** Name and path of `pid` if it still holds socket `inode` at `fd` (its comm as the iterator saw it). */
function readPinned(pid: number, fd: number, inode: number, comm: string): Process | undefined {
  const pidDir = pinProcess(pid, fd, inode);
  if (pidDir < 0) return undefined;
  try {
    return readProcess(pid, pidDir, comm);
  } finally {
    libc().close(pidDir);
  }
}

/**
 * The newest process holding one of `inodes` according to the records, known from the last scan
 * or read now; undefined when none holds one or it is gone (the caller walks /proc to tell why).
 */
export function newestHolder(
  records: Buffer,
  length: number,
  inodes: ReadonlySet<number>,
): Process | undefined {
  let best = -1;
  const words = wordsOf(records, length);
  for (let w = 0; w + WORDS <= words.length; w += WORDS) {
    if (inodes.has(inodeAt(words, w)) && (best < 0 || words[w + TGID]! > words[best + TGID]!)) best = w;
  }
  return best < 0 ? undefined : identify(records, words, best);
}

function wordsOf(records: Buffer, length: number): Uint32Array {
  return new Uint32Array(records.buffer, records.byteOffset, Math.floor(length / RECORD) * WORDS);
}

/** The u64 inode of the record at word `w` (inode numbers stay far below 2^53). */
function inodeAt(words: Uint32Array, w: number): number {
  return words[w + INODE + 1]! * 0x100000000 + words[w + INODE]!;
}

/** The comm of the record starting at byte `at` (NUL-terminated within its 16 bytes). */
function commAt(records: Buffer, at: number): string {
  const start = at + AT.comm;
  const end = records.indexOf(0, start);
  return records.toString('utf8', start, end < 0 || end > start + 16 ? start + 16 : end);
}
