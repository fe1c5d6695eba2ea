import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ScanOptions } from '../src/index';
import * as sources from '../src/index';
import { TaskFiles } from '../src/platform/linux/bpf/task-files';
import { type Holder, startHolder } from './helpers';

// Each race runs with owners from the /proc walk on one thread (the sources) and, when the package
// is built, on two (the walk worker is a built file, so that run loads dist/), and from the BPF
// iterator where it can run (root, kernel BTF).
type Api = typeof sources;
const builtWorker = existsSync(join(import.meta.dirname, '..', 'dist', 'walk-worker.js'));
const bpfAvailable = process.platform === 'linux' && TaskFiles.open() !== undefined;
const variants: Array<[string, () => Promise<Api>, ScanOptions]> = [
  ['/proc walk, one thread', async () => sources, { owners: 'procfs', parallel: false }],
  ...(builtWorker
    ? [
        [
          '/proc walk, two threads (built package)',
          async () => (await import('../dist/index.js')) as Api,
          { owners: 'procfs', parallel: true },
        ] as [string, () => Promise<Api>, ScanOptions],
      ]
    : []),
  ...(bpfAvailable
    ? [['BPF iterator', async () => sources, { owners: 'bpf' }] as [string, () => Promise<Api>, ScanOptions]]
    : []),
];

const running: Holder[] = [];
async function hold(...args: Parameters<typeof startHolder>): Promise<Holder> {
  const h = await startHolder(...args);
  running.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((h) => h.stop()));
});

describe.runIf(process.platform === 'linux').each(variants)(
  'Linux backend: churn, reuse and TIME_WAIT, %s',
  (_name, load, options) => {
    let api: Api;
    beforeAll(async () => {
      api = await load();
    });
    it('a port reused by another process right after the first closed it maps to the new owner, never the old', async () => {
      for (let round = 0; round < 10; round++) {
        const a = await hold([
          { kind: 'udp', host: '127.0.0.1' },
          { kind: 'tcp-listen', host: '127.0.0.1' },
        ]);
        const [udp, tcp] = a.sockets.map((s) => s.port) as [number, number];
        expect((await api.getProcessByPort(udp, 'UDP', options)).pid).toBe(a.pid);
        await a.stop();
        const b = await hold([
          { kind: 'udp', host: '127.0.0.1', port: udp },
          { kind: 'tcp-listen', host: '127.0.0.1', port: tcp },
        ]);
        expect((await api.getProcessByPort(udp, 'UDP', options)).pid).toBe(b.pid);
        expect((await api.getProcessByPort(tcp, 'TCP', options)).pid).toBe(b.pid);
        const all = await api.getAll(options);
        const onTheirPorts = all.filter(
          (x) =>
            x.socket.address === '127.0.0.1' &&
            ((x.protocol === 'UDP' && x.socket.port === udp) ||
              (x.protocol === 'TCP' && x.socket.port === tcp)),
        );
        for (const l of onTheirPorts) {
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

      const timeWait = (await api.getAll(options)).filter(
        (l) => l.socket.port === port && l.state === 'TimeWait',
      );
      expect(timeWait.length).toBeGreaterThan(0);
      for (const l of timeWait) expect(l).toMatchObject({ inode: 0, unowned: 'none' });
      // Nothing listens now: only TIME_WAIT remains, which is not an owner.
      await expect(api.getProcessByPort(port, 'TCP', options)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });

      const owner = await hold([{ kind: 'tcp-listen', host: '127.0.0.1', port }]);
      expect((await api.getProcessByPort(port, 'TCP', options)).pid).toBe(owner.pid);
      expect((await api.getProcessByPort(port, 'TCP', { ...options, source: 'procfs' })).pid).toBe(owner.pid);
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
      let twoThreadScans = 0;
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline || scans < 20) {
        const { listeners, summary } = await api.scan(options);
        scans++;
        if (summary.threads === 2) twoThreadScans++;
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
      const churnedPids = new Set([...held].map((key) => Number(key.split('/')[1])));
      let checked = 0;
      for (const a of answers) {
        if (!churnedPorts.has(a.port)) continue;
        // Other tests run beside this one and use ephemeral ports too: a port of ours that another
        // process on the machine held at another moment is theirs to hold, not a wrong answer.
        if (a.pid !== undefined && !churnedPids.has(a.pid)) continue;
        if (a.pid !== undefined) {
          expect(held, `port ${a.port} said to be held by pid ${a.pid}`).toContain(`${a.port}/${a.pid}`);
          checked++;
        } else expect(['vanished', 'none']).toContain(a.unowned);
      }
      expect(checked).toBeGreaterThan(0);
      // The worker starts on the first scan; after that it must have read part of /proc.
      if (options.parallel) expect(twoThreadScans).toBeGreaterThan(0);
    });
  },
);
