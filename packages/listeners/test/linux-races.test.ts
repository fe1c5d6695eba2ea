import { connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import * as api from '../src/index';
import { type Holder, startHolder } from './helpers';

const running: Holder[] = [];
async function hold(...args: Parameters<typeof startHolder>): Promise<Holder> {
  const h = await startHolder(...args);
  running.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((h) => h.stop()));
});

describe.runIf(process.platform === 'linux')('Linux backend: churn, reuse and TIME_WAIT', () => {
  it('a port reused by another process right after the first closed it maps to the new owner, never the old', async () => {
    for (let round = 0; round < 10; round++) {
      const a = await hold([
        { kind: 'udp', host: '127.0.0.1' },
        { kind: 'tcp-listen', host: '127.0.0.1' },
      ]);
      const [udp, tcp] = a.sockets.map((s) => s.port) as [number, number];
      expect((await api.getProcessByPort(udp, 'UDP')).pid).toBe(a.pid);
      await a.stop();
      const b = await hold([
        { kind: 'udp', host: '127.0.0.1', port: udp },
        { kind: 'tcp-listen', host: '127.0.0.1', port: tcp },
      ]);
      expect((await api.getProcessByPort(udp, 'UDP')).pid).toBe(b.pid);
      expect((await api.getProcessByPort(tcp, 'TCP')).pid).toBe(b.pid);
      const all = await api.getAll();
      for (const l of all.filter((x) => x.socket.port === udp || x.socket.port === tcp)) {
        if (l.process) expect(l.process.pid).toBe(b.pid);
      }
      await b.stop();
    }
  });

  it('TIME_WAIT rows (inode 0) do not hide the real owner of a port', async () => {
    // The server closes first, so its side of the connection (on the listening port) enters TIME_WAIT.
    const server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) =>
        connect(port, '127.0.0.1')
          .on('close', () => resolve())
          .resume(),
      );
    }
    await new Promise((resolve) => server.close(resolve));

    const timeWait = (await api.getAll()).filter((l) => l.socket.port === port && l.state === 'TimeWait');
    expect(timeWait.length).toBeGreaterThan(0);
    for (const l of timeWait) expect(l).toMatchObject({ inode: 0, unowned: 'none' });
    // Nothing listens now: only TIME_WAIT remains, which is not an owner.
    await expect(api.getProcessByPort(port, 'TCP')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });

    const owner = await hold([{ kind: 'tcp-listen', host: '127.0.0.1', port }]);
    expect((await api.getProcessByPort(port, 'TCP')).pid).toBe(owner.pid);
    expect((await api.getProcessByPort(port, 'TCP', { source: 'procfs' })).pid).toBe(owner.pid);
  });

  it('processes exiting during scans: every answer is the true owner or unowned, never another pid', async () => {
    // Checked once the churn has stopped: a holder may bind a port before it tells us it did, so
    // during the scans the truth lags behind what the kernel (and the scan) already sees.
    const held = new Set<string>(); // `${port}/${pid}` for every socket a churned process held
    const answers: Array<{ port: number; pid?: number; unowned?: string }> = [];
    let stop = false;
    // Churn: processes that open a socket and die soon after, while scans run.
    const churn = (async () => {
      while (!stop) {
        const h = await startHolder([
          { kind: 'udp', host: '127.0.0.1' },
          { kind: 'tcp-listen', host: '127.0.0.1' },
        ]);
        for (const s of h.sockets) held.add(`${s.port}/${h.pid}`);
        setTimeout(() => void h.stop(), 5);
      }
    })();
    let scans = 0;
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline || scans < 20) {
      const { listeners, summary } = await api.scan();
      scans++;
      expect(summary.sockets).toBe(listeners.length);
      for (const l of listeners) {
        if (l.remote || l.socket.address !== '127.0.0.1') continue;
        answers.push({ port: l.socket.port, pid: l.process?.pid, unowned: l.unowned });
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    stop = true;
    await churn;

    const churnedPorts = new Set([...held].map((key) => Number(key.split('/')[0])));
    let checked = 0;
    for (const a of answers) {
      if (!churnedPorts.has(a.port)) continue;
      if (a.pid !== undefined) {
        expect(held, `port ${a.port} said to be held by pid ${a.pid}`).toContain(`${a.port}/${a.pid}`);
        checked++;
      } else expect(['vanished', 'none']).toContain(a.unowned);
    }
    expect(checked).toBeGreaterThan(0);
  });
});
