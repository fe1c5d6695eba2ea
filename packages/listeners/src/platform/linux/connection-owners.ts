import { readFileSync, readlinkSync } from 'node:fs';
import type { ConnectionKey, ConnectionOwner, ConnectionOwners } from '../../connection-owners';
import { extendedName } from '../../process-name';
import { type KernelOwnerRecord, KernelOwners } from './bpf/kernel-owners';

/** USER_HZ: the clock ticks /proc/PID/stat counts start times in (100 on every Linux port we run on). */
const TICKS_PER_SECOND = 100n;
const NS_PER_TICK = 1_000_000_000n / TICKS_PER_SECOND;

/**
 * The eBPF map read back with the holder checked against /proc: a pid whose start time (in clock
 * ticks since boot) is not the one the hook recorded is another process, so the connection's owner
 * has exited (its name is then the comm the hook saw, with no path).
 */
class LinuxConnectionOwners implements ConnectionOwners {
  constructor(private readonly kernel: KernelOwners) {}

  get hooks() {
    return this.kernel.hooks;
  }

  get capacity() {
    return this.kernel.capacity;
  }

  ownerOf(key: ConnectionKey): ConnectionOwner | undefined {
    const record = this.kernel.lookup(key);
    if (!record) return undefined;
    const running = stillRunning(record);
    return {
      process: running ?? { pid: record.pid, name: record.comm, path: '' },
      exited: running === undefined,
      at: record.at,
      hook: record.hook,
      cgroupId: record.cgroupId,
      netns: record.netns,
    };
  }

  close(): void {
    this.kernel.close();
  }
}

/** The process the record names, if that pid is still the same process (same start time). */
function stillRunning(record: KernelOwnerRecord): ConnectionOwner['process'] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${record.pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // Fields after the command name (which may hold spaces and parentheses): starttime is field 22.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const started = BigInt(fields[19] ?? '-1');
  if (started !== record.startTime / NS_PER_TICK) return undefined;
  let path = '';
  try {
    path = readlinkSync(`/proc/${record.pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    // another user's process without the right to read its exe: the name is still known
  }
  let comm = record.comm;
  try {
    comm = readFileSync(`/proc/${record.pid}/comm`, 'latin1').trimEnd();
  } catch {
    // gone just now: keep the hook's comm
  }
  return { pid: record.pid, name: extendedName(comm, path), path };
}

export function connectionOwners(options: { capacity?: number }): ConnectionOwners {
  return new LinuxConnectionOwners(KernelOwners.open(options));
}
