import type { Label } from '@netwho/attributor';
import { LruMap } from '@netwho/attributor';
import { type ConnectionRow, type ProgramRow, programKey } from './snapshot';

interface Totals {
  row: ProgramRow;
  /** Totals at the previous snapshot, for rates. */
  lastIn: number;
  lastOut: number;
  /** When it last moved a byte or held a connection (ms since 1970). */
  lastActive: number;
}

/**
 * Per-program totals: the bytes of ended connections are banked per program (a bounded map: the
 * least recently active program is dropped first), live connections are added at each snapshot.
 */
export class ProgramTotals {
  private readonly banked: LruMap<string, Totals>;
  private lastAt = 0;

  constructor(maxPrograms = 4096) {
    this.banked = new LruMap(maxPrograms);
  }

  /** A connection ended with these final counts and label. */
  bank(row: Pick<ConnectionRow, 'bytesIn' | 'bytesOut' | 'packetsIn' | 'packetsOut'>, label: Label): void {
    const t = this.entry(label);
    t.row.bytesIn += row.bytesIn;
    t.row.bytesOut += row.bytesOut;
    t.row.packetsIn += row.packetsIn;
    t.row.packetsOut += row.packetsOut;
  }

  /**
   * Rows for every program with traffic: banked totals plus `live` connections (each counted for
   * its local end, and for its remote end when that is a program here too); rates since the last call.
   */
  rows(live: readonly ConnectionRow[], at: number): ProgramRow[] {
    const out = new Map<string, ProgramRow>();
    for (const [key, t] of this.banked.entries())
      out.set(key, { ...t.row, connections: 0, openConnections: 0 });
    const add = (
      label: Label,
      bytesIn: number,
      bytesOut: number,
      packetsIn: number,
      packetsOut: number,
      open: boolean,
      counted = true,
    ) => {
      const key = programKey(label);
      let row = out.get(key);
      if (!row) {
        row = { ...this.entry(label).row, connections: 0, openConnections: 0 };
        out.set(key, row);
      }
      row.bytesIn += bytesIn;
      row.bytesOut += bytesOut;
      row.packetsIn += packetsIn;
      row.packetsOut += packetsOut;
      if (!counted) return;
      row.connections++;
      if (open) row.openConnections++;
    };
    for (const c of live) {
      const open = c.state === 'open';
      add(c.label, c.bytesIn, c.bytesOut, c.packetsIn, c.packetsOut, open);
      // The remote end, when it is a program here too, counts the same bytes the other way.
      // A program talking to itself holds both ends of one connection: it is counted once.
      if (c.peer)
        add(
          c.peer,
          c.bytesOut,
          c.bytesIn,
          c.packetsOut,
          c.packetsIn,
          open,
          programKey(c.peer) !== programKey(c.label),
        );
    }
    const seconds = this.lastAt === 0 ? 0 : (at - this.lastAt) / 1000;
    for (const [key, row] of out) {
      const t = this.banked.peek(key)!;
      row.rateIn = seconds > 0 ? Math.max(0, row.bytesIn - t.lastIn) / seconds : 0;
      row.rateOut = seconds > 0 ? Math.max(0, row.bytesOut - t.lastOut) / seconds : 0;
      if (row.bytesIn !== t.lastIn || row.bytesOut !== t.lastOut || row.connections > 0 || t.lastActive === 0)
        t.lastActive = at;
      row.lastActive = t.lastActive;
      t.lastIn = row.bytesIn;
      t.lastOut = row.bytesOut;
    }
    this.lastAt = at;
    return [...out.values()];
  }

  private entry(label: Label): Totals {
    const key = programKey(label);
    let t = this.banked.get(key);
    if (!t) {
      const row: ProgramRow = {
        key,
        bytesIn: 0,
        bytesOut: 0,
        packetsIn: 0,
        packetsOut: 0,
        rateIn: 0,
        rateOut: 0,
        connections: 0,
        openConnections: 0,
        lastActive: 0,
      };
      if (label.status === 'known') row.process = label.process;
      t = { row, lastIn: 0, lastOut: 0, lastActive: 0 };
      this.banked.set(key, t);
    }
    return t;
  }
}
