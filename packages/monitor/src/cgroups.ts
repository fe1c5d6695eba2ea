import type { LruMap, Process } from '@netwho/attributor';
import { type CgroupInfo, type ProcessUser, processCgroup, processUser } from '@netwho/listeners';

/** What the describe hook adds to a process. */
export interface ProcessContext {
  cgroup: CgroupInfo | undefined;
  user: ProcessUser | undefined;
}

/**
 * A describe hook that adds each program's cgroup (systemd unit, container, pod) and user to its
 * labels: read once per process (by pid and path, in a bounded cache: `cache`'s limit, least
 * recently used forgotten) rather than once per flow.
 */
export function withCgroup(cache: LruMap<string, ProcessContext>): (process: Process) => Process {
  // The same process object, asked again, gets the same answer (no new key or object per flow).
  const made = new WeakMap<Process, Process>();
  return (process) => {
    if (process.cgroup && process.user) return process;
    const done = made.get(process);
    if (done) return done;
    const key = `${process.pid}:${process.path}`;
    let info = cache.get(key);
    if (info === undefined) {
      info = { cgroup: processCgroup(process.pid), user: processUser(process.pid) };
      cache.set(key, info);
    }
    const cgroup = process.cgroup ?? info.cgroup;
    const user = process.user ?? info.user;
    const described =
      cgroup || user ? { ...process, ...(cgroup && { cgroup }), ...(user && { user }) } : process;
    made.set(process, described);
    return described;
  };
}
