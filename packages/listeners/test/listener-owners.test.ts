import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, realpathSync } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectionOwners, openConnectionOwners } from '../src/index';
import { Btf } from '../src/platform/linux/bpf/btf';
import { forkProgram, listenOffsetsOf, listenProgram } from '../src/platform/linux/bpf/listen-programs';
import { offsetsOf } from '../src/platform/linux/bpf/owner-layout';
import type { Offsets } from '../src/platform/linux/bpf/owner-programs';

const root = process.platform === 'linux' && process.getuid?.() === 0;
const PYTHON = '/usr/bin/python3';

/**
 * A python3 process that listens on TCP as told and answers commands on stdin, one line each:
 * `listen HOST [reuseport] [v6only]` (prints the port), `close N` (the Nth listener), `spawn`
 * (runs /bin/true: a fork, then an exec), `fork-hold` (forks a child that keeps every listener
 * for 30 s; prints its pid), `thread` (starts a thread). Prints "ok" after each.
 */
const HOLDER = `
import socket, subprocess, sys, threading
socks = []
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == 'listen':
        host = cmd[1]
        s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_STREAM)
        if 'v6only' in cmd: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        elif ':' in host: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        if 'reuseport' in cmd: s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        port = int(cmd[2]) if len(cmd) > 2 and cmd[2].isdigit() else 0
        s.bind((host, port)); s.listen(16); socks.append(s)
        print(s.getsockname()[1], flush=True)
    elif cmd[0] == 'close':
        socks[int(cmd[1])].close(); print('ok', flush=True)
    elif cmd[0] == 'spawn':
        subprocess.run(['/bin/true']); print('ok', flush=True)
    elif cmd[0] == 'fork-hold':
        import os, time
        child = os.fork()
        if child == 0: time.sleep(30); os._exit(0)
        print(child, flush=True)
    elif cmd[0] == 'thread':
        t = threading.Thread(target=lambda: None); t.start(); t.join(); print('ok', flush=True)
`;

async function holder(netns?: string) {
  const argv = [PYTHON, '-c', HOLDER];
  const child = netns
    ? spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn(PYTHON, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const say = async (command: string) => {
    child.stdin.write(`${command}\n`);
    const { value } = await lines.next();
    return String(value);
  };
  return {
    pid: child.pid!,
    listen: async (host: string, ...flags: string[]) =>
      Number(await say(`listen ${host} ${flags.join(' ')}`)),
    say,
    stop: () => child.kill(),
  };
}

describe.runIf(root)('who listens (tcp-listen and listener-fork, real kernel programs)', () => {
  let owners: ConnectionOwners;
  const held: { stop: () => void }[] = [];
  const python = realpathSync(PYTHON);
  beforeAll(() => {
    const result = openConnectionOwners();
    if (!result.owners) throw new Error(result.reason);
    owners = result.owners;
  });
  afterAll(() => {
    owners?.close();
    for (const h of held) h.stop();
  });
  const started = async () => {
    const h = await holder();
    held.push(h);
    return h;
  };
  const pidAt = (address: string, port: number) => owners.listenerOf({ address, port })?.process.pid;

  it('attach, listener-fork first', () => {
    const hooks = owners.hooks.map((h) => [h.name, h.attached]);
    expect(hooks.slice(-2)).toEqual([
      ['listener-fork', true],
      ['tcp-listen', true],
    ]);
  });

  it('names the process listening on an address, on any (IPv4), on IPv6 any for both families unless IPv6-only', async () => {
    const h = await started();
    const exact = await h.listen('127.0.0.1');
    expect(owners.listenerOf({ address: '127.0.0.1', port: exact })).toMatchObject({
      process: { pid: h.pid, name: 'python3', path: python },
      exited: false,
      hook: 'listen',
    });
    expect(pidAt('127.0.0.2', exact)).toBeUndefined(); // bound to 127.0.0.1 alone
    const any = await h.listen('0.0.0.0');
    expect(pidAt('127.0.0.2', any)).toBe(h.pid);
    expect(pidAt('::1', any)).toBeUndefined();
    const dual = await h.listen('::');
    expect([pidAt('::1', dual), pidAt('127.0.0.1', dual), pidAt('::ffff:127.0.0.1', dual)]).toEqual([
      h.pid,
      h.pid,
      h.pid,
    ]);
    const v6only = await h.listen('::', 'v6only');
    expect(pidAt('::1', v6only)).toBe(h.pid);
    expect(pidAt('127.0.0.1', v6only)).toBeUndefined();
  });

  it('a listener that accepted connections is still named (they are cloned from it in TCP_LISTEN), and reset ones too', async () => {
    const h = await started();
    const port = await h.listen('127.0.0.1');
    for (let i = 0; i < 3; i++) {
      const c = connect(port, '127.0.0.1');
      await once(c, 'connect');
      c.resetAndDestroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pidAt('127.0.0.1', port)).toBe(h.pid);
  });

  it('a listener closed is gone; its holder at exit too', async () => {
    const h = await started();
    const port = await h.listen('127.0.0.1');
    const other = await h.listen('127.0.0.1');
    expect(pidAt('127.0.0.1', port)).toBe(h.pid);
    expect(await h.say('close 0')).toBe('ok');
    expect(pidAt('127.0.0.1', port)).toBeUndefined();
    expect(pidAt('127.0.0.1', other)).toBe(h.pid);
    h.stop();
    // Its sockets close as it exits: asked until then (at most 5 s, a slow machine's exit).
    for (let waited = 0; pidAt('127.0.0.1', other) !== undefined && waited < 5000; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pidAt('127.0.0.1', other)).toBeUndefined();
  });

  it('one port listened on by two processes (SO_REUSEPORT) has no single owner until both close; by one process twice, it has', async () => {
    const a = await started();
    const b = await started();
    const port = await a.listen('127.0.0.1', 'reuseport');
    expect(pidAt('127.0.0.1', port)).toBe(a.pid);
    expect(await b.listen('127.0.0.1', String(port), 'reuseport')).toBe(port);
    expect(pidAt('127.0.0.1', port)).toBeUndefined();
    await b.say('close 0');
    expect(pidAt('127.0.0.1', port)).toBeUndefined(); // still one of two that were not one process's
    await a.say('close 0');
    expect(await a.listen('127.0.0.1', String(port), 'reuseport')).toBe(port);
    expect(await a.listen('127.0.0.1', String(port), 'reuseport')).toBe(port);
    expect(pidAt('127.0.0.1', port)).toBe(a.pid);
  });

  it('a fork after listen() makes its listeners nobody’s alone (the child holds them too); a thread does not, nor a fork before', async () => {
    const h = await started();
    const port = await h.listen('127.0.0.1');
    expect(await h.say('thread')).toBe('ok');
    expect(pidAt('127.0.0.1', port)).toBe(h.pid);
    expect(await h.say('spawn')).toBe('ok');
    expect(pidAt('127.0.0.1', port)).toBeUndefined();
    const later = await h.listen('127.0.0.1');
    expect(pidAt('127.0.0.1', later)).toBe(h.pid);
  });

  it('listeners open before the hooks are seeded from the socket table: one holder named, a listener two processes hold (forked before) not', async () => {
    const alone = await started();
    const port = await alone.listen('::');
    const v6only = await alone.listen('::', 'v6only');
    const shared = await alone.listen('127.0.0.1');
    // A child that keeps the parent's listeners (python's subprocess closes them; os.fork does not).
    await alone.say('spawn');
    const before = await started();
    const kept = await before.listen('127.0.0.1');
    const child = Number(await before.say('fork-hold'));
    held.push({ stop: () => process.kill(child, 'SIGKILL') });
    const fresh = openConnectionOwners();
    if (!fresh.owners) throw new Error(fresh.reason);
    try {
      expect(fresh.owners.listenersSeeded.seeded).toBeGreaterThanOrEqual(4);
      const at = (address: string, p: number) => fresh.owners!.listenerOf({ address, port: p })?.process.pid;
      expect([at('127.0.0.1', port), at('::1', port), at('::1', v6only)]).toEqual([
        alone.pid,
        alone.pid,
        alone.pid,
      ]);
      expect(at('127.0.0.1', v6only)).toBeUndefined();
      expect(at('127.0.0.1', shared)).toBe(alone.pid); // its spawned child closed it at exec
      expect(at('127.0.0.1', kept)).toBeUndefined(); // held by the child that os.fork made too
    } finally {
      fresh.owners.close();
    }
  });

  it('only for an address of this network namespace, and a listener of it', async () => {
    const h = await started();
    const any = await h.listen('0.0.0.0');
    expect(pidAt('127.0.0.1', any)).toBe(h.pid);
    expect(pidAt('10.255.255.254', any)).toBeUndefined(); // no interface here has it: another namespace's
    const ns = `nwls${process.pid % 100_000}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      const inside = await holder(ns);
      held.push(inside);
      const port = await inside.listen('127.0.0.1');
      expect(pidAt('127.0.0.1', port)).toBeUndefined(); // its 127.0.0.1 is not ours
      inside.stop();
    } finally {
      execFileSync('ip', ['netns', 'delete', ns]);
    }
  });

  it('what nobody listens on is not made up', () => {
    expect(pidAt('127.0.0.1', 1)).toBeUndefined();
    expect(pidAt('::1', 1)).toBeUndefined();
  });
});

describe.runIf(process.platform === 'linux')('the listen programs, as instructions', () => {
  const btf = new Btf(readFileSync('/sys/kernel/btf/vmlinux'), {
    structs: ['sock_common', 'sock', 'inet_sock', 'inet_connection_sock', 'tcp_sock', 'task_struct'],
  });
  /** Every (src register, offset, size) of the program's loads. */
  const loads = (program: Buffer) =>
    Array.from({ length: program.length / 8 }, (_, i) => program.subarray(i * 8, i * 8 + 8))
      .filter((b) => (b[0]! & 0x07) === 0x01)
      .map((b) => ({ src: b[1]! >> 4, off: b.readInt16LE(2), size: b[0]! & 0x18 }));

  it('this kernel’s BTF has what they read, where the kernel has it', () => {
    const l = listenOffsetsOf(btf);
    expect(l).toBeDefined();
    const bits = btf.memberBits('sock_common', 'skc_ipv6only')!;
    expect(bits.width).toBe(1);
    expect(l!.ipv6OnlyByte * 8 + l!.ipv6OnlyBit).toBe(bits.bit);
    expect(l!.sport).toBe(btf.memberOffset('inet_sock', 'inet_sport'));
    expect(btf.memberBits('sock_common', 'skc_family')).toEqual({
      bit: btf.memberOffset('sock_common', 'skc_family') * 8,
      width: 0,
    });
  });

  it('the socket through r7, its port through the tcp_sock (r0), its IPv6-only bit as a byte; the child’s tgid through r6', () => {
    const o = offsetsOf(
      new Btf(readFileSync('/sys/kernel/btf/vmlinux'), {
        structs: ['sock_common', 'sock', 'tcp_sock', 'net', 'ns_common', 'nsproxy', 'task_struct'],
      }),
    ) as Offsets;
    const l = listenOffsetsOf(btf)!;
    const listen = loads(listenProgram(o, l, 3, 4));
    const B = 0x10;
    const H = 0x08;
    expect(listen).toContainEqual({ src: 7, off: o.protocol, size: H });
    expect(listen).toContainEqual({ src: 7, off: o.family, size: H });
    expect(listen).toContainEqual({ src: 7, off: l.ipv6OnlyByte, size: B });
    expect(listen).toContainEqual({ src: 0, off: l.sport, size: H });
    // ctx[1] and ctx[2] of the tracepoint: oldstate and newstate.
    expect(listen).toContainEqual({ src: 6, off: 8, size: 0x18 });
    expect(listen).toContainEqual({ src: 6, off: 16, size: 0x18 });
    const fork = loads(forkProgram(l, 4));
    expect(fork).toContainEqual({ src: 1, off: 8, size: 0x18 }); // ctx[1]: the child
    expect(fork).toContainEqual({ src: 6, off: l.tgid, size: 0 });
  });
});
