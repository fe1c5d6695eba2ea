import { describe, expect, it } from 'vitest';
import * as api from '../src/index';
import { Btf } from '../src/platform/linux/bpf/btf';
import { program, TaskFiles } from '../src/platform/linux/bpf/task-files';
import { startHolder } from './helpers';

/** A BTF blob laid out as Documentation/bpf/btf.rst describes it, from the types given. */
function btfBlob(types: Buffer[], strings: string[]): Buffer {
  const str = Buffer.from(`\0${strings.join('\0')}\0`, 'latin1');
  const typeSection = Buffer.concat(types);
  const header = Buffer.alloc(24);
  header.writeUInt16LE(0xeb9f, 0);
  header[2] = 1; // version
  header.writeUInt32LE(24, 4); // hdr_len
  header.writeUInt32LE(0, 8); // type_off
  header.writeUInt32LE(typeSection.length, 12);
  header.writeUInt32LE(typeSection.length, 16); // str_off
  header.writeUInt32LE(str.length, 20);
  return Buffer.concat([header, typeSection, str]);
}
/** Offset of `name` in the string section built from `strings`. */
const nameOff = (strings: string[], name: string) =>
  1 + strings.slice(0, strings.indexOf(name)).reduce((n, s) => n + s.length + 1, 0);
function type(
  name: number,
  kind: number,
  vlen: number,
  sizeOrType: number,
  extra: number[] = [],
  kindFlag = false,
) {
  const b = Buffer.alloc(12 + extra.length * 4);
  b.writeUInt32LE(name, 0);
  b.writeUInt32LE((((kindFlag ? 1 : 0) << 31) | (kind << 24) | vlen) >>> 0, 4);
  b.writeUInt32LE(sizeOrType, 8);
  for (const [i, word] of extra.entries()) b.writeUInt32LE(word >>> 0, 12 + 4 * i);
  return b;
}

describe('BTF reader', () => {
  const strings = [
    'int',
    'task_struct',
    'state',
    'tgid',
    'pid',
    'bpf_iter_task_file',
    'file',
    'f_inode',
    'flags',
  ];
  const s = (name: string) => nameOff(strings, name);
  // 1: int; 2: anonymous union { int pid; int tgid; } (size 4); 3: struct task_struct { int state @0;
  // union @64 bits }; 4: FUNC bpf_iter_task_file; 5: struct file with a bitfield `flags` and f_inode @ 16.
  const blob = btfBlob(
    [
      type(s('int'), 1, 0, 4, [32]),
      type(0, 5, 2, 4, [s('pid'), 1, 0, s('tgid'), 1, 0]),
      type(s('task_struct'), 4, 2, 16, [s('state'), 1, 0, 0, 2, 64]),
      type(s('bpf_iter_task_file'), 12, 0, 0),
      type(s('file'), 4, 2, 24, [s('flags'), 1, (3 << 24) | 5, s('f_inode'), 1, 128], true),
    ],
    strings,
  );

  it('finds functions by name and member offsets, through anonymous unions', () => {
    const btf = new Btf(blob);
    expect(btf.findFunc('bpf_iter_task_file')).toBe(4);
    expect(btf.findFunc('task_struct')).toBe(-1); // a struct, not a function
    expect(btf.memberOffset('task_struct', 'state')).toBe(0);
    expect(btf.memberOffset('task_struct', 'tgid')).toBe(8);
    expect(btf.memberOffset('file', 'f_inode')).toBe(16);
    expect(btf.memberOffset('file', 'flags')).toBe(-1); // a bitfield has no byte offset
    expect(btf.memberOffset('file', 'nope')).toBe(-1);
    expect(btf.memberOffset('inode', 'i_ino')).toBe(-1);
  });

  it('refuses what is not BTF, or is cut short', () => {
    expect(() => new Btf(Buffer.from('not btf at all, not at all'))).toThrow(/not BTF/);
    expect(() => new Btf(blob.subarray(0, 40))).toThrow(/truncated/);
  });
});

describe('the task_file program', () => {
  it('reads the fields at the offsets it is given, and writes 16-byte records', () => {
    const code = program({ tgid: 1268, fInode: 32, iMode: 0, iIno: 64 });
    expect(code.length).toBe(24 * 8);
    const insn = (i: number) => ({
      op: code[i * 8],
      off: code.readInt16LE(i * 8 + 2),
      imm: code.readInt32LE(i * 8 + 4),
    });
    expect(insn(8)).toMatchObject({ op: 0x61, off: 1268 }); // r1 = task->tgid
    expect(insn(10)).toMatchObject({ op: 0x79, off: 32 }); // r1 = file->f_inode
    expect(insn(14)).toMatchObject({ op: 0x55, imm: 0xc000 }); // sockets only
    expect(insn(15)).toMatchObject({ op: 0x79, off: 64 }); // r2 = inode->i_ino
    expect(insn(21)).toMatchObject({ op: 0x85, imm: 127 }); // bpf_seq_write
    expect(insn(23)).toMatchObject({ op: 0x95 }); // exit
  });
});

const iterator = process.platform === 'linux' ? TaskFiles.open() : undefined;
if (process.platform === 'linux' && !iterator) {
  console.log(`BPF owners not tested for real here: ${TaskFiles.unavailable()}`);
}

describe.runIf(iterator)('owners from the BPF iterator, on the real system', () => {
  it('give the same answers as the /proc walk, and find a port at once', async () => {
    const server = await startHolder([
      { kind: 'tcp-listen', host: '127.0.0.1' },
      { kind: 'udp', host: '::1' },
    ]);
    const client = await startHolder([
      { kind: 'tcp-connect', host: '127.0.0.1', port: server.sockets[0]!.port },
    ]);
    try {
      const mine = (list: api.Listener[]) =>
        list
          .filter((l) => l.process?.pid === server.pid || l.process?.pid === client.pid)
          .map(
            (l) =>
              `${l.protocol} ${l.socket.port} ${l.remote?.port ?? 0} ${l.process!.pid} ${l.process!.path} ${l.fd}`,
          )
          .sort();
      const bpf = await api.scan({ owners: 'bpf' });
      expect(bpf.summary.owners).toBe('bpf');
      expect(mine(bpf.listeners)).toHaveLength(4);
      expect(mine(bpf.listeners)).toEqual(mine(await api.getAll({ owners: 'procfs' })));
      expect((await api.getProcessByPort(server.sockets[0]!.port, 'TCP', { owners: 'bpf' })).pid).toBe(
        server.pid,
      );
      expect((await api.getProcessByPort(server.sockets[1]!.port, 'UDP', { owners: 'bpf' })).pid).toBe(
        server.pid,
      );
    } finally {
      await server.stop();
      await client.stop();
    }
  });
});

describe('the owners option', () => {
  it('is checked', async () => {
    await expect(api.getAll({ owners: 'magic' as never })).rejects.toMatchObject({
      code: 'E_INVALID_ARGUMENT',
    });
  });
});
