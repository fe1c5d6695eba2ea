import { basename } from 'node:path';
import { extendedName } from '../../process-name';
import type { Process } from '../../types';
import { O_CLOEXEC, O_DIRECTORY, O_RDONLY } from './constants';
import { AT_FDCWD, cString, libc } from './ffi';

const COMM = cString('comm');
const EXE = cString('exe');
const CMDLINE = cString('cmdline');
const STAT = cString('stat');
const buf = Buffer.alloc(4096);

/** The kernel keeps 15 characters of a program's name (TASK_COMM_LEN 16, with the NUL). */
const COMM_MAX = 15;

/**
 * A file of /proc/<pid> (the directory open as `dir`), whole, as text; undefined when it cannot be
 * read (ESRCH once the process has exited). One openat, reads and a close through libc, into one
 * buffer: about a third of what readFileSync costs on procfs (whose files report size 0, so it
 * allocates 64 KiB for each), 70 against 210 µs for the files a newly seen process needs.
 */
export function readSmallFile(
  dir: number,
  file: Buffer,
  encoding: 'utf8' | 'latin1' = 'utf8',
): string | undefined {
  const c = libc();
  const fd = c.openat(dir, file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return undefined;
  try {
    let n = c.read(fd, buf, buf.length);
    if (n < buf.length) return n < 0 ? undefined : buf.toString(encoding, 0, n);
    const parts = [Buffer.from(buf)]; // longer than the buffer (a long command line): read on
    for (n = c.read(fd, buf, buf.length); n > 0; n = c.read(fd, buf, buf.length))
      parts.push(Buffer.from(buf.subarray(0, n)));
    return n < 0 ? undefined : Buffer.concat(parts).toString(encoding);
  } finally {
    c.close(fd);
  }
}

/**
 * /proc/<pid> open as a directory (its fd; negative when there is no such process). Files read
 * through it are that process's even if the pid is taken by another since: they fail instead.
 * The caller closes it.
 */
export function openProcessDir(pid: number): number {
  return libc().openat(AT_FDCWD, cString(`/proc/${pid}`), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/** A file of /proc/<pid> as text (`name` NUL-terminated, see cString), or undefined when it cannot be read. */
export function readProcessFile(
  pid: number,
  name: string,
  encoding: 'utf8' | 'latin1' = 'latin1',
): string | undefined {
  return readSmallFile(AT_FDCWD, cString(`/proc/${pid}/${name}`), encoding);
}

/**
 * The start time of the process whose /proc/<pid> is `dir`, in clock ticks since boot (field 22 of
 * stat, proc(5)); undefined when it has exited.
 */
export function startTicks(dir: number): bigint | undefined {
  return startTicksOf(readSmallFile(dir, STAT, 'latin1'));
}

/** The start time (clock ticks since boot) in a /proc/<pid>/stat text, or undefined. */
export function startTicksOf(stat: string | undefined): bigint | undefined {
  if (!stat) return undefined;
  // Fields after the command name (which may hold spaces and parentheses): starttime is field 22.
  const field = stat.slice(stat.lastIndexOf(')') + 2).split(' ', 20)[19];
  return field && /^\d+$/.test(field) ? BigInt(field) : undefined;
}

/**
 * Name and executable path of the process whose /proc/<pid> is open as `pidDir`. Reading through
 * that fd pins the process: if it exits, these reads fail instead of reading a newer process that
 * got the same pid. Undefined when the process has exited. `knownComm` (the BPF iterator reports
 * it) saves reading the comm file.
 */
export function readProcess(pid: number, pidDir: number, knownComm?: string): Process | undefined {
  const comm = knownComm ?? readSmallFile(pidDir, COMM);
  if (comm === undefined) return undefined; // exited: every file of a dead process reads ESRCH
  const c = libc();
  const n = c.readlinkat(pidDir, EXE, buf, buf.length);
  // With the comm known, a failed exe read may mean the process has exited since: the comm file tells.
  if (n < 0 && knownComm !== undefined && readSmallFile(pidDir, COMM) === undefined) return undefined;
  // exe is unreadable for another user's process unless we are root, and absent for kernel threads.
  let path = n > 0 ? buf.toString('utf8', 0, n) : '';
  if (path.endsWith(' (deleted)')) path = path.slice(0, -' (deleted)'.length);
  return { pid, name: fullName(comm.replace(/\n$/, ''), path, () => readSmallFile(pidDir, CMDLINE)), path };
}

/**
 * The program's name: the kernel's `comm`, unless it was cut at 15 characters and a longer name that
 * starts with it is knowable from the executable's path or argv[0].
 */
export function fullName(comm: string, path: string, readCmdline: () => string | undefined): string {
  if (comm.length < COMM_MAX) return comm || (path ? basename(path) : '');
  if (!nameNeedsCmdline(comm, path)) return extendedName(comm, path);
  const argv0 = readCmdline()?.split('\0', 1)[0] ?? '';
  const fromArgv = basename(argv0.split(' ', 1)[0] ?? '');
  if (fromArgv.length > comm.length && fromArgv.startsWith(comm)) return fromArgv;
  return comm;
}

/** Whether fullName() looks at the command line for this comm and path (a cut comm the path does not extend). */
export function nameNeedsCmdline(comm: string, path: string): boolean {
  return comm.length >= COMM_MAX && extendedName(comm, path) === comm;
}
