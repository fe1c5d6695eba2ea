import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readlinkSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index';
import { Btf, btfBlob } from '../src/platform/linux/bpf/btf';
import { program, TaskFiles } from '../src/platform/linux/bpf/task-files';
import { startConnected } from './helpers';
import { startOnPid } from './pid-reuse';

/** A BTF blob laid out as Documentation/bpf/btf.rst describes it, from the types given. */
function blobOf(types: Buffer[], strings: string[]): Buffer {
  return btfBlob(Buffer.concat(types), Buffer.from(`\0${strings.join('\0')}\0`, 'latin1'));
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
    'char',
    'u64',
    'unsigned long long',
    'record',
    'comm',
    'start',
    'next',
  ];
  const s = (name: string) => nameOff(strings, name);
  // 1: int; 2: anonymous union { int pid; int tgid; } (size 4); 3: struct task_struct { int state @0;
  // union @64 bits }; 4: FUNC bpf_iter_task_file; 5: struct file with a bitfield `flags` and f_inode @ 16.
  const blob = blobOf(
    [
      type(s('int'), 1, 0, 4, [32]),
      type(0, 5, 2, 4, [s('pid'), 1, 0, s('tgid'), 1, 0]),
      type(s('task_struct'), 4, 2, 16, [s('state'), 1, 0, 0, 2, 64]),
      type(s('bpf_iter_task_file'), 12, 0, 0),
      type(s('file'), 4, 2, 24, [s('flags'), 1, (3 << 24) | 5, s('f_inode'), 1, 128], true),
      // 6: char; 7: char[16]; 8: typedef u64 -> 9: unsigned long long; 10: pointer to task_struct;
      // 11: struct record { char comm[16] @0; u64 start @128 bits; struct task_struct *next @192 bits }.
      type(s('char'), 1, 0, 1, [8]),
      type(0, 3, 0, 0, [6, 1, 16]),
      type(s('u64'), 8, 0, 9),
      type(s('unsigned long long'), 1, 0, 8, [64]),
      type(0, 2, 0, 3),
      type(s('record'), 4, 3, 32, [s('comm'), 7, 0, s('start'), 8, 128, s('next'), 10, 192]),
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

  it('finds the same types while indexing as by a later search', () => {
    // struct file has the kind flag set (bitfield offsets): it must still be found in the first pass.
    const btf = new Btf(blob, { funcs: ['bpf_iter_task_file', 'missing'], structs: ['file', 'task_struct'] });
    expect(btf.findFunc('bpf_iter_task_file')).toBe(4);
    expect(btf.findFunc('missing')).toBe(-1);
    expect(btf.find('file', 4)).toBe(5);
    expect(btf.find('task_struct', 4)).toBe(3);
    expect(btf.memberOffset('file', 'f_inode')).toBe(16);
    expect(btf.find('record', 4)).toBe(11); // not asked for up front: found by a search
  });

  it('gives member sizes: ints through typedefs, arrays, pointers, structs', () => {
    const btf = new Btf(blob);
    expect(btf.memberSize('record', 'comm')).toBe(16);
    expect(btf.memberSize('record', 'start')).toBe(8);
    expect(btf.memberOffset('record', 'start')).toBe(16);
    expect(btf.memberSize('record', 'next')).toBe(8);
    expect(btf.memberSize('task_struct', 'tgid')).toBe(4); // in the anonymous union
    expect(btf.memberSize('record', 'nope')).toBe(-1);
    expect(btf.memberSize('file', 'flags')).toBe(-1); // a bitfield
  });

  it('refuses what is not BTF, or is cut short', () => {
    expect(() => new Btf(Buffer.from('not btf at all, not at all'))).toThrow(/not BTF/);
    expect(() => new Btf(blob.subarray(0, 40))).toThrow(/truncated/);
  });
});

describe('the task_file program', () => {
  const offsets = {
    tgid: 1268,
    startTime: 1400,
    execId: 2000,
    execIdSize: 8 as const,
    comm: 2512,
    fInode: 32,
    iMode: 0,
    iIno: 64,
  };
  const decode = (code: Buffer) => (i: number) => ({
    op: code[i * 8],
    dst: code[i * 8 + 1]! & 0xf,
    src: code[i * 8 + 1]! >> 4,
    off: code.readInt16LE(i * 8 + 2),
    imm: code.readInt32LE(i * 8 + 4),
  });

  it('reads the fields at the offsets it is given into a 48-byte record', () => {
    const code = program(offsets);
    const insn = decode(code);
    const count = code.length / 8;
    const ops = Array.from({ length: count }, (_, i) => insn(i));
    // Loads from the task (r8), file (r9) and inode (r1) at the BTF offsets.
    expect(ops).toContainEqual(expect.objectContaining({ op: 0x61, src: 8, off: 1268 })); // tgid
    expect(ops).toContainEqual(expect.objectContaining({ op: 0x79, src: 8, off: 1400 })); // start_time
    expect(ops).toContainEqual(expect.objectContaining({ op: 0x79, src: 8, off: 2000 })); // self_exec_id
    expect(ops).toContainEqual(expect.objectContaining({ op: 0x79, src: 8, off: 2512 })); // comm[0..8]
    expect(ops).toContainEqual(expect.objectContaining({ op: 0x79, src: 8, off: 2520 })); // comm[8..16]
    expect(ops).toContainEqual(expect.objectContaining({ op: 0x79, src: 9, off: 32 })); // f_inode
    expect(ops).toContainEqual(expect.objectContaining({ op: 0x55, imm: 0xc000 })); // sockets only
    // Stores fill the record's 48 bytes, each at its field's place below the frame pointer.
    const stored = new Set<number>();
    for (const o of ops) {
      if (o.dst !== 10 || (o.op !== 0x7b && o.op !== 0x63)) continue;
      for (let b = 0; b < (o.op === 0x7b ? 8 : 4); b++) stored.add(48 + o.off + b);
    }
    expect([...stored].sort((a, b) => a - b)).toEqual(Array.from({ length: 48 }, (_, i) => i));
    expect(ops[count - 3]).toMatchObject({ op: 0x85, imm: 127 }); // bpf_seq_write
    expect(ops[count - 4]).toMatchObject({ op: 0xb7, dst: 3, imm: 48 }); // of 48 bytes
    expect(ops[count - 1]).toMatchObject({ op: 0x95 }); // exit
  });

  it('jumps to its exit from every early test, and reads a 4-byte exec count with a 4-byte load', () => {
    for (const execIdSize of [4, 8] as const) {
      const code = program({ ...offsets, execIdSize });
      const insn = decode(code);
      const count = code.length / 8;
      const jumps = Array.from({ length: count }, (_, i) => i).filter((i) =>
        [0x15, 0x55].includes(insn(i).op!),
      );
      expect(jumps).toHaveLength(4);
      for (const i of jumps) expect(i + 1 + insn(i).off).toBe(count - 2); // r0 = 0; exit
      const exec = Array.from({ length: count }, (_, i) => insn(i)).find(
        (o) => o.src === 8 && o.off === 2000,
      );
      expect(exec?.op).toBe(execIdSize === 8 ? 0x79 : 0x61);
    }
  });
});

const iterator = process.platform === 'linux' ? TaskFiles.open() : undefined;
if (process.platform === 'linux' && !iterator) {
  console.log(`BPF owners not tested for real here: ${TaskFiles.unavailable()}`);
}

describe.runIf(iterator)('owners from the BPF iterator, on the real system', () => {
  it('give the same answers as the /proc walk, and find a port at once', async () => {
    const { server, client } = await startConnected([
      { kind: 'tcp-listen', host: '127.0.0.1' },
      { kind: 'udp', host: '::1' },
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

/** A python3 process holding a listening socket, told to rename itself or exec (fixtures/exec-holder.py). */
async function startExecHolder(python = '/usr/bin/python3') {
  const child = spawn(python, [join(import.meta.dirname, 'fixtures', 'exec-holder.py')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the holder exited');
    return value as string;
  };
  const [pid, port] = (await nextLine()).split(' ').map(Number) as [number, number];
  return {
    pid,
    port,
    async rename(name: string) {
      child.stdin.write(`rename ${name}\n`);
      expect(await nextLine()).toBe('ok');
    },
    /** Makes the holder exec `path` and waits until its /proc/<pid>/exe says it did. */
    async exec(path: string, ...args: string[]) {
      child.stdin.write(`exec ${path} ${args.join(' ')}\n`);
      for (let i = 0; i < 100 && readlinkSync(`/proc/${pid}/exe`) !== realpathSync(path); i++)
        await sleep(50);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

describe.runIf(iterator)('processes known from the last scan (BPF owners)', () => {
  const PYTHON = realpathSync('/usr/bin/python3');
  const ownerOf = async (port: number) =>
    (await api.scan({ owners: 'bpf' })).listeners.find(
      (l) =>
        l.protocol === 'TCP' &&
        l.state === 'Listen' &&
        l.socket.address === '127.0.0.1' &&
        l.socket.port === port,
    )?.process;

  it('are read again when they rename themselves or exec another program', async () => {
    const holder = await startExecHolder();
    try {
      const first = { pid: holder.pid, name: 'python3', path: PYTHON };
      expect(await ownerOf(holder.port)).toEqual(first);
      expect(await ownerOf(holder.port)).toEqual(first); // the second scan knows it already
      await holder.rename('renamed-holder');
      expect(await ownerOf(holder.port)).toEqual({ ...first, name: 'renamed-holder' });
      await holder.exec('/bin/sleep', 'sleep', '600');
      const slept = { pid: holder.pid, name: 'sleep', path: realpathSync('/bin/sleep') };
      expect(await ownerOf(holder.port)).toEqual(slept);
      expect(await api.getProcessByPort(holder.port, 'TCP', { owners: 'bpf' })).toEqual(slept);
    } finally {
      await holder.stop();
    }
  });

  it('are read again when their pid is reused by another process with the same name', async () => {
    // The second process runs a copy of python3 named python3: same comm and exec count as the
    // first, another path. Only the start time tells them apart.
    const copy = join(mkdtempSync(join(tmpdir(), 'netwho-reuse-')), 'python3');
    copyFileSync(PYTHON, copy);
    chmodSync(copy, 0o755);
    const first = await startExecHolder();
    const pid = first.pid;
    expect(await ownerOf(first.port)).toEqual({ pid, name: 'python3', path: PYTHON });
    await first.stop();
    const second = await startOnPid(pid, () => startExecHolder(copy));
    expect(second, `pid ${pid} was not reused`).toBeDefined();
    try {
      const expected = { pid, name: 'python3', path: copy };
      expect(await ownerOf(second!.port)).toEqual(expected);
      expect(await api.getProcessByPort(second!.port, 'TCP', { owners: 'bpf' })).toEqual(expected);
    } finally {
      await second!.stop();
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
