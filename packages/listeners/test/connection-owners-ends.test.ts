import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectionOwners, openConnectionOwners } from '../src/index';
import { startOnPid } from './pid-reuse';

// The ends the connect and send hooks do not see: accepted TCP connections (recorded at their
// first send or receive, with the peer's SYN's sequence number) and UDP sockets that only receive
// (recorded at bind, removed at close); and a recorded process whose pid another one took since.

const root = process.platform === 'linux' && process.getuid?.() === 0;

/** A long-running child: its pid, the first line it printed, and a stop that waits for its exit. */
async function child(command: string, args: string[]) {
  const p: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: p.stdout! }), 'line')) as [string];
  return {
    pid: p.pid!,
    line,
    stop: async () => {
      if (p.exitCode === null && p.signalCode === null) {
        p.kill();
        await once(p, 'exit');
      }
    },
  };
}

/** A TCP server in another process on `port` (0: any) that reads what it is sent and answers "ok". */
const tcpServer = (port: number) =>
  child(process.execPath, [
    '-e',
    `const s = require('node:net').createServer((c) => { c.on('error', () => {}); c.on('data', () => c.write('ok')); });
     s.listen(${port}, '127.0.0.1', () => console.log(s.address().port));`,
  ]);

/** Connects from `localPort` (0: any), sends, waits for the answer; resolves with the open socket. */
function talk(port: number, localPort = 0): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ...(localPort && { localPort }) }, () => s.write('hi'));
    s.once('data', () => resolve(s));
    s.on('error', reject);
  });
}

/** The opening SYN's sequence number of each connection to `port`, as tcpdump prints it (-S: absolute). */
async function synNumbers(port: number) {
  const dump = spawn(
    'tcpdump',
    ['-i', 'lo', '-nn', '-S', '-l', '--immediate-mode', `tcp[tcpflags] == tcp-syn and dst port ${port}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const seqs = new Map<number, number>(); // client port -> seq
  createInterface({ input: dump.stdout! }).on('line', (line) => {
    const m = /\.(\d+) > [\d.]+\.\d+: Flags \[S\], seq (\d+)/.exec(line);
    if (m) seqs.set(Number(m[1]), Number(m[2]));
  });
  await new Promise<void>((resolve, reject) => {
    dump.on('error', reject); // no tcpdump: scripts/setup.sh test installs it
    dump.stderr!.on('data', (d: Buffer) => String(d).includes('listening on') && resolve());
  });
  return {
    seqs,
    /** Stops once it has printed the SYNs of `ports` (or after 5 s). */
    stop: async (ports: number[]) => {
      for (let waited = 0; waited < 5000 && !ports.every((p) => seqs.has(p)); waited += 20)
        await new Promise((r) => setTimeout(r, 20));
      dump.kill('SIGINT');
      await once(dump, 'exit');
    },
  };
}

const PY_BIND = `
import socket, sys, time
family = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
if sys.argv[3] == 'reuseport': s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
print(s.getsockname()[1], flush=True)
if sys.argv[4] == 'echo':
    while True:
        data, peer = s.recvfrom(100)
        s.sendto(data, peer)
time.sleep(30)
`;
/** A process that binds a UDP socket and only waits (it never sends), or echoes: python3, as a server would. */
const udpReceiver = (address: string, port = 0, reusePort = false, echo = false) =>
  child('python3', [
    '-c',
    PY_BIND,
    address,
    String(port),
    reusePort ? 'reuseport' : '-',
    echo ? 'echo' : '-',
  ]);

describe.runIf(root)('eBPF owners of the ends no connect or send shows', () => {
  let owners: ConnectionOwners;
  beforeAll(() => {
    const result = openConnectionOwners();
    if (!result.owners) throw new Error(result.reason);
    owners = result.owners;
  });
  afterAll(() => owners?.close());

  const tcpEnd = (port: number, peerPort: number) =>
    owners.ownerOf({
      protocol: 'TCP',
      local: { address: '127.0.0.1', port },
      remote: { address: '127.0.0.1', port: peerPort },
    });

  it('an accepted connection has its server, with the number of the SYN that opened it', async () => {
    const server = await tcpServer(0);
    const port = Number(server.line);
    const dump = await synNumbers(port);
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 5; i++) sockets.push(await talk(port));
      await dump.stop(sockets.map((s) => s.localPort!));
      for (const s of sockets) {
        const owner = tcpEnd(port, s.localPort!);
        expect(owner).toMatchObject({
          process: { pid: server.pid, name: 'node' },
          exited: false,
          hook: 'accept',
        });
        expect(owner!.syn).toBe(dump.seqs.get(s.localPort!));
      }
      // The client end is still the connect hook's, in this process.
      expect(tcpEnd(sockets[0]!.localPort!, port)).toMatchObject({
        process: { pid: process.pid },
        hook: 'connect',
      });
    } finally {
      for (const s of sockets) s.destroy();
      await server.stop();
    }
  });

  it('a 4-tuple accepted again by another server belongs to the second, under another SYN number', async () => {
    const first = await tcpServer(0);
    const port = Number(first.line);
    const a = await talk(port);
    const localPort = a.localPort!;
    const before = tcpEnd(port, localPort);
    a.resetAndDestroy(); // no TIME_WAIT: the same 4-tuple may be used again at once
    await first.stop();
    const second = await tcpServer(port);
    try {
      const b = await talk(port, localPort);
      const after = tcpEnd(port, localPort);
      b.destroy();
      expect(before?.process.pid).toBe(first.pid);
      expect(after).toMatchObject({ process: { pid: second.pid }, hook: 'accept' });
      expect(after!.syn).not.toBe(before!.syn);
    } finally {
      await second.stop();
    }
  });

  it('UDP that only receives: the binder, for IPv4, IPv6 and a dual-stack any address, until it closes', async () => {
    const udpEnd = (local: string, port: number, remote: string) =>
      owners.ownerOf({
        protocol: 'UDP',
        local: { address: local, port },
        remote: { address: remote, port: 5353 },
      });
    const v4 = await udpReceiver('127.0.0.1');
    const v6 = await udpReceiver('::1');
    const any = await udpReceiver('::');
    try {
      expect(udpEnd('127.0.0.1', Number(v4.line), '127.0.0.1')).toMatchObject({
        process: { pid: v4.pid, name: 'python3' },
        hook: 'bind',
      });
      expect(udpEnd('::1', Number(v6.line), '::1')).toMatchObject({ process: { pid: v6.pid }, hook: 'bind' });
      // Bound to :: it receives IPv4 too (IPV6_V6ONLY is off by default).
      expect(udpEnd('127.0.0.1', Number(any.line), '127.0.0.1')).toMatchObject({ process: { pid: any.pid } });
      expect(udpEnd('::1', Number(any.line), '::1')).toMatchObject({ process: { pid: any.pid } });
      // Another local address on the same port is not v4's socket: it is bound to 127.0.0.1 only.
      expect(udpEnd('127.0.0.2', Number(v4.line), '127.0.0.1')).toBeUndefined();
    } finally {
      for (const r of [v4, v6, any]) await r.stop();
    }
    // Closed: the release program removed the records.
    expect(udpEnd('127.0.0.1', Number(v4.line), '127.0.0.1')).toBeUndefined();
    expect(udpEnd('127.0.0.1', Number(any.line), '127.0.0.1')).toBeUndefined();
  });

  it('a UDP port two processes bound (SO_REUSEPORT) has no single owner until both close', async () => {
    const udpEnd = (port: number) =>
      owners.ownerOf({
        protocol: 'UDP',
        local: { address: '127.0.0.1', port },
        remote: { address: '127.0.0.1', port: 9999 },
      });
    const a = await udpReceiver('127.0.0.1', 0, true);
    const port = Number(a.line);
    expect(udpEnd(port)?.process.pid).toBe(a.pid);
    const b = await udpReceiver('127.0.0.1', port, true);
    expect(udpEnd(port)).toBeUndefined();
    await a.stop();
    expect(udpEnd(port)).toBeUndefined(); // b's alone now, but the record cannot tell: the socket table answers
    await b.stop();
    const c = await udpReceiver('127.0.0.1', port, true);
    try {
      expect(udpEnd(port)?.process.pid).toBe(c.pid);
    } finally {
      await c.stop();
    }
  });

  it('UDP bound before the programs loaded: the socket that receives and answers, unless two processes share its port', async () => {
    const alone = await udpReceiver('127.0.0.1', 0, false, true);
    const a = await udpReceiver('127.0.0.1', 0, true, true);
    const port = Number(a.line);
    const b = await udpReceiver('127.0.0.1', port, true, true);
    const late = openConnectionOwners(); // its programs saw none of these binds
    const { createSocket } = await import('node:dgram');
    const ask = (o: ConnectionOwners, p: number, from: number) =>
      o.ownerOf({
        protocol: 'UDP',
        local: { address: '127.0.0.1', port: p },
        remote: { address: '127.0.0.1', port: from },
      });
    try {
      const client = createSocket('udp4');
      await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
      const echoed = once(client, 'message');
      client.send('x', Number(alone.line), '127.0.0.1');
      await echoed;
      expect(ask(late.owners!, Number(alone.line), client.address().port)).toMatchObject({
        process: { pid: alone.pid, name: 'python3' },
      });
      // Datagrams from many ports reach both sockets of the shared port (SO_REUSEPORT hashes the source).
      const senders = await Promise.all(
        Array.from({ length: 16 }, async () => {
          const c = createSocket('udp4');
          await new Promise<void>((r) => c.bind(0, '127.0.0.1', r));
          const answer = once(c, 'message');
          c.send('y', port, '127.0.0.1');
          await answer;
          return c;
        }),
      );
      expect(ask(late.owners!, port, senders[0]!.address().port)).toBeUndefined();
      // b alone from now on: after a few seconds without the two together, the port is b's.
      await a.stop();
      await new Promise((r) => setTimeout(r, 3500));
      const answer = once(senders[0]!, 'message');
      senders[0]!.send('z', port, '127.0.0.1');
      await answer;
      expect(ask(late.owners!, port, senders[0]!.address().port)).toMatchObject({ process: { pid: b.pid } });
      for (const c of [client, ...senders]) c.close();
    } finally {
      late.owners?.close();
      for (const r of [alone, a, b]) await r.stop();
    }
  });

  it('a recorded process whose pid another process took since is named as exited, not as the new one', async () => {
    const server = await tcpServer(0);
    const port = Number(server.line);
    try {
      const client = spawn(process.execPath, [
        '-e',
        `const s = require('node:net').connect(${port}, '127.0.0.1', () => { console.log(s.localPort); s.resetAndDestroy(); });`,
      ]);
      const [line] = (await once(createInterface({ input: client.stdout! }), 'line')) as [string];
      await once(client, 'exit');
      const pid = client.pid!;
      const taker = await startOnPid(pid, () =>
        child('python3', ['-c', 'import time; print(1, flush=True); time.sleep(30)']),
      );
      expect(taker, `pid ${pid} was not reused`).toBeDefined();
      try {
        expect(tcpEnd(Number(line), port)).toMatchObject({
          process: { pid, name: 'node', path: '' },
          exited: true,
          hook: 'connect',
        });
      } finally {
        await taker!.stop();
      }
    } finally {
      await server.stop();
    }
  });
});
