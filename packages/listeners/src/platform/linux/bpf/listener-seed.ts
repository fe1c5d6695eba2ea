import { statSync } from 'node:fs';
import koffi from 'koffi';
import { cgroupPathOf } from '../../../cgroup/describe';
import { IPPROTO_TCP, SocketTable, TCP_LISTEN } from '../../../socket-table';
import { libc } from '../ffi';
import { readProcessFile, startTicksOf } from '../process-info';
import { SockDiag } from '../sock-diag';
import type { ListenMaps } from './listen-hooks';
import { Hook, KEY, VALUE } from './owner-layout';
import { AT, RECORD, TaskFiles } from './task-files';

/**
 * Listeners opened before the listen hooks attached have no record: a server started before the
 * monitor would wait for each connection's own record, as without the hooks. So the listeners'
 * map is seeded once, at open, from the socket table (sock_diag: every TCP listener, its address,
 * port, inode and IPV6_V6ONLY) and the task_file iterator (every process holding each listener):
 *
 * 1. read both; a listener held by one process alone is written under its key, naming it, as of
 *    the time the reads began (BPF_NOEXIST: a listen() since the hooks attached wrote its own);
 *    several sockets on one key (SO_REUSEPORT) are counted, and name nobody unless all are one
 *    process's; its holder is noted for the fork hook;
 * 2. read the processes again: a fork between the first read and the holder being noted was not
 *    seen by the fork hook, but its child holds the listener now: the record then names nobody; a
 *    listener closed meanwhile (its close found no record to remove) has its record removed.
 *
 * Needs the iterator (root, the initial PID namespace); without it nothing is seeded.
 */

const BPF_MAP_UPDATE_ELEM = 2;
const BPF_MAP_LOOKUP_ELEM = 1;
const BPF_MAP_DELETE_ELEM = 3;
const BPF_ANY = 0;
const BPF_NOEXIST = 1;
/** USER_HZ ticks (/proc/PID/stat's start time) in ns, as the hooks' start_boottime counts. */
const NS_PER_TICK = 10_000_000n;

const bpf = (cmd: number, attr: Buffer) => libc().bpf(cmd, attr);

/** One map, read and written through a key and a value buffer of its own. */
class MapIo {
  readonly key: Buffer;
  readonly value: Buffer;
  private readonly attr = Buffer.alloc(32);

  constructor(fd: number, keySize: number, valueSize: number) {
    this.key = Buffer.alloc(keySize);
    this.value = Buffer.alloc(valueSize);
    this.attr.writeUInt32LE(fd, 0);
    this.attr.writeBigUInt64LE(koffi.address(this.key), 8);
    this.attr.writeBigUInt64LE(koffi.address(this.value), 16);
  }

  lookup = () => this.call(BPF_MAP_LOOKUP_ELEM, BPF_ANY);
  update = (flags: number) => this.call(BPF_MAP_UPDATE_ELEM, flags);
  remove = () => this.call(BPF_MAP_DELETE_ELEM, BPF_ANY);

  private call(cmd: number, flags: number): boolean {
    this.attr.writeBigUInt64LE(BigInt(flags), 24);
    return bpf(cmd, this.attr) === 0;
  }
}

/** A key of the listeners' map, as the listen program writes it: its sockets' inodes and whether all are IPv6-only. */
interface Listening {
  key: Buffer;
  inodes: number[];
  v6Only: boolean;
}

/** Seeds the listeners' map; returns how many listeners it wrote, or why it wrote none. */
export function seedListeners(maps: ListenMaps): { seeded: number; reason?: string } {
  const files = TaskFiles.open();
  if (!files) return { seeded: 0, reason: TaskFiles.unavailable() ?? 'no task_file iterator' };
  const since = process.hrtime.bigint(); // CLOCK_MONOTONIC, as bpf_ktime_get_ns
  const listening = listeningSockets();
  if (!listening) return { seeded: 0, reason: 'sock_diag refused the TCP table' };
  const first = holdersByInode(files);
  if (!first) return { seeded: 0, reason: 'the task_file iterator could not be read' };
  const listeners = new MapIo(maps.listeners, KEY.SIZE, VALUE.SIZE);
  const holders = new MapIo(maps.holders, 4, 8);
  const written: { at: Listening; tgid: number }[] = [];
  for (const at of listening.values()) {
    const tgids = new Set<number>();
    for (const inode of at.inodes) for (const tgid of first.get(inode)?.tgids ?? []) tgids.add(tgid);
    if (tgids.size === 0) continue; // held by no process we see
    const tgid = tgids.size === 1 ? [...tgids][0]! : 0;
    const identity = first.get(at.inodes[0]!)!;
    if (!fillValue(listeners.value, tgid, identity, since, at)) continue; // gone meanwhile
    at.key.copy(listeners.key);
    if (!listeners.update(BPF_NOEXIST)) continue;
    if (tgid !== 0) {
      holders.key.writeUInt32LE(tgid, 0);
      holders.value.fill(0);
      holders.update(BPF_NOEXIST);
    }
    written.push({ at, tgid });
  }
  const second = holdersByInode(files);
  for (const { at, tgid } of written) {
    at.key.copy(listeners.key);
    if (!listeners.lookup() || listeners.value.readBigUInt64LE(VALUE.WRITTEN) !== since) continue; // another's now
    const now = at.inodes.flatMap((inode) => [...(second?.get(inode)?.tgids ?? [])]);
    if (now.length === 0)
      listeners.remove(); // closed before its record was there to remove
    else if (tgid !== 0 && (!second || now.some((t) => t !== tgid))) {
      listeners.value.writeUInt32LE(0, VALUE.TGID); // forked unseen: not one process's now
      listeners.update(BPF_ANY);
    }
  }
  return { seeded: written.length };
}

/** Every TCP listener, grouped by the key the listen program would give it; undefined if sock_diag refuses. */
function listeningSockets(): Map<string, Listening> | undefined {
  const diag = SockDiag.open();
  if (!diag) return undefined;
  const table = new SocketTable(64);
  try {
    for (const family of [4, 6] as const)
      if (diag.dump(family, IPPROTO_TCP, table, { states: 1 << TCP_LISTEN }) !== 0) return undefined;
  } finally {
    diag.close();
  }
  const out = new Map<string, Listening>();
  for (let row = 0; row < table.count; row++) {
    if (table.state[row] !== TCP_LISTEN || table.inode[row] === 0) continue;
    const key = keyOf(table, row);
    const id = key.toString('hex');
    const seen = out.get(id);
    if (seen) {
      seen.inodes.push(table.inode[row]!);
      seen.v6Only &&= table.v6Only[row] === 1;
    } else out.set(id, { key, inodes: [table.inode[row]!], v6Only: table.v6Only[row] === 1 });
  }
  return out;
}

/** The listeners' key of a row (owner-layout.ts KEY): a v4-mapped IPv6 address keyed as IPv4. */
function keyOf(table: SocketTable, row: number): Buffer {
  const key = Buffer.alloc(KEY.SIZE);
  key[KEY.PROTOCOL] = IPPROTO_TCP;
  key.writeUInt16LE(table.localPort[row]!, KEY.LPORT);
  const a = table.localAddress.subarray(row * 16, row * 16 + 16);
  const mapped =
    table.family[row] === 6 && a.subarray(0, 10).every((b) => b === 0) && a[10] === 0xff && a[11] === 0xff;
  if (table.family[row] === 4 || mapped) {
    key[KEY.FAMILY] = 4;
    key.set(mapped ? a.subarray(12, 16) : a.subarray(0, 4), KEY.LADDR);
  } else {
    key[KEY.FAMILY] = 6;
    key.set(a, KEY.LADDR);
  }
  return key;
}

/** Who holds each socket inode (every process, not only the newest), with the first holder's record. */
interface Holding {
  tgids: Set<number>;
  execId: bigint;
  comm: Buffer;
}

function holdersByInode(files: TaskFiles): Map<number, Holding> | undefined {
  const read = files.read();
  if (!read) return undefined;
  const out = new Map<number, Holding>();
  const r = read.records;
  for (let at = 0; at + RECORD <= read.length; at += RECORD) {
    const inode = r.readUInt32LE(at + AT.inode) + r.readUInt32LE(at + AT.inode + 4) * 0x1_0000_0000;
    const tgid = r.readUInt32LE(at + AT.tgid);
    const seen = out.get(inode);
    if (seen) seen.tgids.add(tgid);
    else
      out.set(inode, {
        tgids: new Set([tgid]),
        execId: r.readBigUInt64LE(at + AT.execId),
        comm: Buffer.from(r.subarray(at + AT.comm, at + AT.comm + 16)),
      });
  }
  return out;
}

/**
 * The value the listen program would have written for `tgid` (VALUE): its start time from
 * /proc/PID/stat (clock ticks, as precise as the reader's check), exec count and comm from the
 * iterator, network namespace and cgroup id from /proc and cgroupfs (0 when unreadable), `since`
 * as its time. False when the process is gone.
 */
function fillValue(value: Buffer, tgid: number, identity: Holding, since: bigint, at: Listening): boolean {
  value.fill(0);
  if (tgid !== 0) {
    const ticks = startTicksOf(readProcessFile(tgid, 'stat'));
    if (ticks === undefined) return false;
    value.writeBigUInt64LE(ticks * NS_PER_TICK, VALUE.START_TIME);
    value.writeBigUInt64LE(identity.execId, VALUE.EXEC_ID);
    identity.comm.copy(value, VALUE.COMM);
    value.writeUInt32LE(inodeOf(`/proc/${tgid}/ns/net`) >>> 0, VALUE.NETNS);
    const path = cgroupPathOf(readProcessFile(tgid, 'cgroup') ?? '');
    value.writeBigUInt64LE(path === undefined ? 0n : BigInt(inodeOf(`/sys/fs/cgroup${path}`)), VALUE.CGROUP);
  }
  value.writeUInt32LE(tgid, VALUE.TGID);
  value.writeBigUInt64LE(since, VALUE.WRITTEN);
  value.writeUInt32LE(at.v6Only ? Hook.LISTEN_V6_ONLY : Hook.LISTEN, VALUE.HOOK);
  value.writeUInt32LE(at.inodes.length, VALUE.BOUND);
  return true;
}

function inodeOf(path: string): number {
  try {
    return statSync(path).ino;
  } catch {
    return 0;
  }
}
