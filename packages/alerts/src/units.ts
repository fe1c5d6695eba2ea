const SIZES: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};
const DURATIONS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Bytes from a number or text: `1500`, `10MB` (SI: 10,000,000), `10 MiB` (binary), `1.5GB`; a rate
 * may end in `/s` (`10MB/s`). Undefined for anything else, and for negative or non-finite values.
 */
export function parseBytes(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]i?b|b)?\s*(?:\/s)?\s*$/i.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * (SIZES[(m[2] ?? 'b').toLowerCase()] ?? 1);
}

/** Milliseconds from a number (ms) or text: `500ms`, `30s`, `5m`, `1h`, `7d`. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)\s*$/i.exec(value);
  if (!m) return undefined;
  const ms = Number(m[1]) * DURATIONS[m[2]!.toLowerCase()]!;
  return ms > 0 ? ms : undefined;
}

/** `12.0 MiB` for people. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `5 min`, `1 h`, `30 s` for people. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
