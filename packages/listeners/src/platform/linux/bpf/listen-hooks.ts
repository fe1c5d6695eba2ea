import koffi from 'koffi';
import { libc } from '../ffi';
import { attachRawTracepoint, load } from './attach';
import type { Btf } from './btf';
import { forkProgram, listenOffsetsOf, listenProgram } from './listen-programs';
import { KEY, type Offsets, VALUE } from './owner-layout';

// bpf(2) command, map and program types, attach type (include/uapi/linux/bpf.h).
const BPF_MAP_CREATE = 0;
const BPF_MAP_TYPE_HASH = 1;
const BPF_PROG_TYPE_TRACING = 26;
const BPF_TRACE_RAW_TP = 23;
/** BTF_KIND_TYPEDEF: a BTF tracepoint is named by its btf_trace_<name> typedef. */
const KIND_TYPEDEF = 8;
/** Listeners (one per address and port listened on) and the processes holding them, at most. */
const LISTENERS = 16_384;

/** The two maps of the listener hooks: listeners by address and port, their holders' fork times by tgid. */
export interface ListenMaps {
  listeners: number;
  holders: number;
}

/** A hook's attachment, as KernelOwners.open tries each: its name, and the link fd (or a throw with why). */
type TryHook<Name> = (name: Name, attach: () => number) => void;

const bpf = (cmd: number, attr: Buffer) => libc().bpf(cmd, attr);

/** A hash map (not LRU: what it holds must stay while it is true); throws when the kernel refuses it. */
function hashMap(keySize: number, valueSize: number, entries: number, name: string): number {
  const attr = Buffer.alloc(64);
  attr.writeUInt32LE(BPF_MAP_TYPE_HASH, 0);
  attr.writeUInt32LE(keySize, 4);
  attr.writeUInt32LE(valueSize, 8);
  attr.writeUInt32LE(entries, 12);
  attr.write(name, 28, 'latin1');
  const fd = bpf(BPF_MAP_CREATE, attr);
  if (fd < 0) throw new Error(`BPF_MAP_CREATE failed (errno ${koffi.errno()})`);
  return fd;
}

/**
 * The listener hooks (listen-programs.ts): listener-fork first, since a listener's holder is only
 * taken while it has not forked, so tcp-listen needs it. Their maps, or undefined when tcp-listen
 * did not attach (each hook's reason is in `hooks`).
 */
export function listenHooks<Name extends string>(
  btf: Btf,
  o: Offsets,
  tryHook: TryHook<Name | 'listener-fork' | 'tcp-listen'>,
  hooks: { name: string; attached: boolean; reason?: string }[],
): ListenMaps | undefined {
  const l = listenOffsetsOf(btf);
  let maps: ListenMaps | undefined;
  const tracepoint = (event: string) => {
    const id = btf.find(`btf_trace_${event}`, KIND_TYPEDEF);
    if (id < 0) throw new Error(`the kernel has no ${event} tracepoint`);
    return id;
  };
  tryHook('listener-fork', () => {
    if (!l) throw new Error('the kernel BTF lacks a struct member the programs read');
    const listeners = hashMap(KEY.SIZE, VALUE.SIZE, LISTENERS, 'netwho_listen');
    try {
      maps = { listeners, holders: hashMap(4, 8, LISTENERS, 'netwho_holders') };
    } catch (error) {
      libc().close(listeners);
      throw error;
    }
    const id = tracepoint('sched_process_fork');
    return attachRawTracepoint(
      load(BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, id, forkProgram(l, maps.holders)),
    );
  });
  if (!hooks.at(-1)!.attached || !l || !maps) {
    hooks.push({ name: 'tcp-listen', attached: false, reason: 'needs listener-fork, which did not attach' });
  } else {
    const m = maps;
    tryHook('tcp-listen', () => {
      const id = tracepoint('inet_sock_set_state');
      return attachRawTracepoint(
        load(BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, id, listenProgram(o, l, m.listeners, m.holders)),
      );
    });
  }
  if (maps && !hooks.at(-1)!.attached) {
    for (const fd of [maps.listeners, maps.holders]) libc().close(fd);
    return undefined;
  }
  return maps;
}
