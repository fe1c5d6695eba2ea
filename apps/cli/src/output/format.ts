/** "127.0.0.1:80", "[::1]:80". */
export function endpoint(e: { address: string; port: number } | undefined): string {
  if (!e) return '*';
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 -> "1.5 KiB". */
export function bytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

/** Bytes per second. */
export function rate(n: number): string {
  return `${bytes(Math.round(n))}/s`;
}
