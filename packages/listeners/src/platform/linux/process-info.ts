import { basename } from 'node:path';
import { extendedName } from '../../process-name';
import type { Process } from '../../types';
import { O_CLOEXEC, O_RDONLY } from './constants';
import { cString, libc } from './ffi';

const COMM = cString('comm');
const EXE = cString('exe');
const CMDLINE = cString('cmdline');
const buf = Buffer.alloc(4096);

/** The kernel keeps 15 characters of a program's name (TASK_COMM_LEN 16, with the NUL). */
const COMM_MAX = 15;

function readSmallFile(dir: number, file: Buffer): string | undefined {
  const c = libc();
  const fd = c.openat(dir, file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return undefined;
  try {
    const n = c.read(fd, buf, buf.length);
    return n < 0 ? undefined : buf.toString('utf8', 0, n);
  } finally {
    c.close(fd);
  }
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
