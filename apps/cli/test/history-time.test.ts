import { describe, expect, it } from 'vitest';
import { parseDuration, parseTime, rangeOf } from '../src/history/time';

const NOW = Date.parse('2026-12-01T12:00:00Z');

describe('history ranges', () => {
  it('reads durations as people write them', () => {
    expect(parseDuration('90s', '--since')).toBe(90_000);
    expect(parseDuration('1h30m', '--since')).toBe(5_400_000);
    expect(parseDuration('2d', '--since')).toBe(2 * 86_400_000);
    expect(parseDuration('1w', '--since')).toBe(604_800_000);
    for (const bad of ['', 'h', '1x', '1h junk', '0s', 'yesterday'])
      expect(() => parseDuration(bad, '--since')).toThrow(expect.objectContaining({ exitCode: 2 }));
  });

  it('reads times: now, ISO dates and date-times, ms since 1970, a duration ago', () => {
    expect(parseTime('now', '--to', NOW)).toBe(NOW);
    expect(parseTime('2026-12-01T10:00:00Z', '--from', NOW)).toBe(NOW - 2 * 3_600_000);
    expect(parseTime('2026-12-01', '--from', NOW)).toBe(new Date(2026, 11, 1).getTime()); // local midnight
    expect(parseTime(String(NOW - 5), '--from', NOW)).toBe(NOW - 5);
    expect(parseTime('3h', '--from', NOW)).toBe(NOW - 3 * 3_600_000);
    expect(parseTime('-3h', '--from', NOW)).toBe(NOW - 3 * 3_600_000);
    expect(() => parseTime('tuesday', '--from', NOW)).toThrow(expect.objectContaining({ exitCode: 2 }));
  });

  it('makes a range of the flags, the last hour by default, and refuses one that ends before it starts', () => {
    expect(rangeOf({}, NOW)).toEqual({ from: NOW - 3_600_000, to: NOW });
    expect(rangeOf({ since: '1d' }, NOW)).toEqual({ from: NOW - 86_400_000, to: NOW });
    expect(rangeOf({ from: '2h', to: '1h' }, NOW)).toEqual({ from: NOW - 7_200_000, to: NOW - 3_600_000 });
    expect(() => rangeOf({ from: '1h', to: '2h' }, NOW)).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => rangeOf({ since: '1h', from: '2h' }, NOW)).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});
