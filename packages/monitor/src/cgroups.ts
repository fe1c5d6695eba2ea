import type { LruMap, Process } from '@netwho/attributor';
import { type CgroupInfo, processCgroup } from '@netwho/listeners';

/**
 * A describe hook that adds each program's cgroup (systemd unit, container, pod) to its labels:
 * read once per process (by pid and path, in a bounded cache: `cache`'s limit, least recently used
 * forgotten) rather than once per flow.
 */
export function withCgroup(cache: LruMap<string, CgroupInfo | null>): (process: Process) => Process {
  return (process) => {
    if (process.cgroup) return process;
    const key = `${process.pid}:${process.path}`;
    let info = cache.get(key);
    if (info === undefined) {
      info = processCgroup(process.pid) ?? null;
      cache.set(key, info);
    }
    return info ? { ...process, cgroup: info } : process;
  };
}
