import { describe, expect, it } from 'vitest';
import { defaultStep, HOUR, planRange } from '../src';

const MIN = 60_000;

describe('planRange', () => {
  it('reads whole hours from hourly rows, whole 10 minutes from 10 min rows, the rest from 10 s rows', () => {
    expect(planRange(25 * MIN, 3 * HOUR + 13 * MIN, 0)).toEqual([
      { table: 'samples', from: 25 * MIN, to: 30 * MIN },
      { table: 'minutes', from: 30 * MIN, to: HOUR },
      { table: 'hourly', from: HOUR, to: 3 * HOUR },
      { table: 'minutes', from: 3 * HOUR, to: 3 * HOUR + 10 * MIN },
      { table: 'samples', from: 3 * HOUR + 10 * MIN, to: 3 * HOUR + 13 * MIN },
    ]);
  });

  it('reads a range inside 10 minutes, or on hour boundaries, from one kind of row', () => {
    expect(planRange(11 * MIN, 19 * MIN, 0)).toEqual([{ table: 'samples', from: 11 * MIN, to: 19 * MIN }]);
    expect(planRange(HOUR, 3 * HOUR, 0)).toEqual([{ table: 'hourly', from: HOUR, to: 3 * HOUR }]);
  });

  it('leaves out roll-ups wider than a chart bucket', () => {
    expect(planRange(0, 2 * HOUR, 0, 10 * MIN).map((s) => s.table)).toEqual(['minutes']);
    expect(planRange(0, 2 * HOUR, 0, MIN).map((s) => s.table)).toEqual(['samples']);
  });

  it('widens to whole hours where the 10 s rows no longer reach', () => {
    // 10 s rows are kept from 2h30: before that only hours, up to 3h, then 10 s rows again.
    expect(planRange(10 * MIN, 3 * HOUR + 20 * MIN, 2 * HOUR + 30 * MIN)).toEqual([
      { table: 'hourly', from: 0, to: 3 * HOUR },
      { table: 'minutes', from: 3 * HOUR, to: 3 * HOUR + 20 * MIN },
    ]);
    expect(planRange(10 * MIN, 20 * MIN, undefined)).toEqual([{ table: 'hourly', from: 0, to: HOUR }]);
  });

  it('covers every instant of a range once', () => {
    for (const [from, to, kept] of [
      [7 * MIN, 5 * HOUR + 3 * MIN, 0],
      [7 * MIN, 5 * HOUR + 3 * MIN, 2 * HOUR + 1],
      [HOUR - 1, HOUR + 1, 0],
      [0, 10 * HOUR, 10 * HOUR],
    ] as const) {
      const segments = planRange(from, to, kept);
      for (let i = 1; i < segments.length; i++) expect(segments[i]!.from).toBe(segments[i - 1]!.to);
      expect(segments[0]!.from).toBeLessThanOrEqual(from);
      expect(segments.at(-1)!.to).toBeGreaterThanOrEqual(to);
    }
    expect(planRange(5, 5, 0)).toEqual([]);
  });
});

describe('defaultStep', () => {
  it('gives about 60 round buckets, whole hours past 12 h, never under the interval', () => {
    expect(defaultStep(0, HOUR, 10_000)).toBe(MIN);
    expect(defaultStep(0, 5 * MIN, 10_000)).toBe(10_000);
    expect(defaultStep(0, 24 * HOUR, 10_000)).toBe(HOUR);
    expect(defaultStep(0, 7 * 24 * HOUR, 10_000)).toBe(3 * HOUR);
  });
});
