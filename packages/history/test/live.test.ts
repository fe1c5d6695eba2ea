import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HistoryRecording, HistoryStore, type LiveProcess, programIdOf } from '../src';

const dir = mkdtempSync(join(tmpdir(), 'netwho-live-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const curl1: LiveProcess = { pid: 10, name: 'curl', path: '/usr/bin/curl' };
const curl2: LiveProcess = { pid: 11, name: 'curl', path: '/usr/bin/curl' };
const nginx: LiveProcess = {
  pid: 20,
  name: 'nginx',
  path: '/usr/sbin/nginx',
  cgroup: { unit: 'nginx.service', container: { runtime: 'docker', id: 'ab'.repeat(32) } },
};

describe('HistoryRecording', () => {
  it('writes what a monitor reports: programs across their processes, and ended connections with both ends', () => {
    const t0 = Date.now() - 60_000;
    const store = HistoryStore.open({ path: join(dir, 'live.db') });
    const recording = new HistoryRecording(store);
    const program = (key: string, process: LiveProcess | undefined, bytesIn: number, bytesOut: number) => ({
      key,
      ...(process && { process }),
      bytesIn,
      bytesOut,
      packetsIn: 1,
      packetsOut: 1,
      connections: 1,
    });
    recording.observe({ at: t0, programs: [program('pid:10', curl1, 100, 0)] });
    recording.observe({
      at: t0 + 1000,
      programs: [
        program('pid:10', curl1, 300, 10),
        program('pid:11', curl2, 50, 0),
        program('pid:20', nginx, 0, 350),
        program('unknown', undefined, 7, 0),
      ],
    });
    recording.connectionEnded({
      protocol: 'TCP',
      local: { address: '127.0.0.1', port: 40_000 },
      remote: { address: '127.0.0.1', port: 80 },
      label: { status: 'known', process: curl1 },
      peer: { status: 'known', process: nginx },
      bytesIn: 300,
      bytesOut: 10,
      packetsIn: 3,
      packetsOut: 2,
      firstSeen: t0 + 0.4,
      lastSeen: t0 + 900.6,
      remoteName: 'localhost',
    });
    recording.flush(t0 + 10_000);
    const range = { from: t0 - 1, to: t0 + 20_000 };
    const totals = Object.fromEntries(store.programs(range).map((p) => [p.program.name, p]));
    expect(totals.curl).toMatchObject({ bytesIn: 350, bytesOut: 10, connections: 1 });
    expect(totals.nginx).toMatchObject({
      bytesOut: 350,
      program: { unit: 'nginx.service', container: 'docker:abababababab' },
    });
    expect(totals['']).toMatchObject({ bytesIn: 7 });
    const [c] = store.connections(range);
    expect(c).toMatchObject({
      start: t0,
      end: t0 + 901,
      remoteName: 'localhost',
      program: { name: 'curl' },
      peer: { name: 'nginx' },
    });
    expect(recording.stats()).toMatchObject({ writes: 1, writeErrors: 0, connectionsDropped: 0 });
    recording.close(); // nothing new: no empty interval is written
    expect(store.info().writes).toBe(1);
    store.close();
  });

  it('gives a process that exited before its path was read the one path its name ran from', () => {
    const store = HistoryStore.open({ path: join(dir, 'paths.db') });
    const recording = new HistoryRecording(store);
    const t0 = Date.now() - 10_000;
    const row = (key: string, process: LiveProcess) => ({
      key,
      process,
      bytesIn: 10,
      bytesOut: 0,
      packetsIn: 1,
      packetsOut: 0,
      connections: 0,
    });
    recording.observe({
      at: t0,
      programs: [
        row('pid:1', curl1),
        row('pid:2', { pid: 2, name: 'curl', path: '' }),
        row('pid:3', { pid: 3, name: 'app', path: '/opt/a/app' }),
        row('pid:4', { pid: 4, name: 'app', path: '/opt/b/app' }),
        row('pid:5', { pid: 5, name: 'app', path: '' }),
      ],
    });
    recording.connectionEnded(
      {
        protocol: 'UDP',
        local: { address: '10.0.0.1', port: 5000 },
        remote: { address: '10.0.0.9', port: 53 },
        label: { status: 'pending' },
        bytesIn: 1,
        bytesOut: 1,
        packetsIn: 1,
        packetsOut: 1,
        firstSeen: t0,
        lastSeen: t0,
      },
      true,
    );
    recording.flush(t0 + 1000);
    const paths = store
      .programs({ from: t0 - 1, to: t0 + 1000 })
      .map((p) => `${p.program.name}:${p.program.path}:${p.bytesIn}`);
    // curl's two processes are one program; app ran from two paths, so its pathless process stays apart.
    expect(paths.sort()).toEqual([
      'app:/opt/a/app:10',
      'app:/opt/b/app:10',
      'app::10',
      'curl:/usr/bin/curl:20',
    ]);
    expect(store.connections({ from: t0 - 1, to: t0 + 1000 })[0]).toMatchObject({
      open: true,
      program: { name: '' },
    });
    store.close();
  });

  it('counts a failed write and goes on', () => {
    const store = HistoryStore.open({ path: join(dir, 'closed.db') });
    const errors: unknown[] = [];
    const recording = new HistoryRecording(store, { onError: (e) => errors.push(e) });
    store.close();
    recording.observe({
      at: 1,
      programs: [{ key: 'k', bytesIn: 1, bytesOut: 0, packetsIn: 1, packetsOut: 0, connections: 0 }],
    });
    recording.flush(2);
    expect(recording.stats()).toMatchObject({ writes: 0, writeErrors: 1 });
    expect(recording.stats().lastError).toMatch(/closed/);
    expect(errors).toHaveLength(1);
  });

  it('names a user unit with its user, and a container by its name when the runtime gives one', () => {
    expect(
      programIdOf({ pid: 1, name: 'a', path: '/a', cgroup: { unit: 'app.service', user: 1000 } }).unit,
    ).toBe('app.service (user 1000)');
    expect(
      programIdOf({
        pid: 1,
        name: 'a',
        path: '/a',
        cgroup: { container: { runtime: 'podman', id: 'f'.repeat(64), name: 'db' } },
      }).container,
    ).toBe('db');
  });
});
