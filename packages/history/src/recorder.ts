import { HistoryError } from './errors';
import type { ConnectionRecord, IntervalWrite, ProgramId, ProgramInterval } from './types';

/** One program's running totals as a live monitor reports them (cumulative since it started). */
export interface ObservedProgram {
  /** The monitor's own key for these totals (e.g. `pid:1234`): totals are cumulative per key. */
  key: string;
  program: ProgramId;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  /** Connections it has open now. */
  connections: number;
}

export interface IntervalRecorderOptions {
  /** Ended connections kept per interval (default 100,000); more are counted as dropped. */
  maxConnections?: number;
  /** Programs tracked per interval (default 10,000); the traffic of more is added to the unattributed row and counted. */
  maxPrograms?: number;
}

interface Last {
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
}

const UNATTRIBUTED: ProgramId = { name: '', path: '', unit: '', container: '' };

/**
 * Turns a monitor's cumulative per-process totals, observed every second or so, into one
 * interval's per-program rows: the bytes moved since the last observation, summed over the
 * processes of one program (name + path + unit + container), with the interval's peak rate and
 * peak connections. Pure: no clock, no I/O; the caller observes, and takes an interval to write.
 */
export class IntervalRecorder {
  private readonly maxConnections: number;
  private readonly maxPrograms: number;
  private last = new Map<string, Last>();
  private lastAt: number | undefined;
  private start: number | undefined;
  private rows = new Map<string, ProgramInterval>();
  private ended: ConnectionRecord[] = [];
  private dropped = 0;
  /** Programs folded into the unattributed row because maxPrograms was reached, since the start. */
  programsOverflowed = 0;

  constructor(options: IntervalRecorderOptions = {}) {
    this.maxConnections = options.maxConnections ?? 100_000;
    this.maxPrograms = options.maxPrograms ?? 10_000;
    for (const [k, v] of Object.entries({
      maxConnections: this.maxConnections,
      maxPrograms: this.maxPrograms,
    }))
      if (!(Number.isInteger(v) && v > 0))
        throw new HistoryError('E_INVALID_ARGUMENT', `${k} must be a positive integer`);
  }

  /** Connections dropped from the interval in progress (over maxConnections). */
  get connectionsDropped(): number {
    return this.dropped;
  }

  /**
   * The monitor's totals at `at` (ms since 1970). A key not seen before starts from zero; a key
   * missing from `programs` is forgotten (its totals are gone from the monitor too); a total
   * lower than last time is a restarted count, taken whole.
   */
  observe(at: number, programs: readonly ObservedProgram[]): void {
    this.start ??= at;
    const seconds = this.lastAt === undefined ? 0 : (at - this.lastAt) / 1000;
    const next = new Map<string, Last>();
    const now = new Map<ProgramInterval, { in: number; out: number }>();
    for (const p of programs) {
      const prev = this.last.get(p.key);
      const delta = (total: number, before: number | undefined) =>
        before === undefined || total < before ? total : total - before;
      const dIn = delta(p.bytesIn, prev?.bytesIn);
      const dOut = delta(p.bytesOut, prev?.bytesOut);
      const dPin = delta(p.packetsIn, prev?.packetsIn);
      const dPout = delta(p.packetsOut, prev?.packetsOut);
      next.set(p.key, {
        bytesIn: p.bytesIn,
        bytesOut: p.bytesOut,
        packetsIn: p.packetsIn,
        packetsOut: p.packetsOut,
      });
      if (dIn === 0 && dOut === 0 && dPin === 0 && dPout === 0 && p.connections === 0) continue;
      const row = this.rowOf(p.program);
      row.bytesIn += dIn;
      row.bytesOut += dOut;
      row.packetsIn += dPin;
      row.packetsOut += dPout;
      row.connections = Math.max(row.connections, p.connections);
      const moved = now.get(row);
      if (moved) {
        moved.in += dIn;
        moved.out += dOut;
      } else now.set(row, { in: dIn, out: dOut });
    }
    // A program's rate is that of all its processes together.
    if (seconds > 0)
      for (const [row, moved] of now) {
        row.peakIn = Math.max(row.peakIn, moved.in / seconds);
        row.peakOut = Math.max(row.peakOut, moved.out / seconds);
      }
    this.last = next;
    this.lastAt = at;
  }

  /** A connection ended: it is written with the interval in progress. */
  connectionEnded(record: ConnectionRecord): void {
    if (this.ended.length >= this.maxConnections) this.dropped++;
    else this.ended.push(record);
  }

  /** The interval from the first observation after the previous take up to `end`, and a new one begins. */
  take(end: number): IntervalWrite {
    const start = this.start ?? end;
    const write: IntervalWrite = {
      start,
      end: Math.max(start, end),
      programs: [...this.rows.values()],
      connections: this.ended,
      ...(this.dropped > 0 && { connectionsDropped: this.dropped }),
    };
    this.rows = new Map();
    this.ended = [];
    this.dropped = 0;
    this.start = end;
    return write;
  }

  private rowOf(program: ProgramId): ProgramInterval {
    let key = `${program.name}\0${program.path}\0${program.unit}\0${program.container}`;
    let row = this.rows.get(key);
    if (row) return row;
    if (this.rows.size >= this.maxPrograms) {
      this.programsOverflowed++;
      program = UNATTRIBUTED;
      key = '\0\0\0';
      row = this.rows.get(key);
      if (row) return row;
    }
    row = {
      program,
      bytesIn: 0,
      bytesOut: 0,
      packetsIn: 0,
      packetsOut: 0,
      connections: 0,
      peakIn: 0,
      peakOut: 0,
    };
    this.rows.set(key, row);
    return row;
  }
}
