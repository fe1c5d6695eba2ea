import { readFileSync } from 'node:fs';
import koffi from 'koffi';
import { isV4Mapped, writeAddressBytes } from '../../../address';
import { libc } from '../ffi';
import { attachRawTracepoint, linkToCgroup, load, missingCapabilities } from './attach';
import { bindProgram, releaseProgram } from './bound-programs';
import { Btf } from './btf';
import { cgroupRoot } from './cgroup-root';
import { type ListenMaps, listenHooks } from './listen-hooks';
import { seedListeners } from './listener-seed';
import { KIND_SOCKET, offsetsOf } from './owner-layout';
import { connectProgram, Hook, KEY, socketIoProgram, VALUE } from './owner-programs';
import { createSocketStorage, ticksPerSecond } from './sk-storage';
import type { SocketStorage } from './socket-io-program';

// bpf(2) commands, map and program types, attach types (include/uapi/linux/bpf.h).
const BPF_MAP_CREATE = 0;
const BPF_MAP_LOOKUP_ELEM = 1;
const BPF_MAP_TYPE_LRU_HASH = 9;
const BPF_PROG_TYPE_CGROUP_SOCK = 9;
const BPF_PROG_TYPE_SOCK_OPS = 13;
const BPF_PROG_TYPE_TRACING = 26;
const BPF_CGROUP_SOCK_OPS = 3;
const BPF_CGROUP_INET4_POST_BIND = 12;
const BPF_CGROUP_INET6_POST_BIND = 13;
const BPF_CGROUP_INET_SOCK_RELEASE = 34;
const BPF_TRACE_RAW_TP = 23;
/** BTF_KIND_TYPEDEF: a BTF tracepoint is named by its btf_trace_<name> typedef. */
const KIND_TYPEDEF = 8;

const bpf = (cmd: number, attr: Buffer) => libc().bpf(cmd, attr);

/** One hook: the kernel function it attaches to, and whether it loaded (or why not). */
export interface HookStatus {
  /**
   * tcp-connect (sock_ops), socket-send and socket-recv (tp_btf: accepted TCP, UDP), udp4-bind,
   * udp6-bind and udp-release (cgroup sock), listener-fork and tcp-listen (tp_btf: who listens).
   */
  name: HookName;
  attached: boolean;
  /** Why it is not attached: not root, no BTF, the verifier's last lines, attach refused. */
  reason?: string;
}

export const HOOK_NAMES = [
  'tcp-connect',
  'socket-send',
  'socket-recv',
  'udp4-bind',
  'udp6-bind',
  'udp-release',
  'listener-fork',
  'tcp-listen',
] as const;
export type HookName = (typeof HOOK_NAMES)[number];

/** What the map says of a connection: its holder when the kernel made it. */
export interface KernelOwnerRecord {
  pid: number;
  /** The thread-group leader's start time (ns since boot, start_boottime) and exec count: with the pid, one process image. */
  startTime: bigint;
  execId: bigint;
  comm: string;
  cgroupId: bigint;
  netns: number;
  /** When the hook ran, in ms since 1970. */
  at: number;
  hook: 'connect' | 'accept' | 'udp-send' | 'udp-recv' | 'bind' | 'listen';
  /** For `accept`: the sequence number of the SYN the peer opened the connection with. */
  syn?: number;
}

/** Who a record names: the same for each record one process's hooks write. */
type Holder = Omit<KernelOwnerRecord, 'at' | 'hook' | 'syn'>;

/** Holders kept by KernelOwners for the records that name them again. */
const MAX_HOLDERS = 256;

/** Whether two values name the same holder: the same words up to `written`, and the same comm. */
function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = VALUE.TGID / 4; i < VALUE.WRITTEN / 4; i++) if (a[i] !== b[i]) return false;
  for (let i = VALUE.COMM / 4; i < VALUE.HOOK / 4; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A connection as the map keys it, from its owner's side. */
export interface KernelOwnerKey {
  protocol: 'TCP' | 'UDP';
  local: { address: string; port: number };
  remote: { address: string; port: number };
}

const RECORD_HOOKS: Record<number, KernelOwnerRecord['hook']> = {
  [Hook.CONNECT]: 'connect',
  [Hook.ACCEPT]: 'accept',
  [Hook.UDP_SEND]: 'udp-send',
  [Hook.UDP_CONNECTED_SEND]: 'udp-send',
  [Hook.BIND]: 'bind',
  [Hook.UDP_RECV]: 'udp-recv',
  [Hook.LISTEN]: 'listen',
  [Hook.LISTEN_V6_ONLY]: 'listen',
};

/**
 * The eBPF owner source (Linux, root or CAP_BPF + CAP_PERFMON, kernel BTF): programs on the
 * kernel functions that make connections record the owning task in a bounded LRU map, read back
 * with one lookup per connection. Programs load one by one; each that cannot says why in
 * `hooks`, and the map is still read for the others.
 */
export class KernelOwners {
  private readonly key = Buffer.alloc(KEY.SIZE);
  private readonly value = Buffer.alloc(VALUE.SIZE);
  /** The value read, as 32-bit words (Buffer.alloc does not pool: offset 0, aligned). */
  private readonly words = new Uint32Array(this.value.buffer, this.value.byteOffset, VALUE.SIZE / 4);
  private readonly attr = Buffer.alloc(32);
  /** The same key and value, in the listeners' map; and a holder's tgid and fork time in theirs. */
  private readonly listenerAttr = Buffer.alloc(32);
  private readonly holderKey = Buffer.alloc(4);
  private readonly holderValue = Buffer.alloc(8);
  private readonly holderAttr = Buffer.alloc(32);
  /**
   * The holders records named lately, by tgid, with the words they were read from: lookups name
   * the same few processes again and again (a client, its server). Cleared when full.
   */
  private readonly holders = new Map<number, { holder: Holder; words: Uint32Array }>();
  /** CLOCK_REALTIME - CLOCK_MONOTONIC in ms, and when (performance.now()) it was read. */
  private wallOffsetMs = 0;
  private wallOffsetReadAt = Number.NEGATIVE_INFINITY;
  private closed = false;

  private constructor(
    private readonly mapFd: number,
    private readonly links: number[],
    readonly hooks: HookStatus[],
    readonly capacity: number,
    /** The listeners' map and their holders' (listen-programs.ts), when tcp-listen attached. */
    private readonly listenMaps: ListenMaps | undefined,
    /** Listeners opened before the hooks, written from the socket table at open (listener-seed.ts), or why none. */
    readonly listenersSeeded: { seeded: number; reason?: string },
  ) {
    this.attr.writeUInt32LE(mapFd, 0);
    this.attr.writeBigUInt64LE(koffi.address(this.key), 8);
    this.attr.writeBigUInt64LE(koffi.address(this.value), 16);
    if (listenMaps) {
      this.listenerAttr.writeUInt32LE(listenMaps.listeners, 0);
      this.listenerAttr.writeBigUInt64LE(koffi.address(this.key), 8);
      this.listenerAttr.writeBigUInt64LE(koffi.address(this.value), 16);
      this.holderAttr.writeUInt32LE(listenMaps.holders, 0);
      this.holderAttr.writeBigUInt64LE(koffi.address(this.holderKey), 8);
      this.holderAttr.writeBigUInt64LE(koffi.address(this.holderValue), 16);
    }
  }

  /**
   * A hook's ktime (CLOCK_MONOTONIC ns, as its two 32-bit halves) as ms since 1970: offset by
   * CLOCK_REALTIME - CLOCK_MONOTONIC, read again (to the ms) when 100 ms old, so that the wall
   * clock's adjustments over a long run are followed. A double holds the ns exactly for 104 days of
   * uptime, and to a few ns after that.
   */
  private wallMs(low: number, high: number): number {
    const now = performance.now();
    if (now - this.wallOffsetReadAt > 100) {
      this.wallOffsetMs = Number(BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()) / 1e6;
      this.wallOffsetReadAt = now;
    }
    return (high * 2 ** 32 + low) / 1e6 + this.wallOffsetMs;
  }

  /** Loads what can be loaded; throws (with the reason) only when nothing can: not root, no BTF, no map. */
  static open(options: { capacity?: number } = {}): KernelOwners {
    const capacity = options.capacity ?? 65_536;
    if (process.arch !== 'x64' && process.arch !== 'arm64')
      throw new Error(`no bpf syscall number for ${process.arch}`);
    const missing = missingCapabilities();
    if (missing.length > 0)
      throw new Error(
        `not root, and without ${missing.join(', ')} (eBPF needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)`,
      );
    let btfData: Buffer;
    try {
      btfData = readFileSync('/sys/kernel/btf/vmlinux');
    } catch {
      throw new Error('no kernel BTF (/sys/kernel/btf/vmlinux)');
    }
    const btf = new Btf(btfData, {
      structs: [
        'sock_common',
        'sock',
        'inet_sock',
        'inet_connection_sock',
        'tcp_sock',
        'net',
        'ns_common',
        'nsproxy',
        'task_struct',
      ],
    });
    const offsets = offsetsOf(btf);
    const cgroup = cgroupRoot();
    const mapAttr = Buffer.alloc(64);
    mapAttr.writeUInt32LE(BPF_MAP_TYPE_LRU_HASH, 0);
    mapAttr.writeUInt32LE(KEY.SIZE, 4);
    mapAttr.writeUInt32LE(VALUE.SIZE, 8);
    mapAttr.writeUInt32LE(capacity, 12);
    mapAttr.write('netwho_owners', 28, 'latin1');
    const mapFd = bpf(BPF_MAP_CREATE, mapAttr);
    if (mapFd < 0) throw new Error(`BPF_MAP_CREATE failed (errno ${koffi.errno()})`);
    const hooks: HookStatus[] = [];
    const links: number[] = [];
    let listenMaps: ListenMaps | undefined;
    let seed: KernelOwners['listenersSeeded'] = { seeded: 0, reason: 'tcp-listen is not attached' };
    const tryHook = (name: HookStatus['name'], attach: () => number) => {
      try {
        links.push(attach());
        hooks.push({ name, attached: true });
      } catch (error) {
        hooks.push({ name, attached: false, reason: (error as Error).message });
      }
    };
    const o = offsets;
    // Optional: without it the socket I/O programs build a key and look it up on every call.
    let storage: SocketStorage | undefined;
    try {
      storage = { fd: createSocketStorage(), ticksPerSecond: ticksPerSecond() };
    } catch {
      storage = undefined;
    }
    const onCgroup = (type: number, attachType: number, insns: () => Buffer) => () => {
      if (cgroup.fd < 0) throw new Error(cgroup.why);
      const prog = load(type, attachType, 0, insns());
      return linkToCgroup(prog, cgroup.fd, attachType);
    };
    if (o) {
      tryHook(
        'tcp-connect',
        onCgroup(BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS, () => connectProgram(o, mapFd)),
      );
      for (const [name, event, direction] of [
        ['socket-send', 'sock_send_length', 'send'],
        ['socket-recv', 'sock_recv_length', 'recv'],
      ] as const) {
        tryHook(name, () => {
          const tracepoint = btf.find(`btf_trace_${event}`, KIND_TYPEDEF);
          if (tracepoint < 0) throw new Error(`the kernel has no sock:${event} tracepoint (Linux 6.4+)`);
          const program = (withStorage: SocketStorage | undefined) =>
            load(
              BPF_PROG_TYPE_TRACING,
              BPF_TRACE_RAW_TP,
              tracepoint,
              socketIoProgram(o, mapFd, direction, withStorage),
            );
          let prog: number;
          try {
            prog = program(storage);
          } catch (error) {
            if (!storage) throw error;
            prog = program(undefined); // a kernel without socket storage for tracing programs: the slower way
          }
          return attachRawTracepoint(prog);
        });
      }
      // A bind's record must not outlive its socket: without the release program, no bind program.
      tryHook(
        'udp-release',
        onCgroup(BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_RELEASE, () => releaseProgram(mapFd)),
      );
      const release = hooks.at(-1)!;
      for (const [name, attachType, family] of [
        ['udp4-bind', BPF_CGROUP_INET4_POST_BIND, 4],
        ['udp6-bind', BPF_CGROUP_INET6_POST_BIND, 6],
      ] as const) {
        if (release.attached)
          tryHook(
            name,
            onCgroup(BPF_PROG_TYPE_CGROUP_SOCK, attachType, () => bindProgram(o, mapFd, family)),
          );
        else hooks.push({ name, attached: false, reason: `needs udp-release, which did not attach` });
      }
      listenMaps = listenHooks(btf, o, tryHook, hooks);
      // Listeners opened before now have no record: written from the socket table. A failure there
      // only leaves them to their connections' own records.
      if (listenMaps) {
        try {
          seed = seedListeners(listenMaps);
        } catch (error) {
          seed = { seeded: 0, reason: (error as Error).message };
        }
      }
    } else {
      for (const name of HOOK_NAMES) {
        hooks.push({
          name,
          attached: false,
          reason: 'the kernel BTF lacks a struct member the programs read',
        });
      }
    }
    if (cgroup.fd >= 0) libc().close(cgroup.fd); // the links hold the cgroup
    if (storage) libc().close(storage.fd); // the programs hold it
    if (links.length === 0) {
      libc().close(mapFd);
      if (listenMaps) for (const fd of [listenMaps.listeners, listenMaps.holders]) libc().close(fd);
      throw new Error(`no eBPF hook attached: ${hooks.map((h) => `${h.name}: ${h.reason}`).join('; ')}`);
    }
    return new KernelOwners(mapFd, links, hooks, capacity, listenMaps, seed);
  }

  /**
   * Who listens where a TCP connection to `local` was made, when one process alone has held that
   * listener since it listened: on that address, on any (IPv4's, then IPv6's for an IPv4 end,
   * unless IPv6-only). Undefined when nobody listens there, several processes do (SO_REUSEPORT),
   * the holder forked since (its child holds the listener too), or the tcp-listen hook is off.
   */
  listenerOf(local: { address: string; port: number }): KernelOwnerRecord | undefined {
    if (this.closed || !this.listenMaps) return undefined;
    const family = !local.address.includes(':') || isV4Mapped(local.address) ? 4 : 6;
    const k = this.key;
    k.fill(0);
    k[KEY.PROTOCOL] = 6;
    k[KEY.FAMILY] = family;
    k.writeUInt16LE(local.port, KEY.LPORT);
    if (!(writeAddressBytes(k, KEY.LADDR, local.address, family) && this.readListener())) {
      k.fill(0, KEY.LADDR, KEY.LADDR + 16);
      if (!this.readListener()) {
        if (family === 6) return undefined;
        k[KEY.FAMILY] = 6;
        if (!this.readListener() || this.value.readUInt32LE(VALUE.HOOK) === Hook.LISTEN_V6_ONLY)
          return undefined;
      }
    }
    const tgid = this.value.readUInt32LE(VALUE.TGID);
    if (tgid === 0) return undefined; // not one process's
    this.holderKey.writeUInt32LE(tgid, 0);
    if (bpf(BPF_MAP_LOOKUP_ELEM, this.holderAttr) !== 0) return undefined; // not noted: forks unseen
    if (this.holderValue.readBigUInt64LE(0) >= this.value.readBigUInt64LE(VALUE.WRITTEN)) return undefined;
    return this.record();
  }

  private readListener(): boolean {
    return bpf(BPF_MAP_LOOKUP_ELEM, this.listenerAttr) === 0;
  }

  /**
   * The holder of a connection as the kernel made it, or undefined when no hook saw it (or it was
   * evicted). An unconnected UDP socket is keyed without its local address: asked with one, the
   * lookup falls back to the wildcard.
   */
  lookup(key: KernelOwnerKey): KernelOwnerRecord | undefined {
    if (this.closed) return undefined;
    // Keyed as the kernel keys it: IPv4, or v4-mapped IPv6 taken as IPv4, by the peer's address.
    const family = !key.remote.address.includes(':') || isV4Mapped(key.remote.address) ? 4 : 6;
    const k = this.key;
    k.fill(0);
    k[KEY.PROTOCOL] = key.protocol === 'TCP' ? 6 : 17;
    k[KEY.FAMILY] = family;
    k.writeUInt16LE(key.local.port, KEY.LPORT);
    k.writeUInt16LE(key.remote.port, KEY.RPORT);
    writeAddressBytes(k, KEY.RADDR, key.remote.address, family);
    const local = writeAddressBytes(k, KEY.LADDR, key.local.address, family);
    if (local && this.read()) return this.record(); // a TCP or connected UDP socket's 4-tuple
    if (key.protocol !== 'UDP') return undefined;
    // An unconnected UDP socket at the flow's local end: by its bind (true while it is open), then
    // by what it last sent or received; bound to this address, to any, or to IPv6's any (dual stack).
    k.fill(0, KEY.RPORT, KEY.RPORT + 2);
    k.fill(0, KEY.RADDR, KEY.RADDR + 16);
    for (const kind of [0, KIND_SOCKET]) {
      k[KEY.KIND] = kind;
      k[KEY.FAMILY] = family;
      if (local && writeAddressBytes(k, KEY.LADDR, key.local.address, family) && this.read())
        return this.held(kind);
      k.fill(0, KEY.LADDR, KEY.LADDR + 16);
      if (this.read()) return this.held(kind);
      k[KEY.FAMILY] = 6;
      if (family === 4 && this.read()) return this.held(kind);
    }
    return undefined;
  }

  /**
   * A socket's record, unless more than one process uses its port: a bind's holder is then 0; a
   * socket's record says when two processes last used it at once (shared within ~3 s: no answer).
   */
  private held(kind: number): KernelOwnerRecord | undefined {
    const record = this.record();
    if (record.pid === 0) return undefined;
    if (kind === KIND_SOCKET) {
      const shared = this.value.readUInt32LE(VALUE.SHARED);
      const now = Number(process.hrtime.bigint() >> 30n) >>> 0;
      if (shared !== 0 && (now - shared) >>> 0 <= 2) return undefined;
    }
    return record;
  }

  private read(): boolean {
    return bpf(BPF_MAP_LOOKUP_ELEM, this.attr) === 0;
  }

  private record(): KernelOwnerRecord {
    const v = this.value;
    const h = this.holder();
    const written = VALUE.WRITTEN / 4;
    const at = this.wallMs(this.words[written]!, this.words[written + 1]!);
    const hook = v.readUInt32LE(VALUE.HOOK);
    const { pid, startTime, execId, comm, cgroupId, netns } = h;
    // Object literals of one shape each (a spread would make a slower, larger object per record).
    if (hook === Hook.ACCEPT)
      return {
        pid,
        startTime,
        execId,
        comm,
        cgroupId,
        netns,
        at,
        hook: 'accept',
        syn: v.readUInt32LE(VALUE.SYN),
      };
    return { pid, startTime, execId, comm, cgroupId, netns, at, hook: RECORD_HOOKS[hook] ?? 'connect' };
  }

  /**
   * Who the value read names: a holder seen lately when its words (up to `written`, and the comm)
   * are the same, else read (its BigInts and comm made once) and kept.
   */
  private holder(): Holder {
    const w = this.words;
    const seen = this.holders.get(w[VALUE.TGID / 4]!);
    if (seen && sameWords(w, seen.words)) return seen.holder;
    const v = this.value;
    const comm = v.toString('latin1', VALUE.COMM, VALUE.COMM + 16);
    const holder: Holder = {
      pid: v.readUInt32LE(VALUE.TGID),
      startTime: v.readBigUInt64LE(VALUE.START_TIME),
      execId: v.readBigUInt64LE(VALUE.EXEC_ID),
      comm: comm.slice(0, comm.indexOf('\0') < 0 ? 16 : comm.indexOf('\0')),
      cgroupId: v.readBigUInt64LE(VALUE.CGROUP),
      netns: v.readUInt32LE(VALUE.NETNS),
    };
    if (this.holders.size >= MAX_HOLDERS) this.holders.clear();
    this.holders.set(holder.pid, { holder, words: w.slice() });
    return holder;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links) libc().close(link);
    libc().close(this.mapFd);
    if (this.listenMaps)
      for (const fd of [this.listenMaps.listeners, this.listenMaps.holders]) libc().close(fd);
  }
}
