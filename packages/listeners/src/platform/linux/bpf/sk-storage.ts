import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import koffi from 'koffi';
import { libc } from '../ffi';
import { btfBlob } from './btf';

/**
 * A socket-local storage map (BPF_MAP_TYPE_SK_STORAGE): 16 bytes kept with each socket that a
 * program asks for, found through the socket itself (no hashing), freed with it. The socket I/O
 * programs keep in it who they last recorded for the socket and when, so a send or receive that
 * changes nothing costs one storage lookup instead of building a key and hashing it.
 * The kernel wants the key and value types described in BTF (for dumping), so a two-type BTF
 * blob is loaded first (include/uapi/linux/btf.h).
 */

const BPF_MAP_CREATE = 0;
const BPF_BTF_LOAD = 18;
const BPF_MAP_TYPE_SK_STORAGE = 24;
const BPF_F_NO_PREALLOC = 1;
const BTF_KIND_INT = 1;
const BTF_KIND_ARRAY = 3;
const BTF_INT_SIGNED = 1;

/** The value: the time of the last record (u64, in jiffies), its holder (u32 tgid), padding. */
export const STORAGE = { SIZE: 16, WRITTEN: 0, TGID: 8 } as const;

/** BTF with [1] int (4 bytes, signed) and [2] int[4] (the 16-byte value). */
function storageBtf(): Buffer {
  const strings = Buffer.from('\0int\0', 'latin1');
  const types = Buffer.alloc(12 + 4 + 12 + 12);
  // [1] struct btf_type { name_off, info, size } + the INT's u32 (encoding << 24 | offset << 16 | bits)
  types.writeUInt32LE(1, 0);
  types.writeUInt32LE(BTF_KIND_INT << 24, 4);
  types.writeUInt32LE(4, 8);
  types.writeUInt32LE((BTF_INT_SIGNED << 24) | 32, 12);
  // [2] btf_type (ARRAY: size unused) + struct btf_array { type, index_type, nelems }
  types.writeUInt32LE(0, 16);
  types.writeUInt32LE(BTF_KIND_ARRAY << 24, 20);
  types.writeUInt32LE(0, 24);
  types.writeUInt32LE(1, 28);
  types.writeUInt32LE(1, 32);
  types.writeUInt32LE(STORAGE.SIZE / 4, 36);
  return btfBlob(types, strings);
}

/** Creates the map; returns its fd, or throws saying why. */
export function createSocketStorage(): number {
  const btf = storageBtf();
  const load = Buffer.alloc(32);
  load.writeBigUInt64LE(koffi.address(btf), 0);
  load.writeUInt32LE(btf.length, 16);
  const btfFd = libc().bpf(BPF_BTF_LOAD, load);
  if (btfFd < 0) throw new Error(`BPF_BTF_LOAD failed (errno ${koffi.errno()})`);
  const attr = Buffer.alloc(64);
  attr.writeUInt32LE(BPF_MAP_TYPE_SK_STORAGE, 0);
  attr.writeUInt32LE(4, 4); // key_size: an int, as the kernel wants
  attr.writeUInt32LE(STORAGE.SIZE, 8);
  attr.writeUInt32LE(0, 12); // max_entries: none, it lives with the sockets
  attr.writeUInt32LE(BPF_F_NO_PREALLOC, 16);
  attr.write('netwho_sockets', 28, 'latin1');
  attr.writeUInt32LE(btfFd, 48);
  attr.writeUInt32LE(1, 52); // btf_key_type_id: int
  attr.writeUInt32LE(2, 56); // btf_value_type_id: int[4]
  const fd = libc().bpf(BPF_MAP_CREATE, attr);
  const errno = koffi.errno();
  libc().close(btfFd); // the map holds it
  if (fd < 0) throw new Error(`BPF_MAP_CREATE (socket storage) failed (errno ${errno})`);
  return fd;
}

/**
 * The kernel's tick rate (CONFIG_HZ: what bpf_jiffies64 counts in), from its configuration where
 * it is readable (/proc/config.gz, /boot/config-RELEASE); else 100, the lowest there is, so that a
 * window counted in ticks is never longer than meant (only shorter, where the rate is higher).
 */
export function ticksPerSecond(): number {
  const configs: Array<() => string> = [
    () => gunzipSync(readFileSync('/proc/config.gz')).toString('latin1'),
    () => readFileSync(`/boot/config-${release()}`, 'latin1'),
  ];
  for (const read of configs) {
    try {
      const hz = /^CONFIG_HZ=(\d+)$/m.exec(read());
      if (hz) return Number(hz[1]);
    } catch {
      // not there: the next one
    }
  }
  return 100;
}
