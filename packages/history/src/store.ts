import type { Database } from 'better-sqlite3';
import { openDatabase } from './database';
import { fromSqlite, HistoryError } from './errors';
import { IdCache } from './id-cache';
import { defaultDatabasePath } from './paths';
import { HOUR, TEN_MINUTES } from './plan';
import { HistoryQueries } from './query';
import type { ConnectionRecord, IntervalWrite, ProgramId } from './types';
import { BATCH, CONNECTION_COLUMNS, prepareWriteStatements, type WriteStatements } from './write-statements';

const DAY = 24 * HOUR;

export interface RetentionOptions {
  /** How long 10 s rows are kept (default 7 days). */
  samplesMs?: number;
  /** How long hourly rows are kept (default 365 days). */
  hourlyMs?: number;
  /** How long ended connections are kept (default 30 days). */
  connectionsMs?: number;
}

export interface HistoryStoreOptions {
  /** The file (default: defaultDatabasePath(), i.e. $XDG_STATE_HOME/netwho/netwho.db). */
  path?: string;
  /** Open for queries only (another process may be writing). */
  readonly?: boolean;
  retention?: RetentionOptions;
  /**
   * A cap on the file's size in bytes (default 1 GiB): past it, the oldest rows are deleted a
   * tenth at a time (10 s rows and connections while more than their last hour is left, then
   * hourly rows) until it fits.
   */
  maxBytes?: number;
  /** Programs and addresses whose row ids are remembered between writes (default 100,000 each; the least recently written go first). */
  maxCachedIds?: number;
  /** Milliseconds since 1970, for retention (default Date.now). */
  now?: () => number;
}

/** What one prune removed. */
export interface PruneResult {
  samples: number;
  hourly: number;
  connections: number;
  /** Rows removed to keep the file under maxBytes. */
  forSize: number;
  /** Addresses no kept connection uses any more (swept at most once an hour, or when the size cap acts). */
  addresses?: number;
}

const PRUNE_EVERY_MS = 60_000;

/**
 * One history file: a writer (one per file) or a reader (any number, also while the writer runs).
 * WAL journal with synchronous=NORMAL: a killed process loses at most the interval it had not yet
 * written, and the file is never left half-written (https://sqlite.org/wal.html).
 */
export class HistoryStore extends HistoryQueries {
  readonly path: string;
  readonly readonly: boolean;
  private readonly retention: Required<RetentionOptions>;
  private readonly maxBytes: number;
  private readonly now: () => number;
  /** By the caller's ProgramId object first (no key to build for a program seen before), then by its fields. */
  private readonly programObjects: IdCache<ProgramId>;
  private readonly programIds: IdCache;
  /** Addresses without a name by the address alone, named ones by both. */
  private readonly unnamedIds: IdCache;
  private readonly namedIds: IdCache;
  private statements?: WriteStatements;
  private lastPrune = 0;
  private lastAddressSweep = 0;
  private addressesPruned = 0;
  private closed = false;

  static open(options: HistoryStoreOptions = {}): HistoryStore {
    const path = options.path ?? defaultDatabasePath();
    return new HistoryStore(openDatabase(path, options.readonly ?? false), path, options);
  }

  private constructor(db: Database, path: string, options: HistoryStoreOptions) {
    super(db);
    this.path = path;
    this.readonly = options.readonly ?? false;
    this.retention = {
      samplesMs: options.retention?.samplesMs ?? 7 * DAY,
      hourlyMs: options.retention?.hourlyMs ?? 365 * DAY,
      connectionsMs: options.retention?.connectionsMs ?? 30 * DAY,
    };
    for (const [k, v] of Object.entries(this.retention))
      if (!(v > 0)) throw new HistoryError('E_INVALID_ARGUMENT', `retention.${k} must be above 0, not ${v}`);
    this.maxBytes = options.maxBytes ?? 1024 ** 3;
    const max = options.maxCachedIds ?? 100_000;
    this.programObjects = new IdCache(max);
    this.programIds = new IdCache(max);
    this.unnamedIds = new IdCache(max);
    this.namedIds = new IdCache(max);
    this.now = options.now ?? Date.now;
  }

  /** Writes one interval in one transaction; prunes by retention at most once a minute. */
  write(interval: IntervalWrite): void {
    this.check(true);
    if (!(interval.end >= interval.start))
      throw new HistoryError(
        'E_INVALID_ARGUMENT',
        `interval ends (${interval.end}) before it starts (${interval.start})`,
      );
    const s = this.prepareWrites();
    const span = interval.end - interval.start;
    const hour = Math.floor(interval.start / HOUR) * HOUR;
    const tenMinutes = Math.floor(interval.start / TEN_MINUTES) * TEN_MINUTES;
    try {
      this.db.transaction(() => {
        for (const p of interval.programs) {
          const id = this.programId(p.program, interval.start);
          const row = [p.bytesIn, p.bytesOut, p.packetsIn, p.packetsOut, p.connections, p.peakIn, p.peakOut];
          s.sample.run(interval.start, span, id, ...row);
          s.minutes.run(tenMinutes, id, interval.start, interval.start, ...row);
          s.hourly.run(hour, id, interval.start, interval.start, ...row);
        }
        this.writeConnections(interval.connections, s);
        s.count.run(1, 'writes');
        if (interval.connectionsDropped) s.count.run(interval.connectionsDropped, 'connections_dropped');
      })();
    } catch (error) {
      // A failed transaction is rolled back whole; ids cached inside it may not exist.
      this.programObjects.clear();
      this.programIds.clear();
      this.unnamedIds.clear();
      this.namedIds.clear();
      throw fromSqlite(error, `cannot write to ${this.path}`);
    }
    const now = this.now();
    if (now - this.lastPrune >= PRUNE_EVERY_MS) this.prune(now);
  }

  /** Deletes what is past its retention, then the oldest rows while the file is over maxBytes. */
  prune(now = this.now()): PruneResult {
    this.check(true);
    this.lastPrune = now;
    const s = this.prepareWrites();
    try {
      const result: PruneResult = {
        samples: this.pruneFine(s, now - this.retention.samplesMs),
        hourly: s.pruneHourly.run(now - this.retention.hourlyMs).changes,
        connections: s.pruneConnections.run(now - this.retention.connectionsMs).changes,
        forSize: 0,
      };
      for (let round = 0; round < 40 && this.usedBytes() > this.maxBytes; round++) {
        const removed = this.trimOldest(s);
        result.forSize += removed;
        if (removed > 0) this.pruneAddresses(now, true);
        this.db.pragma('incremental_vacuum');
        if (removed === 0) break;
      }
      if (result.connections > 0) this.pruneAddresses(now);
      // PASSIVE: copies what no reader still needs into the file, never waits for a reader.
      this.db.pragma('wal_checkpoint(PASSIVE)');
      result.addresses = this.addressesPruned;
      this.addressesPruned = 0;
      return result;
    } catch (error) {
      throw fromSqlite(error, `cannot prune ${this.path}`);
    }
  }

  /**
   * Addresses that no kept connection refers to. A full pass over the connections, so it runs at
   * most once an hour (or whenever the size cap deleted rows); ids cached for them go too.
   */
  private pruneAddresses(now: number, force = false): void {
    if (!force && now - this.lastAddressSweep < HOUR) return;
    this.lastAddressSweep = now;
    this.addressesPruned += this.db
      .prepare(
        `DELETE FROM addresses WHERE id NOT IN (SELECT local FROM connections)
           AND id NOT IN (SELECT remote FROM connections)`,
      )
      .run().changes;
    this.unnamedIds.clear();
    this.namedIds.clear();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  protected override check(write = false): void {
    if (this.closed) throw new HistoryError('E_CLOSED', `${this.path} is closed`);
    if (write && this.readonly) throw new HistoryError('E_READONLY', `${this.path} was opened read-only`);
  }

  /**
   * One step of the size cap: the oldest tenth of the 10 s rows and of the connections, as long as
   * more than their newest hour is left; then the oldest tenth of the hourly rows; then whatever
   * fine rows are left, oldest first.
   */
  private trimOldest(s: WriteStatements): number {
    const span = (sql: string) => {
      const r = this.db.prepare(sql).get() as { lo: number | null; hi: number | null };
      return r.lo === null || r.hi === null ? undefined : { lo: r.lo, hi: r.hi };
    };
    const samples = span('SELECT MIN(at) AS lo, MAX(at) AS hi FROM samples');
    const connections = span('SELECT MIN(end) AS lo, MAX(end) AS hi FROM connections');
    const tenth = (r: { lo: number; hi: number }) => r.lo + Math.max(1, (r.hi - r.lo) / 10);
    let removed = 0;
    if (samples && samples.hi - samples.lo > HOUR) removed += this.pruneFine(s, tenth(samples));
    if (connections && connections.hi - connections.lo > HOUR)
      removed += s.pruneConnections.run(tenth(connections)).changes;
    if (removed > 0) return removed;
    const hourly = span('SELECT MIN(at) AS lo, MAX(at) AS hi FROM hourly');
    if (hourly && hourly.hi > hourly.lo) removed += s.pruneHourly.run(tenth(hourly)).changes;
    if (removed > 0) return removed;
    if (samples) removed += this.pruneFine(s, tenth(samples));
    if (connections) removed += s.pruneConnections.run(tenth(connections)).changes;
    return removed;
  }

  /**
   * Ended connections, BATCH rows per INSERT: one statement step per row costs more than binding
   * its 14 values, so a busy interval's 10,000 rows go in 100 steps.
   */
  private writeConnections(connections: readonly ConnectionRecord[], s: WriteStatements): void {
    const values = this.batchValues;
    let n = 0;
    for (const c of connections) {
      values[n++] = c.start;
      values[n++] = c.end;
      values[n++] = c.protocol;
      values[n++] = this.addressId(c.localAddress, '', c);
      values[n++] = c.localPort;
      values[n++] = this.addressId(c.remoteAddress, c.remoteName ?? '', c);
      values[n++] = c.remotePort;
      values[n++] = this.programId(c.program, c.start);
      values[n++] = c.peer ? this.programId(c.peer, c.start) : null;
      values[n++] = c.bytesIn;
      values[n++] = c.bytesOut;
      values[n++] = c.packetsIn;
      values[n++] = c.packetsOut;
      values[n++] = c.open ? 1 : 0;
      if (n === values.length) {
        s.connections.run(values);
        n = 0;
      }
    }
    for (let i = 0; i < n; i += CONNECTION_COLUMNS) s.connection.run(values.slice(i, i + CONNECTION_COLUMNS));
  }

  private readonly batchValues: (string | number | null)[] = new Array(BATCH * CONNECTION_COLUMNS).fill(null);

  /** 10 s rows before `cut`, and the 10 min rows that begin before it (kept as long as the 10 s rows). */
  private pruneFine(s: WriteStatements, cut: number): number {
    s.pruneMinutes.run(cut);
    return s.pruneSamples.run(cut).changes;
  }

  private programId(p: ProgramId, at: number): number {
    let id = this.programObjects.get(p);
    if (id !== undefined) return id;
    const key = `${p.name}\0${p.path}\0${p.unit}\0${p.container}\0${p.user ?? ''}`;
    id = this.programIds.get(key);
    if (id === undefined) {
      id = (
        this.statements!.program.get(p.name, p.path, p.unit, p.container, p.user ?? '', at) as { id: number }
      ).id;
      this.programIds.set(key, id);
    }
    this.programObjects.set(p, id);
    return id;
  }

  /** An address and the name it was reached by; its country and AS from the first connection that knew them. */
  private addressId(address: string, name: string, c: ConnectionRecord): number {
    const cache = name === '' ? this.unnamedIds : this.namedIds;
    const key = name === '' ? address : `${name}\0${address}`;
    let id = cache.get(key);
    if (id === undefined) {
      const local = name === '' && address === c.localAddress;
      id = (
        this.statements!.address.get(
          address,
          name,
          local ? null : (c.country ?? null),
          local ? null : (c.asn ?? null),
          local ? null : (c.asOrg ?? null),
        ) as { id: number }
      ).id;
      cache.set(key, id);
    }
    return id;
  }

  private prepareWrites(): WriteStatements {
    this.statements ??= prepareWriteStatements(this.db);
    return this.statements;
  }
}
