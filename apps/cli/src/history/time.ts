import { CliError, Exit } from '../errors';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "90s", "10m", "1h", "2d", "1w", "1h30m" -> milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)];
  const total = parts.reduce((ms, [, n, unit]) => ms + Number(n) * UNITS[unit!]!, 0);
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text.trim() || !(total > 0))
    throw new CliError(`${flag} '${text}': use a duration such as 30s, 10m, 1h, 2d, 1w or 1h30m`, Exit.USAGE);
  return total;
}

/**
 * A point in time: "now", an ISO 8601 date or date-time (local time unless it says Z or an
 * offset), ms since 1970, or a duration ago ("2h" or "-2h").
 */
export function parseTime(text: string, flag: string, now: number): number {
  const t = text.trim();
  if (t === 'now') return now;
  if (/^\d{12,}$/.test(t)) return Number(t);
  if (/^-?[\d.]+[smhdw]/.test(t)) return now - parseDuration(t.replace(/^-/, ''), flag);
  const parsed = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00` : t);
  if (Number.isNaN(parsed))
    throw new CliError(
      `${flag} '${text}': use now, 2026-12-01, 2026-12-01T09:30, ms since 1970 or 2h (ago)`,
      Exit.USAGE,
    );
  return parsed;
}

/** The range the history flags ask for: --from/--to, else the last --since (default 1 h). */
export function rangeOf(
  options: { since?: string; from?: string; to?: string },
  now: number,
): { from: number; to: number } {
  if (options.since && options.from)
    throw new CliError('--since and --from both give the start: use one', Exit.USAGE);
  const to = options.to ? parseTime(options.to, '--to', now) : now;
  const from = options.from
    ? parseTime(options.from, '--from', now)
    : to - parseDuration(options.since ?? '1h', '--since');
  if (from >= to)
    throw new CliError(`the range ends (${new Date(to).toISOString()}) before it starts`, Exit.USAGE);
  return { from, to };
}
