import type { Database } from 'better-sqlite3';
import { HistoryError } from '../errors';
import { defaultStep, planRange, type RowTable, type Segment } from '../plan';
import type { ProgramGrouping, ProgramId, ProgramQuery, ProgramTotal, Series, SeriesQuery } from '../types';
import { limitOf, PROGRAM_IDS } from './common';

const COUNTS = 'bytes_in, bytes_out, packets_in, packets_out, connections, peak_in, peak_out';
const COLUMNS: Record<RowTable, string> = {
  samples: `at, program, at AS first_at, at AS last_at, ${COUNTS}`,
  minutes: `at, program, first_at, last_at, ${COUNTS}`,
  hourly: `at, program, first_at, last_at, ${COUNTS}`,
};

interface IdTotal {
  id: number;
  name: string;
  path: string;
  unit: string;
  container: string;
  user: string;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  peakConnections: number;
  peakIn: number;
  peakOut: number;
  firstSeen: number;
  lastSeen: number;
}

/** The key a grouping puts a program under. */
function groupKey(p: ProgramId, by: ProgramGrouping): string {
  if (by === 'unit') return p.unit;
  if (by === 'container') return p.container;
  if (by === 'user') return p.user ?? '';
  return `${p.name}\0${p.path}`;
}

/**
 * Totals per program row over the range (SQL groups by the integer id, which is what keeps a day
 * of 10 s rows fast), then merged per group here: sums add up; a group's peak is its busiest
 * member's; a unit or container shared by all members is kept, else ''.
 */
export function programTotals(
  db: Database,
  query: ProgramQuery,
  samplesFrom: number | undefined,
): ProgramTotal[] {
  const by = query.by ?? 'program';
  if (by !== 'program' && by !== 'unit' && by !== 'container' && by !== 'user')
    throw new HistoryError(
      'E_INVALID_ARGUMENT',
      `unknown grouping '${by}' (program, unit, container or user)`,
    );
  // Files of schema 1 (read by a reader, not migrated) have no user column.
  const user = hasUserColumn(db) ? 'p.user' : "'' AS user";
  const params = { program: query.program ?? null, from: query.from, to: query.to };
  const sql = `
    SELECT a.*, p.name, p.path, p.unit, p.container, ${user} FROM (
      SELECT s.program AS id, SUM(bytes_in) AS bytesIn, SUM(bytes_out) AS bytesOut, SUM(packets_in) AS packetsIn,
        SUM(packets_out) AS packetsOut, MAX(connections) AS peakConnections, MAX(peak_in) AS peakIn,
        MAX(peak_out) AS peakOut, MIN(first_at) AS firstSeen, MAX(last_at) AS lastSeen
      FROM (${rowsOf(planRange(query.from, query.to, samplesFrom))}) s
      WHERE @program IS NULL OR s.program IN ${PROGRAM_IDS}
      GROUP BY s.program
    ) a JOIN programs p ON p.id = a.id`;
  const counts = new Map<number, number>();
  const countSql = `SELECT program, COUNT(*) AS n FROM connections WHERE end >= @from AND end < @to
    AND (@program IS NULL OR program IN ${PROGRAM_IDS}) GROUP BY program`;
  for (const r of db.prepare(countSql).all(params) as { program: number; n: number }[])
    counts.set(r.program, r.n);

  const groups = new Map<string, ProgramTotal>();
  for (const r of db.prepare(sql).all(params) as IdTotal[]) {
    const program: ProgramId = {
      name: r.name,
      path: r.path,
      unit: r.unit,
      container: r.container,
      user: r.user,
    };
    const key = groupKey(program, by);
    const g = groups.get(key);
    const connections = counts.get(r.id) ?? 0;
    if (!g) {
      groups.set(key, {
        program:
          by === 'program'
            ? program
            : {
                name: '',
                path: '',
                unit: by === 'unit' ? r.unit : '',
                container: by === 'container' ? r.container : '',
                ...(by === 'user' && { user: r.user }),
              },
        bytesIn: r.bytesIn,
        bytesOut: r.bytesOut,
        packetsIn: r.packetsIn,
        packetsOut: r.packetsOut,
        connections,
        peakConnections: r.peakConnections,
        peakIn: r.peakIn,
        peakOut: r.peakOut,
        firstSeen: r.firstSeen,
        lastSeen: r.lastSeen,
      });
      continue;
    }
    g.bytesIn += r.bytesIn;
    g.bytesOut += r.bytesOut;
    g.packetsIn += r.packetsIn;
    g.packetsOut += r.packetsOut;
    g.connections += connections;
    g.peakConnections = Math.max(g.peakConnections, r.peakConnections);
    g.peakIn = Math.max(g.peakIn, r.peakIn);
    g.peakOut = Math.max(g.peakOut, r.peakOut);
    g.firstSeen = Math.min(g.firstSeen, r.firstSeen);
    g.lastSeen = Math.max(g.lastSeen, r.lastSeen);
    if (by === 'program') {
      if (g.program.unit !== r.unit) g.program.unit = '';
      if (g.program.container !== r.container) g.program.container = '';
      if (g.program.user !== r.user) g.program.user = '';
    }
  }
  return [...groups.values()]
    .sort((a, b) => b.bytesIn + b.bytesOut - (a.bytesIn + a.bytesOut))
    .slice(0, limitOf(query.limit));
}

/** Bytes per bucket for the busiest programs of the range, the rest as `other`. */
export function programSeries(db: Database, query: SeriesQuery, samplesFrom: number | undefined): Series {
  const step = query.step ?? defaultStep(query.from, query.to, 10_000);
  if (!(step > 0)) throw new HistoryError('E_INVALID_ARGUMENT', `step must be above 0, not ${step}`);
  const count = Math.ceil((query.to - query.from) / step);
  if (count > 10_000) throw new HistoryError('E_INVALID_ARGUMENT', `${count} buckets: use a larger step`);
  const top = programTotals(db, { ...query, limit: query.top ?? 8 }, samplesFrom);
  const index = new Map(top.map((t, i) => [groupKey(t.program, 'program'), i]));
  const buckets = Array.from({ length: count }, (_, i) => query.from + i * step);
  const blank = () => ({
    bytesIn: new Array<number>(count).fill(0),
    bytesOut: new Array<number>(count).fill(0),
  });
  const series: Series['series'] = top.map((t) => ({ program: t.program, ...blank() }));
  const other = { program: 'other' as const, ...blank() };
  // Roll-ups no wider than a bucket (a row falls in one bucket when the step is a multiple of its width).
  const segments = planRange(query.from, query.to, samplesFrom, step);
  const sql = `
    SELECT a.bucket, a.bi, a.bo, p.name, p.path FROM (
      SELECT MAX(0, (s.at - @from) / @step) AS bucket, s.program, SUM(s.bytes_in) AS bi, SUM(s.bytes_out) AS bo
      FROM (${rowsOf(segments)}) s
      WHERE @program IS NULL OR s.program IN ${PROGRAM_IDS}
      GROUP BY bucket, s.program
    ) a JOIN programs p ON p.id = a.program`;
  const params = { from: query.from, step, program: query.program ?? null };
  for (const r of db.prepare(sql).all(params) as {
    bucket: number;
    name: string;
    path: string;
    bi: number;
    bo: number;
  }[]) {
    const b = Math.min(count - 1, Math.floor(r.bucket));
    const i = index.get(`${r.name}\0${r.path}`);
    const into = i === undefined ? other : series[i]!;
    into.bytesIn[b]! += r.bi;
    into.bytesOut[b]! += r.bo;
  }
  if (other.bytesIn.some((v) => v > 0) || other.bytesOut.some((v) => v > 0)) series.push(other);
  return { step, buckets, series };
}

/** Interval rows covering the segments once (numbers only: safe to inline). */
function rowsOf(segments: Segment[]): string {
  if (segments.length === 0) return `SELECT ${COLUMNS.samples} FROM samples WHERE 0`;
  return segments
    .map(
      (s) =>
        `SELECT ${COLUMNS[s.table]} FROM ${s.table} WHERE at >= ${Number(s.from)} AND at < ${Number(s.to)}`,
    )
    .join(' UNION ALL ');
}

const userColumn = new WeakMap<Database, boolean>();
function hasUserColumn(db: Database): boolean {
  let has = userColumn.get(db);
  if (has === undefined) {
    has = (db.pragma('table_info(programs)') as { name: string }[]).some((c) => c.name === 'user');
    userColumn.set(db, has);
  }
  return has;
}
