import { HistoryError } from '../errors';
import type { TimeRange } from '../types';

/** A program filter on `programs p`: its name, its path, or its path's last component (no patterns, so no escaping). */
export const PROGRAM_MATCH = `(p.name = @program OR p.path = @program OR substr(p.path, -length(@program) - 1) = '/' || @program)`;

/** The ids of the programs @program matches. */
export const PROGRAM_IDS = `(SELECT p.id FROM programs p WHERE ${PROGRAM_MATCH})`;

export function checkRange(r: TimeRange): void {
  if (!Number.isFinite(r.from) || !Number.isFinite(r.to) || r.to < r.from)
    throw new HistoryError(
      'E_INVALID_ARGUMENT',
      `a range from ${r.from} to ${r.to}: it must end after it starts`,
    );
}

export function limitOf(limit: number | undefined): number {
  if (limit === undefined) return 100;
  if (!Number.isInteger(limit) || limit < 1)
    throw new HistoryError('E_INVALID_ARGUMENT', `limit must be a positive integer, not ${limit}`);
  return limit;
}

/** A group_concat list, at most 8 items. */
export function split(list: string | null): string[] {
  return list ? list.split(',').slice(0, 8) : [];
}
