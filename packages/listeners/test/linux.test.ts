import { connect, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Listener, ScanOptions } from '../src/index';
import * as api from '../src/index';
import { TaskFiles } from '../src/platform/linux/bpf/task-files';
import { testPublicBehaviour } from './behaviour';
import { type Holder, longNamedNode, NODE_PATH, startConnected, startHolder } from './helpers';

/** A port that nothing listens on: bind an ephemeral one, note it, close it. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const find = (all: Listener[], protocol: string, port: number, host?: string) =>
  all.filter(
    (l) =>
      l.protocol === protocol && l.socket.port === port && (host === undefined || l.socket.address === host),
  );

describe.runIf(process.platform === 'linux')('Linux backend, real processes and sockets', () => {
  testPublicBehaviour(api, { unusedPort });

  let server: Holder;
  let client: Holder;
  const program = longNamedNode();

  beforeAll(async () => {
    ({ server, client } = await startConnected(
      [
        { kind: 'tcp-listen', host: '127.0.0.1' },
        { kind: 'tcp-listen', host: '::1' },
        { kind: 'udp', host: '127.0.0.1' },
        { kind: 'udp', host: '::1' },
      ],
      { program },
    ));
  });
  afterAll(async () => {
    await server?.stop();
    await client?.stop();
  });

  const expectServer = (l: Listener | undefined) =>
    expect(l?.process).toEqual({ pid: server.pid, name: 'netwho-test-socket-holder', path: NODE_PATH });

  // Owners from the /proc walk, and from the BPF iterator where it runs (root): each twice, as the
  // second scan takes processes known from the first.
  const ownerModes: ScanOptions['owners'][] = TaskFiles.open() ? ['procfs', 'bpf'] : ['procfs'];
  const combinations = (['auto', 'netlink', 'procfs'] as const).flatMap((source) =>
    ownerModes.flatMap((owners) => [[source, owners, 'first'] as const, [source, owners, 'again'] as const]),
  );
  it.each(combinations)(
    'getAll (source %s, owners %s, %s) maps every test socket to its pid, full name and path',
    async (source, owners) => {
      const all = await api.getAll({ source, owners });
      const [tcp4, tcp6, udp4, udp6] = server.sockets;
      // The accepted end of the connection shares the listener's address and port: tell them apart by peer.
      const listen4 = find(all, 'TCP', tcp4!.port, '127.0.0.1').filter((l) => !l.remote);
      expect(listen4).toHaveLength(1);
      expect(listen4[0]).toMatchObject({ state: 'Listen', family: 4, uid: process.getuid!() });
      expect(listen4[0]!.remote).toBeUndefined();
      expectServer(listen4[0]);

      const listen6 = find(all, 'TCP', tcp6!.port, '::1');
      expect(listen6[0]).toMatchObject({ state: 'Listen', family: 6 });
      expectServer(listen6[0]);

      expect(find(all, 'UDP', udp4!.port, '127.0.0.1')[0]).toMatchObject({ state: 'Unknown', family: 4 });
      expectServer(find(all, 'UDP', udp4!.port, '127.0.0.1')[0]);
      expect(find(all, 'UDP', udp6!.port, '::1')[0]).toMatchObject({ state: 'Unknown', family: 6 });
      expectServer(find(all, 'UDP', udp6!.port, '::1')[0]);

      // Both ends of the established connection: the client's and the one the server accepted. The
      // client's port may also be the local port of other connections (to other peers) on this machine.
      const clientPort = client.sockets[0]!.port;
      const clientEnd = find(all, 'TCP', clientPort, '127.0.0.1').filter(
        (l) => l.remote?.port === tcp4!.port,
      );
      expect(clientEnd).toHaveLength(1);
      expect(clientEnd[0]).toMatchObject({
        state: 'Established',
        remote: { address: '127.0.0.1', port: tcp4!.port },
      });
      expect(clientEnd[0]!.process).toEqual({ pid: client.pid, name: 'node', path: NODE_PATH });

      const accepted = all.filter(
        (l) => l.protocol === 'TCP' && l.socket.port === tcp4!.port && l.remote?.port === clientPort,
      );
      expect(accepted).toHaveLength(1);
      expect(accepted[0]!.state).toBe('Established');
      expectServer(accepted[0]);
    },
  );

  it('netlink and /proc/net give the same table', async () => {
    const key = (l: Listener) =>
      `${l.protocol} ${l.family} ${l.socket.address}:${l.socket.port} ${l.remote?.address}:${l.remote?.port} ${l.state} ${l.inode} ${l.uid} ${l.process?.pid ?? l.unowned}`;
    const ours = (l: Listener) => l.process?.pid === server.pid || l.process?.pid === client.pid;
    const netlink = (await api.getAll({ source: 'netlink' })).filter(ours).map(key).sort();
    const procfs = (await api.getAll({ source: 'procfs' })).filter(ours).map(key).sort();
    expect(netlink.length).toBe(6);
    expect(procfs).toEqual(netlink);
  });

  it('scan reports its sources and counts every socket once', async () => {
    const { listeners, summary } = await api.scan();
    expect(summary.sources).toEqual(['netlink']);
    expect(summary.sockets).toBe(listeners.length);
    const unowned = Object.values(summary.unowned).reduce((a, b) => a + b, 0);
    expect(summary.owned + unowned).toBe(summary.sockets);
    expect(summary.owned).toBe(listeners.filter((l) => l.process).length);
  });

  it.each(['auto', 'procfs'] as const)(
    'getProcessByPort finds the listener and the UDP owner (source %s)',
    async (source) => {
      const [tcp4, tcp6, udp4] = server.sockets;
      for (const port of [tcp4!.port, tcp6!.port])
        expectServer({ process: await api.getProcessByPort(port, 'TCP', { source }) } as Listener);
      expectServer({ process: await api.getProcessByPort(udp4!.port, 'UDP', { source }) } as Listener);
      // The client's ephemeral port has no listener: its connected socket owns it. Connections of
      // other processes (to other peers) may share the port number; then the newest holder answers.
      const port = client.sockets[0]!.port;
      const holders = new Set(
        (await api.getAll())
          .filter((l) => l.protocol === 'TCP' && l.socket.port === port && l.process)
          .map((l) => l.process!.pid),
      );
      expect(holders).toContain(client.pid);
      const owner = (await api.getProcessByPort(port, 'TCP', { source })).pid;
      if (holders.size === 1) expect(owner).toBe(client.pid);
      else expect([...holders]).toContain(owner);
    },
  );

  it('getProcessByPort does not mistake the protocol: the UDP port is not a TCP port', async () => {
    const udp = server.sockets[2]!.port;
    const tcpOnSamePort = (await api.getAll()).some((l) => l.protocol === 'TCP' && l.socket.port === udp);
    if (!tcpOnSamePort)
      await expect(api.getProcessByPort(udp, 'TCP')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });

  it.each(['auto', 'procfs'] as const)(
    'getByPid returns exactly the sockets of that process (source %s)',
    async (source) => {
      const mine = await api.getByPid(server.pid, { source });
      const listening = mine.filter((l) => l.state === 'Listen').map((l) => l.socket.port);
      expect(listening.sort()).toEqual([server.sockets[0]!.port, server.sockets[1]!.port].sort());
      expect(mine.filter((l) => l.protocol === 'UDP')).toHaveLength(2);
      expect(mine.filter((l) => l.state === 'Established')).toHaveLength(1);
      expect(mine).toHaveLength(5);
      for (const l of mine) expectServer(l);
      expect(await api.getByPid(client.pid, { source })).toHaveLength(1);
    },
  );

  it('getByPid of a process with no sockets is an empty list', async () => {
    expect(await api.getByPid(process.ppid === 1 ? 1 : process.pid)).toBeInstanceOf(Array);
    const idle = await startHolder([]);
    try {
      expect(await api.getByPid(idle.pid)).toEqual([]);
    } finally {
      await idle.stop();
    }
  });

  it('the sync forms return the same answers as the Promise forms', async () => {
    const port = server.sockets[0]!.port;
    expect(api.getProcessByPortSync(port, 'TCP')).toEqual(await api.getProcessByPort(port, 'TCP'));
    expect(api.getByPidSync(server.pid).length).toBe((await api.getByPid(server.pid)).length);
    expect(() => api.getProcessByPortSync(0, 'TCP')).toThrow(api.ListenersError);
  });

  it('a scan limited to some ports lists only their sockets, with the fd each is held at', async () => {
    const [tcp4, , udp4] = server.sockets;
    const { listeners } = await api.scan({ ports: [tcp4!.port, udp4!.port] });
    expect(listeners.length).toBeGreaterThanOrEqual(3); // listener, accepted end, UDP socket
    for (const l of listeners) expect([tcp4!.port, udp4!.port]).toContain(l.socket.port);
    const listening = listeners.find((l) => l.protocol === 'TCP' && l.state === 'Listen' && l.family === 4);
    expect(listening?.process?.pid).toBe(server.pid);
    expect(listening?.fd).toBeGreaterThan(2);
    expect(api.isStillOwner(listening!)).toBe(true);
    // The same inode at another fd, or another pid, is not held.
    expect(api.isStillOwner({ ...listening!, fd: listening!.fd! + 1000 })).toBe(false);
    expect(api.isStillOwner({ ...listening!, process: { pid: process.pid, name: '', path: '' } })).toBe(
      false,
    );
    await expect(api.scan({ ports: [0] })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
  });

  it('isStillOwner turns false once the owner closes the socket', async () => {
    const holder = await startHolder([{ kind: 'udp', host: '127.0.0.1' }]);
    const [mine] = await api.getByPid(holder.pid);
    expect(mine?.fd).toBeGreaterThan(2);
    expect(api.isStillOwner(mine!)).toBe(true);
    await holder.stop();
    expect(api.isStillOwner(mine!)).toBe(false);
  });

  it('tcpInfo gives the kernel byte counters of a TCP connection', async () => {
    const payload = Buffer.alloc(200_000, 7);
    const received = { bytes: 0 };
    const sink = createServer((socket) => socket.on('data', (chunk) => (received.bytes += chunk.length)));
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    const { port } = sink.address() as { port: number };
    const sender = connect(port, '127.0.0.1');
    await new Promise((resolve) => sender.once('connect', resolve));
    await new Promise<void>((resolve) => sender.write(payload, () => resolve()));
    while (received.bytes < payload.length) await new Promise((r) => setTimeout(r, 5));
    try {
      const all = await api.getAll({
        protocols: ['TCP'],
        families: [4],
        tcpInfo: true,
        ports: [port, sender.localPort!],
      });
      const out = all.find((l) => l.socket.port === sender.localPort && l.remote?.port === port);
      const inn = all.find((l) => l.socket.port === port && l.remote?.port === sender.localPort);
      // The kernel counts the connecting side's SYN as one acknowledged byte.
      expect(out?.traffic?.bytesAcked).toBeGreaterThanOrEqual(payload.length);
      expect(out?.traffic?.bytesAcked).toBeLessThanOrEqual(payload.length + 1);
      expect(inn?.traffic?.bytesReceived).toBe(payload.length);
      // Without the option no counters are asked for.
      const plain = await api.getAll({ protocols: ['TCP'], ports: [port] });
      expect(plain.every((l) => l.traffic === undefined)).toBe(true);
    } finally {
      sender.destroy();
      await new Promise((resolve) => sink.close(resolve));
    }
  });
});
