import type { Database } from 'better-sqlite3';
import { fromSqlite } from './errors';
import { checkRange } from './queries/common';
import { connectionRows, hostTotals, portTotals } from './queries/connections';
import { programSeries, programTotals } from './queries/programs';
import { SCHEMA_VERSION } from './schema';
import type {
  ConnectionQuery,
  ConnectionRecord,
  HostTotal,
  PortTotal,
  ProgramQuery,
  ProgramTotal,
  Series,
  SeriesQuery,
  StoreInfo,
  TimeRange,
} from './types';

/** The read side of a history file: every query takes a range [from, to) in ms since 1970 and returns plain rows. */
export class HistoryQueries {
  protected constructor(protected readonly db: Database) {}

  protected check(_write = false): void {}

  /** Totals and peaks per program (or unit, or container) over the range, the busiest first. */
  programs(query: ProgramQuery): ProgramTotal[] {
    return this.read(query, 'programs', () => programTotals(this.db, query, this.samplesFrom()));
  }

  /** Bytes per bucket for the busiest programs of the range, the rest as `other`: a stacked chart's data. */
  series(query: SeriesQuery): Series {
    return this.read(query, 'series', () => programSeries(this.db, query, this.samplesFrom()));
  }

  /** Connections that ended in the range, the latest first. */
  connections(query: ConnectionQuery): ConnectionRecord[] {
    return this.read(query, 'connections', () => connectionRows(this.db, query));
  }

  /** Per remote host (its name when one is known, else its address), of the connections that ended in the range. */
  hosts(query: ConnectionQuery): HostTotal[] {
    return this.read(query, 'hosts', () => hostTotals(this.db, query));
  }

  /** Per protocol and service port (the lower of the two ports), of the connections that ended in the range. */
  ports(query: ConnectionQuery): PortTotal[] {
    return this.read(query, 'ports', () => portTotals(this.db, query));
  }

  /** What the file holds. */
  info(): StoreInfo {
    this.check();
    try {
      const one = (sql: string) => (this.db.prepare(sql).pluck().get() as number | null) ?? undefined;
      const counter = (name: string) =>
        this.db.prepare('SELECT value FROM counters WHERE name = ?').pluck().get(name) as number;
      const oldest = [one('SELECT MIN(at) FROM samples'), one('SELECT MIN(at) FROM hourly')].filter(
        (v): v is number => v !== undefined,
      );
      const newest = one('SELECT MAX(at) FROM samples') ?? one('SELECT MAX(last_at) FROM hourly');
      return {
        path: this.db.name,
        schemaVersion: SCHEMA_VERSION,
        bytes: this.usedBytes(),
        ...(oldest.length > 0 && { oldest: Math.min(...oldest) }),
        ...(newest !== undefined && { newest }),
        programs: one('SELECT COUNT(*) FROM programs') ?? 0,
        intervals: one('SELECT COUNT(DISTINCT at) FROM samples') ?? 0,
        connections: one('SELECT COUNT(*) FROM connections') ?? 0,
        writes: counter('writes'),
        connectionsDropped: counter('connections_dropped'),
      };
    } catch (error) {
      throw fromSqlite(error, 'cannot read the store');
    }
  }

  /** Bytes of the file in use: its pages less those on the free list. */
  protected usedBytes(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * (this.db.pragma('page_size', { simple: true }) as number);
  }

  /** The oldest 10 s row kept: where planRange stops reading hourly rows for the ragged ends. */
  private samplesFrom(): number | undefined {
    return (this.db.prepare('SELECT MIN(at) FROM samples').pluck().get() as number | null) ?? undefined;
  }

  private read<T>(query: TimeRange, what: string, run: () => T): T {
    this.check();
    checkRange(query);
    try {
      return run();
    } catch (error) {
      throw fromSqlite(error, `cannot read ${what}`);
    }
  }
}
