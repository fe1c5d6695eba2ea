import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ConnectionRecord,
  HistoryStore,
  HOUR,
  type IntervalWrite,
  type ProgramId,
  type ProgramInterval,
  SCHEMA_VERSION,
} from '../src';
import { MIGRATIONS } from '../src/schema';

const dir = mkdtempSync(join(tmpdir(), 'netwho-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const fresh = () => join(dir, `h${files++}.db`);

const NOW = Math.floor(Date.now() / HOUR) * HOUR;
const T0 = NOW - 6 * HOUR; // intervals start on an hour, six hours ago
const curl: ProgramId = { name: 'curl', path: '/usr/bin/curl', unit: 'session-2.scope', container: '' };
const nginx: ProgramId = { name: 'nginx', path: '/usr/sbin/nginx', unit: 'nginx.service', container: '' };
const worker: ProgramId = { name: 'nginx', path: '/usr/sbin/nginx', unit: 'other.service', container: 'web' };

function row(program: ProgramId, bytesIn: number, bytesOut = 0, connections = 1): ProgramInterval {
  return {
    program,
    bytesIn,
    bytesOut,
    packetsIn: 1,
    packetsOut: 1,
    connections,
    peakIn: bytesIn / 10,
    peakOut: bytesOut / 10,
  };
}

function connection(
  program: ProgramId,
  end: number,
  extra: Partial<ConnectionRecord> = {},
): ConnectionRecord {
  return {
    start: end - 500,
    end,
    protocol: 'TCP',
    localAddress: '10.0.0.2',
    localPort: 40_000,
    remoteAddress: '192.0.2.7',
    remotePort: 443,
    program,
    bytesIn: 100,
    bytesOut: 10,
    packetsIn: 2,
    packetsOut: 1,
    ...extra,
  };
}

/** Intervals of 10 s from T0 for `hours` hours: curl gets i bytes in interval i, nginx 1000 out. */
function fill(store: HistoryStore, hours: number): IntervalWrite[] {
  const writes: IntervalWrite[] = [];
  for (let i = 0; i < hours * 360; i++) {
    const start = T0 + i * 10_000;
    const w = {
      start,
      end: start + 10_000,
      programs: [row(curl, i), row(nginx, 0, 1000, 3)],
      connections: [],
    };
    store.write(w);
    writes.push(w);
  }
  return writes;
}

/** What a range must sum to, from the writes themselves. */
function expected(writes: IntervalWrite[], from: number, to: number, name: string) {
  let bytesIn = 0;
  let bytesOut = 0;
  for (const w of writes) {
    if (w.start < from || w.start >= to) continue;
    for (const p of w.programs) {
      if (p.program.name !== name) continue;
      bytesIn += p.bytesIn;
      bytesOut += p.bytesOut;
    }
  }
  return { bytesIn, bytesOut };
}

describe('HistoryStore', () => {
  it('makes a WAL file at the newest schema, in a folder it creates', () => {
    const path = join(dir, 'deep', 'er', 'netwho.db');
    const store = HistoryStore.open({ path });
    expect(store.info()).toMatchObject({ path, schemaVersion: SCHEMA_VERSION, programs: 0, writes: 0 });
    store.close();
    const db = new BetterSqlite3(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
    expect(statSync(join(dir, 'deep')).mode & 0o777).toBe(0o700);
  });

  it('answers any range with the exact totals of the intervals in it', () => {
    const store = HistoryStore.open({ path: fresh(), now: () => NOW });
    const writes = fill(store, 4);
    for (const [from, to] of [
      [T0, T0 + 4 * HOUR], // whole hours
      [T0 + 7 * 60_000, T0 + 3 * HOUR + 25 * 60_000], // ragged at both ends
      [T0 + 10 * 60_000, T0 + 20 * 60_000], // inside one hour
      [T0 - HOUR, T0 + 10_000], // before anything, then one interval
    ] as const) {
      const got = store.programs({ from, to });
      const c = got.find((p) => p.program.name === 'curl');
      const e = expected(writes, from, to, 'curl');
      expect(c?.bytesIn ?? 0).toBe(e.bytesIn);
      expect(got.find((p) => p.program.name === 'nginx')?.bytesOut).toBe(
        expected(writes, from, to, 'nginx').bytesOut,
      );
    }
    const all = store.programs({ from: T0, to: NOW });
    // The busiest first, with peaks and the range's first and last interval.
    expect(all.map((p) => p.program.name)).toEqual(['nginx', 'curl']);
    expect(all[1]).toMatchObject({ peakIn: (4 * 360 - 1) / 10, peakConnections: 1, firstSeen: T0 });
    expect(all[1]!.lastSeen).toBe(T0 + (4 * 360 - 1) * 10_000);
    store.close();
  });

  it('groups by user: one program run by two users is two rows, one per user', () => {
    const store = HistoryStore.open({ path: fresh(), now: () => NOW });
    const asRoot: ProgramId = { ...curl, user: 'root' };
    const asAlice: ProgramId = { ...curl, user: 'alice' };
    store.write({
      start: T0,
      end: T0 + 10_000,
      programs: [row(asRoot, 30), row(asAlice, 12), row(nginx, 5)],
      connections: [],
    });
    const range = { from: T0, to: T0 + HOUR };
    expect(store.programs({ ...range, by: 'user' }).map((p) => [p.program.user, p.bytesIn])).toEqual([
      ['root', 30],
      ['alice', 12],
      ['', 5],
    ]);
    // Per program the two users' runs are one curl (its user not claimed by either).
    const perProgram = store.programs(range).find((p) => p.program.name === 'curl')!;
    expect([perProgram.bytesIn, perProgram.program.user]).toEqual([42, '']);
    store.close();
  });

  it('migrates a schema 1 file (no users): its programs and rows stay, new rows carry users', () => {
    const path = fresh();
    const old = new BetterSqlite3(path);
    old.exec(MIGRATIONS[0]!);
    old.pragma('user_version = 1');
    old
      .prepare(
        "INSERT INTO programs (id, name, path, unit, container, first_seen) VALUES (7, 'curl', '/usr/bin/curl', '', '', ?)",
      )
      .run(T0);
    old.prepare('INSERT INTO samples VALUES (?, 10000, 7, 100, 0, 1, 0, 1, 10, 0)').run(T0);
    old.close();
    const store = HistoryStore.open({ path, now: () => NOW });
    store.write({
      start: T0 + 10_000,
      end: T0 + 20_000,
      programs: [row({ ...curl, unit: '', user: 'alice' }, 5)],
      connections: [],
    });
    const range = { from: T0, to: T0 + 20_000 }; // 10 s rows: the old file's row is one
    expect(store.programs({ ...range, by: 'user' }).map((p) => [p.program.user, p.bytesIn])).toEqual([
      ['', 100],
      ['alice', 5],
    ]);
    store.close();
    const check = new BetterSqlite3(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(check.pragma('foreign_key_check')).toEqual([]);
    check.close();
  });

  it('groups by program, unit or container, and filters by name, path or file name', () => {
    const store = HistoryStore.open({ path: fresh(), now: () => NOW });
    store.write({
      start: T0,
      end: T0 + 10_000,
      programs: [row(nginx, 10), row(worker, 5), row(curl, 1)],
      connections: [],
    });
    const range = { from: T0, to: T0 + HOUR };
    // One program in two units: one row, its unit not claimed by either.
    expect(store.programs(range).map((p) => [p.program.name, p.program.unit, p.bytesIn])).toEqual([
      ['nginx', '', 15],
      ['curl', 'session-2.scope', 1],
    ]);
    expect(store.programs({ ...range, by: 'unit' }).map((p) => [p.program.unit, p.bytesIn])).toEqual([
      ['nginx.service', 10],
      ['other.service', 5],
      ['session-2.scope', 1],
    ]);
    expect(
      store.programs({ ...range, by: 'container' }).map((p) => [p.program.container, p.bytesIn]),
    ).toEqual([
      ['', 11],
      ['web', 5],
    ]);
    for (const program of ['curl', '/usr/bin/curl'])
      expect(store.programs({ ...range, program }).map((p) => p.bytesIn)).toEqual([1]);
    expect(store.programs({ ...range, program: 'url' })).toEqual([]);
    store.close();
  });

  it('keeps ended connections, and totals them per host and per service port', () => {
    const store = HistoryStore.open({ path: fresh(), now: () => NOW });
    const end = T0 + 5000;
    store.write({
      start: T0,
      end: T0 + 10_000,
      programs: [row(curl, 300)],
      connections: [
        connection(curl, end, { remoteName: 'example.org', country: 'US', asn: 64_500, asOrg: 'Example' }),
        connection(curl, end + 1, { remoteName: 'example.org', remoteAddress: '192.0.2.8' }),
        connection(curl, end + 2, { protocol: 'UDP', remotePort: 53, bytesIn: 50 }),
        connection(nginx, end + 3, {
          localPort: 80,
          remotePort: 50_000,
          peer: curl,
          localAddress: '127.0.0.1',
        }),
      ],
      connectionsDropped: 7,
    });
    const range = { from: T0, to: T0 + HOUR };
    const conns = store.connections(range);
    expect(conns).toHaveLength(4);
    expect(conns[0]).toMatchObject({ program: nginx, peer: curl, localPort: 80 });
    expect(conns[3]).toMatchObject({
      remoteName: 'example.org',
      country: 'US',
      asn: 64_500,
      asOrg: 'Example',
    });
    expect(conns[3]!.peer).toBeUndefined();
    expect(store.connections({ ...range, program: 'nginx' })).toHaveLength(1);
    const hosts = store.hosts(range);
    expect(hosts[0]).toMatchObject({ host: 'example.org', connections: 2, bytesIn: 200, programs: ['curl'] });
    expect(hosts[0]!.addresses.sort()).toEqual(['192.0.2.7', '192.0.2.8']);
    expect(store.ports(range).map((p) => [p.protocol, p.port, p.connections])).toEqual([
      ['TCP', 443, 2],
      ['TCP', 80, 1],
      ['UDP', 53, 1],
    ]);
    expect(store.programs(range).find((p) => p.program.name === 'curl')?.connections).toBe(3);
    expect(store.info()).toMatchObject({ connections: 4, connectionsDropped: 7, writes: 1 });
    store.close();
  });

  it('gives a chart its buckets, the busiest programs apart and the rest as other, summing to the totals', () => {
    const store = HistoryStore.open({ path: fresh(), now: () => NOW });
    const writes = fill(store, 2);
    for (const step of [60_000, HOUR]) {
      const s = store.series({ from: T0, to: T0 + 2 * HOUR, step, top: 1 });
      expect(s.buckets).toHaveLength((2 * HOUR) / step);
      expect(
        s.series.map((x) => (x === undefined ? '' : x.program === 'other' ? 'other' : x.program.name)),
      ).toEqual(['nginx', 'other']);
      const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
      expect(sum(s.series[1]!.bytesIn)).toBe(expected(writes, T0, T0 + 2 * HOUR, 'curl').bytesIn);
      expect(sum(s.series[0]!.bytesOut)).toBe(expected(writes, T0, T0 + 2 * HOUR, 'nginx').bytesOut);
    }
    store.close();
  });

  it('drops 10 s rows past their retention and still answers from the hourly ones', () => {
    let now = T0;
    const store = HistoryStore.open({ path: fresh(), now: () => now, retention: { samplesMs: 3 * HOUR } });
    const writes = fill(store, 5); // T0 .. T0 + 5 h, i.e. up to an hour ago
    now = NOW + HOUR; // the 10 s rows of the first four hours are now out
    const pruned = store.prune();
    expect(pruned.samples).toBe(4 * 360 * 2);
    expect(store.programs({ from: T0, to: T0 + 5 * HOUR })[1]!.bytesIn).toBe(
      expected(writes, T0, T0 + 5 * HOUR, 'curl').bytesIn,
    );
    store.close();
  });

  it('keeps the file under its size cap by deleting the oldest rows first', () => {
    const maxBytes = 400 * 1024;
    const store = HistoryStore.open({ path: fresh(), now: () => NOW, maxBytes });
    const many = Array.from({ length: 50 }, (_, i) => row({ ...curl, name: `p${i}` }, i + 1));
    for (let i = 0; i < 720; i++)
      store.write({ start: T0 + i * 10_000, end: T0 + (i + 1) * 10_000, programs: many, connections: [] });
    const result = store.prune();
    const info = store.info();
    expect(info.bytes).toBeLessThanOrEqual(maxBytes);
    expect(result.forSize + info.intervals).toBeGreaterThan(0);
    // What is left is the newest: the last interval is still there.
    expect(info.newest).toBe(T0 + 719 * 10_000);
    expect(info.intervals).toBeLessThan(720);
    store.close();
  });

  it('is read by another process while it is written, and survives SIGKILL with every committed interval', async () => {
    const path = fresh();
    const base = NOW - 2 * HOUR;
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, 'fixtures', 'writer.mjs'), path, String(base)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const lines = createInterface({ input: child.stdout! });
    let committed = -1;
    let readWhileWriting = -1;
    for await (const line of lines) {
      committed = Number(line);
      if (committed >= base + 200 * 10_000 && readWhileWriting < 0) {
        const reader = HistoryStore.open({ path, readonly: true });
        readWhileWriting = reader.info().intervals;
        reader.close();
      }
      if (committed >= base + 400 * 10_000) {
        child.kill('SIGKILL');
        break;
      }
    }
    await new Promise((r) => child.once('exit', r));
    expect(readWhileWriting).toBeGreaterThanOrEqual(200);
    const db = new BetterSqlite3(path);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const store = HistoryStore.open({ path, readonly: true });
    const info = store.info();
    // Every interval the writer said was committed is there (and perhaps the one after it).
    expect(info.intervals).toBeGreaterThanOrEqual((committed - base) / 10_000 + 1);
    expect(info.newest).toBeGreaterThanOrEqual(committed);
    store.close();
  });

  it('says clearly what is wrong with a file it cannot use', () => {
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'this is not sqlite, not at all, but long enough to look like a header.'.repeat(20));
    expect(() => HistoryStore.open({ path: junk })).toThrow(
      expect.objectContaining({ code: 'E_NOT_A_DATABASE' }),
    );

    const newer = fresh();
    const db = new BetterSqlite3(newer);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => HistoryStore.open({ path: newer })).toThrow(
      expect.objectContaining({ code: 'E_SCHEMA_NEWER' }),
    );
    expect(() => HistoryStore.open({ path: newer, readonly: true })).toThrow(
      expect.objectContaining({ code: 'E_SCHEMA_NEWER' }),
    );

    expect(() => HistoryStore.open({ path: join(dir, 'missing.db'), readonly: true })).toThrow(
      expect.objectContaining({ code: 'E_NOT_FOUND' }),
    );
    expect(() => HistoryStore.open({ path: join(junk, 'sub', 'netwho.db') })).toThrow(
      expect.objectContaining({ code: 'E_NOT_FOUND' }),
    );

    const path = fresh();
    HistoryStore.open({ path }).close();
    const reader = HistoryStore.open({ path, readonly: true });
    expect(() => reader.write({ start: 0, end: 1, programs: [], connections: [] })).toThrow(
      expect.objectContaining({ code: 'E_READONLY' }),
    );
    expect(() => reader.programs({ from: 2, to: 1 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    );
    reader.close();
    expect(() => reader.info()).toThrow(expect.objectContaining({ code: 'E_CLOSED' }));
  });
});
