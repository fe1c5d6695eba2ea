/**
 * Which table answers which part of a range. 10 s rows (`samples`) are exact but many: a day of
 * 500 programs is 4.3 million of them. The same counts are also summed per 10 minutes (`minutes`)
 * and per hour (`hourly`), so a range is read as its whole hours from `hourly`, the whole
 * 10 minutes at its ends from `minutes`, and only the last ragged minutes from `samples`: totals
 * stay exact and the cost grows with hours, not intervals. Where the 10 s and 10 min rows no longer
 * reach back (past their retention) the range is widened to whole hours.
 */
export const HOUR = 3_600_000;
export const TEN_MINUTES = 600_000;

export type RowTable = 'samples' | 'minutes' | 'hourly';

export interface Segment {
  table: RowTable;
  from: number;
  to: number;
}

/** The roll-up tables, coarsest first, with the width of their rows. */
const ROLLUPS: readonly { table: RowTable; width: number }[] = [
  { table: 'hourly', width: HOUR },
  { table: 'minutes', width: TEN_MINUTES },
];

const floorTo = (t: number, w: number) => Math.floor(t / w) * w;
const ceilTo = (t: number, w: number) => Math.ceil(t / w) * w;

/**
 * The segments that together cover [from, to) once. `samplesFrom` is the oldest 10 s row kept
 * (undefined: none); `maxWidth` leaves out roll-ups wider than it (a chart's bucket).
 */
export function planRange(
  from: number,
  to: number,
  samplesFrom: number | undefined,
  maxWidth = Number.POSITIVE_INFINITY,
): Segment[] {
  const segments: Segment[] = [];
  if (to <= from) return segments;
  let rest = from;
  if (samplesFrom === undefined || from < samplesFrom) {
    // Before the 10 s rows: whole hours only, up to the hour in which they begin.
    const cut = samplesFrom === undefined ? Number.POSITIVE_INFINITY : ceilTo(samplesFrom, HOUR);
    segments.push({ table: 'hourly', from: floorTo(from, HOUR), to: Math.min(cut, ceilTo(to, HOUR)) });
    rest = cut;
  }
  if (rest < to)
    cover(
      rest,
      to,
      ROLLUPS.filter((r) => r.width <= maxWidth),
      segments,
    );
  return segments;
}

/** [from, to) as the widest aligned rows that fit, the rest by the next level down, then 10 s rows. */
function cover(from: number, to: number, levels: typeof ROLLUPS, out: Segment[]): void {
  if (from >= to) return;
  const [level, ...finer] = levels;
  if (!level) {
    out.push({ table: 'samples', from, to });
    return;
  }
  const a = ceilTo(from, level.width);
  const b = floorTo(to, level.width);
  if (a >= b) {
    cover(from, to, finer, out);
    return;
  }
  cover(from, a, finer, out);
  out.push({ table: level.table, from: a, to: b });
  cover(b, to, finer, out);
}

/** Bucket width for a chart of [from, to): about 60 buckets of a round size, whole hours past 12 h. */
export function defaultStep(from: number, to: number, interval: number): number {
  const span = Math.max(1, to - from);
  if (span >= 12 * HOUR) return Math.max(HOUR, ceilTo(span / 60, HOUR));
  const steps = [10e3, 30e3, 60e3, 120e3, 300e3, TEN_MINUTES, 1200e3, 1800e3, HOUR];
  const want = span / 60;
  return Math.max(interval, steps.find((s) => s >= want) ?? HOUR);
}
