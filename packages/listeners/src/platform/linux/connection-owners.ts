import type { ConnectionKey, ConnectionOwner, ConnectionOwners } from '../../connection-owners';
import { type KernelOwnerRecord, KernelOwners } from './bpf/kernel-owners';
import { libc } from './ffi';
import { OwnAddresses } from './own-addresses';
import { openProcessDir, readProcess, readProcessFile, startTicks, startTicksOf } from './process-info';

/** USER_HZ: the clock ticks /proc/PID/stat counts start times in (100 on every Linux port we run on). */
const TICKS_PER_SECOND = 100n;
const NS_PER_TICK = 1_000_000_000n / TICKS_PER_SECOND;

/**
 * The eBPF map read back with the holder checked against /proc: a pid whose start time (in clock
 * ticks since boot) is not the one the hook recorded is another process, so the connection's owner
 * has exited (its name is then the comm the hook saw, with no path).
 */
class LinuxConnectionOwners implements ConnectionOwners {
  /**
   * Processes read from /proc, by pid, start time and exec count (one process image), and when
   * they were last seen running: a new flow of a known one costs a stat read (is it still running?)
   * at most every ALIVE_MS; one seen gone is gone for good (that identity never comes back), so it
   * costs nothing. Bounded: past 4,096 each, the oldest goes.
   */
  private readonly known = new Map<string, { process: ConnectionOwner['process']; checked: number }>();
  private readonly gone = new Set<string>();
  /** Each pid's identity text, for the process it was last (idOf). Cleared when full. */
  private readonly ids = new Map<number, { startTime: bigint; execId: bigint; id: string }>();

  private readonly own = new OwnAddresses();

  constructor(private readonly kernel: KernelOwners) {}

  get hooks() {
    return this.kernel.hooks;
  }

  get capacity() {
    return this.kernel.capacity;
  }

  get listenersSeeded() {
    return this.kernel.listenersSeeded;
  }

  ownerOf(key: ConnectionKey): ConnectionOwner | undefined {
    const record = this.kernel.lookup(key);
    return record && this.owner(record);
  }

  /**
   * As KernelOwners.listenerOf, for a connection to an address of this network namespace and a
   * listener of it (the namespace a capture here sees the traffic of; a listener elsewhere on the
   * same port serves other addresses), whose holder still runs.
   */
  listenerOf(local: { address: string; port: number }): ConnectionOwner | undefined {
    if (!this.own.has(local.address)) return undefined;
    const record = this.kernel.listenerOf(local);
    if (!record || record.netns !== this.own.netns) return undefined;
    const owner = this.owner(record);
    // A holder gone while its record stands is not taken: whoever holds the listener now, it is not it.
    return owner.exited ? undefined : owner;
  }

  /** The record's owner, checked against /proc (see the class). */
  private owner(record: KernelOwnerRecord): ConnectionOwner {
    const id = this.idOf(record);
    const now = performance.now();
    let running: ConnectionOwner['process'] | undefined;
    if (!this.gone.has(id)) {
      const entry = this.known.get(id);
      if (entry && now - entry.checked < ALIVE_MS) running = entry.process;
      else if (entry && sameProcess(record)) {
        entry.checked = now;
        running = entry.process;
      } else {
        this.known.delete(id);
        running = stillRunning(record);
        if (running) bounded(this.known).set(id, { process: running, checked: now });
        else bounded(this.gone).add(id);
      }
    }
    const process = running ?? { pid: record.pid, name: record.comm, path: '' };
    const { at, hook, syn, cgroupId, netns } = record;
    // Object literals of one shape each (a spread would make a slower, larger object per lookup).
    if (syn !== undefined) return { process, exited: running === undefined, at, hook, syn, cgroupId, netns };
    return { process, exited: running === undefined, at, hook, cgroupId, netns };
  }

  close(): void {
    this.kernel.close();
  }

  /**
   * A process's identity as text (pid, start time, exec count): made once per process, not per
   * lookup (a new string would be made, then flattened to be hashed, each time).
   */
  private idOf(record: KernelOwnerRecord): string {
    const seen = this.ids.get(record.pid);
    if (seen && seen.startTime === record.startTime && seen.execId === record.execId) return seen.id;
    const id = `${record.pid}:${record.startTime}:${record.execId}`;
    if (this.ids.size >= 4096) this.ids.clear();
    this.ids.set(record.pid, { startTime: record.startTime, execId: record.execId, id });
    return id;
  }
}

/**
 * How long a process seen running is taken to run still, without reading /proc again: a label may
 * say `exited: false` for this long after its program exited (its name and path were read while it ran).
 */
const ALIVE_MS = 100;

/** The map or set, with its oldest entry gone when it holds 4,096. */
function bounded<T extends Map<string, unknown> | Set<string>>(table: T): T {
  if (table.size >= 4096) table.delete(table.keys().next().value as string);
  return table;
}

/**
 * The process the record names, if that pid is still the same process: its start time, in clock
 * ticks since boot, is the recorded one. Its name and path are read through its /proc directory
 * held open, so a pid taken by another process meanwhile fails those reads instead of answering
 * for it.
 */
function stillRunning(record: KernelOwnerRecord): ConnectionOwner['process'] | undefined {
  const dir = openProcessDir(record.pid);
  if (dir < 0) return undefined;
  try {
    if (startTicks(dir) !== record.startTime / NS_PER_TICK) return undefined;
    // Without the right to read another user's exe, the path is '' and the name still known.
    return readProcess(record.pid, dir);
  } finally {
    libc().close(dir);
  }
}

/** Whether /proc/PID is still the process the hook saw (the same start time). */
function sameProcess(record: KernelOwnerRecord): boolean {
  return startTicksOf(readProcessFile(record.pid, 'stat')) === record.startTime / NS_PER_TICK;
}

/**
 * V8 compiles a function at its first call: a source's first lookup took 0.3 ms, and its first UDP
 * one (with its fallbacks) 0.1 ms, against 7–40 µs afterwards, which a monitor's first flows would
 * wait. So the source asks once for each protocol as it opens, for port 0, at which nothing is
 * ever recorded (binding port 0 picks another port).
 */
const NOWHERE = { address: '127.0.0.1', port: 0 };

export function connectionOwners(options: { capacity?: number }): ConnectionOwners {
  const owners = new LinuxConnectionOwners(KernelOwners.open(options));
  for (const protocol of ['TCP', 'UDP'] as const)
    owners.ownerOf({ protocol, local: NOWHERE, remote: NOWHERE });
  return owners;
}
