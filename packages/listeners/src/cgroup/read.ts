import { readFileSync } from 'node:fs';
import { readProcessFile } from '../platform/linux/process-info';
import { type CgroupInfo, cgroupPathOf, describeCgroup } from './describe';

/**
 * The control group of a running process and what it means (Linux; undefined elsewhere, or when
 * the process is gone or its cgroup file is not readable). Docker containers get their name from
 * the runtime's own state file where it is readable (/var/lib/docker/containers/ID/config.v2.json).
 */
export function processCgroup(pid: number): CgroupInfo | undefined {
  if (process.platform !== 'linux' || !Number.isInteger(pid) || pid <= 0) return undefined;
  const text = readProcessFile(pid, 'cgroup');
  if (text === undefined) return undefined;
  const path = cgroupPathOf(text);
  if (path === undefined) return undefined;
  const info = describeCgroup(path);
  if (info.container?.runtime === 'docker') {
    const name = dockerName(info.container.id);
    if (name) info.container.name = name;
  }
  return info;
}

/** `Name` of Docker's config.v2.json ("/web-1" for a container named web-1). */
function dockerName(id: string): string | undefined {
  try {
    const config = JSON.parse(readFileSync(`/var/lib/docker/containers/${id}/config.v2.json`, 'utf8')) as {
      Name?: unknown;
    };
    return typeof config.Name === 'string' ? config.Name.replace(/^\//, '') : undefined;
  } catch {
    return undefined;
  }
}
