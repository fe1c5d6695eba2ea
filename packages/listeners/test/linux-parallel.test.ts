import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Holder, NODE_PATH, startConnected } from './helpers';

// The walk worker is a built file (dist/walk-worker.js): these tests run the built package in a
// plain Node process, as users do. `pnpm test` builds first.
const dist = join(import.meta.dirname, '..', 'dist', 'walk-worker.js');
const PROBE = join(import.meta.dirname, 'fixtures', 'parallel-probe.mjs');

describe.runIf(process.platform === 'linux' && existsSync(dist))('the /proc walk on two threads', () => {
  let server: Holder;
  let client: Holder;
  beforeAll(async () => {
    ({ server, client } = await startConnected([
      { kind: 'tcp-listen', host: '127.0.0.1' },
      { kind: 'tcp-listen', host: '::1' },
      { kind: 'udp', host: '127.0.0.1' },
    ]));
  });
  afterAll(async () => {
    await server?.stop();
    await client?.stop();
  });

  it('finds every owner the one-thread walk finds, and the program still exits by itself', () => {
    const wanted = [
      ...server.sockets.map((s) => ({
        protocol: s.kind === 'udp' ? 'UDP' : 'TCP',
        port: s.port,
        remotePort: 0,
        pid: server.pid,
      })),
      ...client.sockets.map((s) => ({
        protocol: 'TCP',
        port: s.port,
        remotePort: s.remotePort,
        pid: client.pid,
      })),
    ];
    // execFileSync fails on a timeout: a worker that kept the program alive would fail the test.
    const out = execFileSync(process.execPath, [PROBE, JSON.stringify(wanted)], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    const report = JSON.parse(out) as {
      threads: number;
      parallel: Array<{ pid: number; name: string; path: string } | null>;
      oneThread: Array<{ pid: number } | null>;
      lookups: number[];
    };
    expect(report.threads).toBe(2);
    expect(report.parallel.map((p) => p?.pid)).toEqual(wanted.map((w) => w.pid));
    expect(report.parallel.map((p) => p?.path)).toEqual(wanted.map(() => NODE_PATH));
    expect(report.oneThread.map((p) => p?.pid)).toEqual(wanted.map((w) => w.pid));
    expect(report.lookups).toEqual([server.pid, server.pid]);
  });
});
