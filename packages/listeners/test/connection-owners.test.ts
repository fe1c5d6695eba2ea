import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectionOwners, openConnectionOwners } from '../src/index';
import { bindProgram, releaseProgram } from '../src/platform/linux/bpf/bound-programs';
import { Btf } from '../src/platform/linux/bpf/btf';
import { offsetsOf } from '../src/platform/linux/bpf/owner-layout';
import { connectProgram, type Offsets, socketIoProgram } from '../src/platform/linux/bpf/owner-programs';

const linux = process.platform === 'linux';
const root = linux && process.getuid?.() === 0;

/** Runs `code` in another node process; returns what it printed as JSON and its pid. */
async function inChild<T>(code: string): Promise<{ pid: number; out: T }> {
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await once(child, 'exit');
  return { pid: child.pid!, out: JSON.parse(out) as T };
}

/** `count` connections to host:port one after another, each reset as soon as it is open: their local ports. */
const CONNECT = (host: string, port: number, count: number, bindPort = 0) => `
const net = require('node:net'); const ports = [];
(async () => { for (let i = 0; i < ${count}; i++) await new Promise((resolve) => {
  const s = net.connect({ host: '${host}', port: ${port}${bindPort ? `, localPort: ${bindPort}` : ''} }, () => {
    ports.push(s.localPort);
    // Closed with a reset: neither end keeps a TIME_WAIT, so the same 4-tuple can be used again at once.
    s.resetAndDestroy(); resolve(); });
  s.on('error', resolve); });
  process.stdout.write(JSON.stringify(ports)); })();`;

describe.runIf(root)('eBPF connection owners (real kernel programs)', () => {
  let owners: ConnectionOwners;
  let server: Server;
  let port: number;
  beforeAll(async () => {
    const result = openConnectionOwners();
    if (!result.owners) throw new Error(result.reason);
    owners = result.owners;
    server = createServer((s) => s.on('error', () => {}).end());
    await new Promise<void>((resolve) => server.listen(0, '::', resolve)); // dual stack: IPv4 and IPv6
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => {
    owners?.close();
    server?.close();
  });

  it('every hook loads and attaches, and says so', () => {
    expect(owners.hooks.map((h) => [h.name, h.attached])).toEqual([
      ['tcp-connect', true],
      ['socket-send', true],
      ['socket-recv', true],
      ['udp-release', true],
      ['udp4-bind', true],
      ['udp6-bind', true],
      ['listener-fork', true],
      ['tcp-listen', true],
    ]);
  });

  it('100 connections of under a millisecond each: every one has its owner, after the owner exited', async () => {
    const { pid, out: ports } = await inChild<number[]>(CONNECT('127.0.0.1', port, 100));
    expect(ports).toHaveLength(100);
    for (const p of ports) {
      const owner = owners.ownerOf({
        protocol: 'TCP',
        local: { address: '127.0.0.1', port: p },
        remote: { address: '127.0.0.1', port },
      });
      expect(owner).toMatchObject({
        process: { pid, name: 'node', path: '' },
        exited: true,
        hook: 'connect',
      });
    }
  });

  it('a running owner is named from /proc, with its path; IPv6 and v4-mapped IPv6 too', async () => {
    const code = `${CONNECT('::1', port, 1)}; setTimeout(() => {}, 3000)`;
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [data] = (await once(child.stdout!, 'data')) as [Buffer];
    const [p] = JSON.parse(String(data)) as number[];
    const owner = owners.ownerOf({
      protocol: 'TCP',
      local: { address: '::1', port: p! },
      remote: { address: '::1', port },
    });
    child.kill();
    expect(owner).toMatchObject({ process: { pid: child.pid, path: process.execPath }, exited: false });
    const mapped = await inChild<number[]>(CONNECT('::ffff:127.0.0.1', port, 1));
    expect(
      owners.ownerOf({
        protocol: 'TCP',
        local: { address: '127.0.0.1', port: mapped.out[0]! },
        remote: { address: '127.0.0.1', port },
      })?.process.pid,
    ).toBe(mapped.pid);
  });

  it('a 4-tuple closed by one program and reused by another belongs to the second', async () => {
    const first = await inChild<number[]>(CONNECT('127.0.0.1', port, 1));
    const reused = first.out[0]!;
    const second = await inChild<number[]>(CONNECT('127.0.0.1', port, 1, reused));
    expect(second.out).toEqual([reused]);
    const owner = owners.ownerOf({
      protocol: 'TCP',
      local: { address: '127.0.0.1', port: reused },
      remote: { address: '127.0.0.1', port },
    });
    expect(owner?.process.pid).toBe(second.pid);
    expect(second.pid).not.toBe(first.pid);
  });

  it('UDP: a single datagram, unconnected (IPv4, IPv6) and connected', async () => {
    const receiver = `const d=require('node:dgram');`;
    const { pid, out } = await inChild<{
      v4: number;
      v6: number;
      connected: number;
      target: number;
    }>(`${receiver}
      const r = d.createSocket('udp4'); r.bind(0, '127.0.0.1', () => {
        const target = r.address().port;
        const a = d.createSocket('udp4'); const b = d.createSocket('udp6'); const c = d.createSocket('udp4');
        a.send('x', target, '127.0.0.1', () => b.send('y', target, '::1', () => c.connect(target, '127.0.0.1', () => c.send('z', () => {
          process.stdout.write(JSON.stringify({ v4: a.address().port, v6: b.address().port, connected: c.address().port, target }));
          process.exit(0); }))));
      });`);
    const ask = (local: string, localPort: number, remote: string) =>
      owners.ownerOf({
        protocol: 'UDP',
        local: { address: local, port: localPort },
        remote: { address: remote, port: out.target },
      });
    expect(ask('127.0.0.1', out.v4, '127.0.0.1')).toMatchObject({ process: { pid }, hook: 'udp-send' });
    expect(ask('::1', out.v6, '::1')).toMatchObject({ process: { pid }, hook: 'udp-send' });
    expect(ask('127.0.0.1', out.connected, '127.0.0.1')).toMatchObject({
      process: { pid },
      hook: 'udp-send',
    });
  });

  it('what was never seen is not made up', () => {
    expect(
      owners.ownerOf({
        protocol: 'TCP',
        local: { address: '127.0.0.1', port: 1 },
        remote: { address: '127.0.0.1', port: 2 },
      }),
    ).toBeUndefined();
  });
});

describe.runIf(root && linux)(
  'in a network namespace entered with ip netns exec (no cgroupfs in sight)',
  () => {
    it('every hook still attaches, and a connection made there has its owner', () => {
      const ns = `nwcg${process.pid % 100_000}`;
      execFileSync('ip', ['netns', 'add', ns]);
      try {
        execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        const script = `import('${new URL('../dist/index.js', import.meta.url).href}').then((m) => {
        const { owners, reason } = m.openConnectionOwners();
        if (!owners) { process.stdout.write(JSON.stringify({ reason })); return; }
        const server = require('node:net').createServer((s) => s.end()).listen(0, '127.0.0.1', () => {
          const c = require('node:net').connect(server.address().port, '127.0.0.1', () => {
            const hit = owners.ownerOf({ protocol: 'TCP', local: { address: c.localAddress, port: c.localPort },
              remote: { address: '127.0.0.1', port: server.address().port } });
            process.stdout.write(JSON.stringify({ hooks: owners.hooks, pid: hit?.process.pid, me: process.pid }));
            process.exit(0);
          });
        });
      })`;
        const out = JSON.parse(
          execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { encoding: 'utf8' }),
        ) as {
          hooks: { attached: boolean }[];
          pid: number;
          me: number;
        };
        expect(out.hooks.every((h) => h.attached)).toBe(true);
        expect(out.pid).toBe(out.me);
      } finally {
        execFileSync('ip', ['netns', 'delete', ns]);
      }
    });
  },
);

describe.runIf(linux && root)('without the right to load programs', () => {
  it('as nobody, the source says why it is not there', () => {
    const script = `import('${new URL('../dist/index.js', import.meta.url).href}').then((m) => process.stdout.write(JSON.stringify(m.openConnectionOwners())))`;
    const out = execFileSync(
      'setpriv',
      [
        '--reuid=nobody',
        '--regid=nogroup',
        '--clear-groups',
        '--inh-caps=-all',
        process.execPath,
        '-e',
        script,
      ],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH },
      },
    );
    expect(JSON.parse(out)).toEqual({ reason: expect.stringMatching(/not root, and without CAP_NET_ADMIN/) });
  });

  it('as nobody with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (a service’s AmbientCapabilities=), every hook attaches', () => {
    const script = `import('${new URL('../dist/index.js', import.meta.url).href}').then((m) => { const r = m.openConnectionOwners(); process.stdout.write(JSON.stringify(r.owners ? r.owners.hooks : r)); })`;
    const caps = '+bpf,+perfmon,+net_admin';
    const out = execFileSync(
      'setpriv',
      [
        '--reuid=nobody',
        '--regid=nogroup',
        '--clear-groups',
        `--inh-caps=${caps}`,
        `--ambient-caps=${caps}`,
        process.execPath,
        '-e',
        script,
      ],
      { encoding: 'utf8', env: { PATH: process.env.PATH } },
    );
    expect((JSON.parse(out) as { attached: boolean }[]).map((h) => h.attached)).toEqual(
      new Array(8).fill(true),
    );
  });
});

describe.runIf(linux)('the generated programs read the offsets the kernel BTF gives', () => {
  const fake: Offsets = {
    family: 0x10,
    rcvSaddr: 0x14,
    daddr: 0x18,
    num: 0x1c,
    dport: 0x1e,
    v6RcvSaddr: 0x40,
    v6Daddr: 0x50,
    protocol: 0x1f0,
    rcvNxt: 0x680,
    bytesReceived: 0x6d8,
    nsproxy: 0x700,
    netNs: 0x28,
    netnsInum: 0x98,
    groupLeader: 0x620,
    startTime: 0x6a0,
    execId: 0x7a8,
    execIdSize: 8,
  };
  /** Every (opcode, src register, offset) of the program's loads. */
  const loads = (program: Buffer) =>
    Array.from({ length: program.length / 8 }, (_, i) => program.subarray(i * 8, i * 8 + 8))
      .filter((b) => (b[0]! & 0x07) === 0x01)
      .map((b) => ({ src: b[1]! >> 4, off: b.readInt16LE(2) }));

  it('socket fields through the socket register, task fields through the task, for every program', () => {
    const sockOffsets = [fake.family, fake.dport, fake.num, fake.protocol];
    const task = [fake.nsproxy, fake.groupLeader];
    const tp = loads(socketIoProgram(fake, 3, 'send'));
    for (const off of sockOffsets) expect(tp).toContainEqual({ src: 7, off });
    // The peer's initial sequence number from the tcp_sock bpf_skc_to_tcp_sock returned (r0).
    expect(tp).toContainEqual({ src: 0, off: fake.rcvNxt });
    expect(tp).toContainEqual({ src: 0, off: fake.bytesReceived });
    for (const program of [
      connectProgram(fake, 3),
      socketIoProgram(fake, 3, 'send'),
      socketIoProgram(fake, 3, 'recv'),
      bindProgram(fake, 3, 4),
      bindProgram(fake, 3, 6),
    ]) {
      const l = loads(program);
      for (const off of task) expect(l).toContainEqual({ src: 9, off });
      expect(l).toContainEqual({ src: 1, off: fake.startTime });
      expect(l).toContainEqual({ src: 1, off: fake.execId });
    }
  });

  it('the bind programs read the bound address and port from the context; the release program no task field', () => {
    // struct bpf_sock: protocol 12, src_ip4 24, src_ip6 28..40, src_port 44 (include/uapi/linux/bpf.h)
    const v4 = loads(bindProgram(fake, 3, 4));
    for (const off of [12, 24, 44]) expect(v4).toContainEqual({ src: 6, off });
    const v6 = loads(bindProgram(fake, 3, 6));
    for (const off of [12, 28, 32, 36, 40, 44]) expect(v6).toContainEqual({ src: 6, off });
    const release = loads(releaseProgram(3));
    expect(release).toContainEqual({ src: 6, off: 12 });
    expect(release.some((l) => l.src === 9)).toBe(false);
  });

  it('this kernel’s BTF has every member the programs read', () => {
    const btf = new Btf(readFileSync('/sys/kernel/btf/vmlinux'), {
      structs: ['sock_common', 'sock', 'tcp_sock', 'task_struct'],
    });
    const offsets = offsetsOf(btf);
    expect(offsets).toBeDefined();
    expect(offsets!.family).toBe(btf.memberOffset('sock_common', 'skc_family'));
    expect(offsets!.rcvNxt).toBe(btf.memberOffset('tcp_sock', 'rcv_nxt'));
  });
});
