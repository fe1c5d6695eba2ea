const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function bytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

export const rate = (n: number) => `${bytes(n)}/s`;

export function endpoint(e: { address: string; port: number }): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

export function time(ms: number): string {
  return ms > 0 ? new Date(ms).toLocaleTimeString() : '';
}

/** A country's flag from its ISO 3166-1 alpha-2 code (two regional indicator symbols), '' for none. */
export function flag(country: string | undefined): string {
  if (!country || !/^[A-Z]{2}$/.test(country)) return '';
  return String.fromCodePoint(0x1f1e6 + country.charCodeAt(0) - 65, 0x1f1e6 + country.charCodeAt(1) - 65);
}

/** Where a remote end is: `🇺🇸 US` for a public address, its scope for the others, '' when unknown. */
export function place(c: { remoteScope?: string; country?: string }): string {
  if (c.remoteScope && c.remoteScope !== 'public') return c.remoteScope;
  return c.country ? `${flag(c.country)} ${c.country}` : '';
}

/** `AS15169 Google LLC`, '' when unknown. */
export function network(c: { asn?: number; asOrg?: string }): string {
  return c.asn === undefined ? '' : `AS${c.asn}${c.asOrg ? ` ${c.asOrg}` : ''}`;
}
