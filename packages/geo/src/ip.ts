/**
 * Text addresses to numbers, for range lookups: IPv4 as an unsigned 32-bit number, IPv6 as two
 * unsigned 64-bit halves. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, RFC 4291 section 2.5.5.2)
 * is its IPv4 address, and so is one under the NAT64 well-known prefix (`64:ff9b::/96`, RFC 6052):
 * that is the host the program talks to.
 */
export type ParsedAddress = { version: 4; v4: number } | { version: 6; hi: bigint; lo: bigint };

/** The address `text` as numbers, or undefined when it is not an IP address. */
export function parseAddress(text: string): ParsedAddress | undefined {
  if (text.includes(':')) {
    const v6 = parseV6(text);
    if (!v6) return undefined;
    const mapped = v6.hi === 0n && v6.lo >> 32n === 0xffffn;
    const nat64 = v6.hi === 0x0064ff9b00000000n && v6.lo >> 32n === 0n;
    if (mapped || nat64) return { version: 4, v4: Number(v6.lo & 0xffffffffn) };
    return { version: 6, ...v6 };
  }
  const v4 = parseV4(text);
  return v4 === undefined ? undefined : { version: 4, v4 };
}

/** Dotted quad to a 32-bit number; undefined for anything else. */
export function parseV4(text: string): number | undefined {
  let value = 0;
  let part = -1;
  let parts = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // a final '.' closes the last part
    if (c === 46) {
      if (part < 0 || ++parts > 4) return undefined;
      value = value * 256 + part;
      part = -1;
    } else if (c >= 48 && c <= 57) {
      part = part < 0 ? c - 48 : part * 10 + c - 48;
      if (part > 255) return undefined;
    } else return undefined;
  }
  return parts === 4 ? value : undefined;
}

/** RFC 4291 section 2.2 text (with `::`, an embedded dotted quad, a `%zone`) to two 64-bit halves. */
export function parseV6(text: string): { hi: bigint; lo: bigint } | undefined {
  const zone = text.indexOf('%');
  const body = zone >= 0 ? text.slice(0, zone) : text;
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups: number[] = [];
  const tail: number[] = [];
  if (!readGroups(halves[0]!, groups)) return undefined;
  if (halves.length === 2 && !readGroups(halves[1]!, tail)) return undefined;
  const missing = 8 - groups.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  for (let i = 0; i < missing; i++) groups.push(0);
  groups.push(...tail);
  let hi = 0n;
  let lo = 0n;
  for (let i = 0; i < 4; i++) hi = (hi << 16n) | BigInt(groups[i]!);
  for (let i = 4; i < 8; i++) lo = (lo << 16n) | BigInt(groups[i]!);
  return { hi, lo };
}

function readGroups(text: string, into: number[]): boolean {
  if (text === '') return true;
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseV4(part);
      if (v4 === undefined) return false;
      into.push(v4 >>> 16, v4 & 0xffff);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return false;
      into.push(Number.parseInt(part, 16));
    }
  }
  return into.length <= 8;
}
