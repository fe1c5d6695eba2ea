import { mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { cString, libc } from '../ffi';

// mount(2), umount2(2), openat(2) flags (include/uapi/linux/mount.h, asm-generic/fcntl.h).
const MS_NOSUID = 2;
const MS_NODEV = 4;
const MS_NOEXEC = 8;
const MNT_DETACH = 2;
const AT_FDCWD = -100;
const O_RDONLY = 0;
const O_DIRECTORY = 0o200000;
const O_CLOEXEC = 0o2000000;

/** The root of the cgroup v2 hierarchy (every process is in it or below), opened; or why not. */
export function cgroupRoot(): { fd: number; why: string } {
  let mount: string | undefined;
  try {
    for (const line of readFileSync('/proc/self/mountinfo', 'latin1').split('\n')) {
      const [left, right] = line.split(' - ');
      if (right?.startsWith('cgroup2 ') && left?.split(' ')[3] === '/') mount = left.split(' ')[4];
    }
  } catch {
    // no /proc
  }
  if (!mount) return privateCgroupRoot();
  const fd = libc().openat(AT_FDCWD, cString(mount), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return fd < 0 ? { fd: -1, why: `cannot open ${mount} (errno ${koffi.errno()})` } : { fd, why: '' };
}

/**
 * Where this mount namespace shows no cgroupfs (`ip netns exec` remounts /sys without it): mount
 * cgroup2 on a folder of our own, open its root, and unmount it at once (MNT_DETACH: the open
 * directory keeps the hierarchy, and the links made from it hold the cgroup).
 */
function privateCgroupRoot(): { fd: number; why: string } {
  let dir: string;
  try {
    dir = mkdtempSync(join(tmpdir(), 'netwho-cgroup2-'));
  } catch (error) {
    return {
      fd: -1,
      why: `no cgroup v2 hierarchy is mounted, and no folder to mount one (${(error as Error).message})`,
    };
  }
  const c = libc();
  const target = cString(dir);
  let fd = -1;
  let why = '';
  if (c.mount(cString('cgroup2'), target, cString('cgroup2'), MS_NOSUID | MS_NODEV | MS_NOEXEC, null) !== 0)
    why = `no cgroup v2 hierarchy is mounted, and mounting one was refused (errno ${koffi.errno()})`;
  else {
    fd = c.openat(AT_FDCWD, target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) why = `cannot open the cgroup v2 root mounted on ${dir} (errno ${koffi.errno()})`;
    c.umount2(target, MNT_DETACH);
  }
  try {
    rmdirSync(dir);
  } catch {
    // Still busy: the folder in the temporary directory is all that is left.
  }
  return { fd, why };
}
