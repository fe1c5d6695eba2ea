/**
 * Canonical text for an IP address held as bytes: dotted quad for IPv4, RFC 5952 for IPv6 (lowercase,
 * longest run of two or more zero groups as `::`, IPv4-mapped as `::ffff:a.b.c.d`).
 *
 * Formatting is the costliest part of turning a socket row into an object, and a machine's sockets
 * share few distinct addresses, so results are memoised in a bounded map (cleared when full).
 */
const MAX_CACHED = 4096;
const v4Cache = new Map<number, string>();
const v6Cache = new Map<string, string>();

export function formatIPv4(bytes: Uint8Array, offset: number): string {
  const key =
    ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>>
    0;
  let text = v4Cache.get(key);
  if (text === undefined) {
    text = `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
    if (v4Cache.size >= MAX_CACHED) v4Cache.clear();
    v4Cache.set(key, text);
  }
  return text;
}

export function formatIPv6(bytes: Uint8Array, offset: number): string {
  // The 16 bytes as hex are the cache key: cheaper than formatting, and exact.
  let key = '';
  for (let i = 0; i < 16; i++) key += String.fromCharCode(bytes[offset + i]!);
  let text = v6Cache.get(key);
  if (text === undefined) {
    text = formatIPv6Uncached(bytes, offset);
    if (v6Cache.size >= MAX_CACHED) v6Cache.clear();
    v6Cache.set(key, text);
  }
  return text;
}

function formatIPv6Uncached(bytes: Uint8Array, offset: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!);
  // IPv4-mapped (::ffff:a.b.c.d), RFC 5952 section 5.
  if (
    groups[0] === 0 &&
    groups[1] === 0 &&
    groups[2] === 0 &&
    groups[3] === 0 &&
    groups[4] === 0 &&
    groups[5] === 0xffff
  ) {
    return `::ffff:${formatIPv4(bytes, offset + 12)}`;
  }
  // Longest run of zero groups, first one on a tie, only if at least two long (RFC 5952 4.2).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.map((g) => g.toString(16)).join(':');
  const head = groups
    .slice(0, bestStart)
    .map((g) => g.toString(16))
    .join(':');
  const tail = groups
    .slice(bestStart + bestLength)
    .map((g) => g.toString(16))
    .join(':');
  return `${head}::${tail}`;
}

export function formatAddress(bytes: Uint8Array, offset: number, family: 4 | 6): string {
  return family === 4 ? formatIPv4(bytes, offset) : formatIPv6(bytes, offset);
}

/** Whether `address` is an IPv4-mapped IPv6 address in text (`::ffff:a.b.c.d`). */
export function isV4Mapped(address: string): boolean {
  // Read in place: this runs for each lookup of a connection's owner.
  if (address.length < 7 || address.charCodeAt(0) !== 58 || address.charCodeAt(1) !== 58) return false;
  for (let i = 2; i < 6; i++) if ((address.charCodeAt(i) | 0x20) !== 0x66) return false; // f or F
  return address.charCodeAt(6) === 58 && address.indexOf('.', 7) >= 0;
}

/**
 * Writes the bytes of an address in text at `into[at]`: 4 for `family` 4 (a v4-mapped IPv6
 * address gives its IPv4 part), 16 for 6 (RFC 4291 section 2.2 text forms, without an embedded
 * dotted quad). False, with nothing written, when it does not parse.
 */
export function writeAddressBytes(into: Uint8Array, at: number, address: string, family: 4 | 6): boolean {
  if (family === 4) return writeIPv4(into, at, address, isV4Mapped(address) ? 7 : 0);
  const halves = address.split('::');
  if (halves.length > 2) return false;
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const left = groups(halves[0]);
  const right = groups(halves[1]);
  const fill = halves.length === 1 ? 0 : 8 - left.length - right.length;
  if (halves.length === 2 && fill < 1) return false; // `::` stands for one group of zeros or more
  const all = [...left, ...Array<string>(fill).fill('0'), ...right];
  if (all.length !== 8 || all.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return false;
  all.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    into[at + i * 2] = v >> 8;
    into[at + i * 2 + 1] = v & 0xff;
  });
  return true;
}

/**
 * The dotted quad at `address[from..]` as 4 bytes at `into[at]`, read in place (no strings or
 * arrays: this runs for each lookup of a connection's owner). False, with nothing written, unless
 * it is four decimal numbers of 0-255 separated by dots.
 */
function writeIPv4(into: Uint8Array, at: number, address: string, from: number): boolean {
  let word = 0;
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let i = from; i <= address.length; i++) {
    const c = i < address.length ? address.charCodeAt(i) : 0x2e; // the end closes the last part
    if (c === 0x2e) {
      if (digits === 0 || parts === 4) return false;
      word = word * 256 + value;
      parts++;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      value = value * 10 + (c - 0x30);
      if (++digits > 3 || value > 255) return false;
    } else return false;
  }
  if (parts !== 4) return false;
  into[at] = word >>> 24;
  into[at + 1] = (word >>> 16) & 0xff;
  into[at + 2] = (word >>> 8) & 0xff;
  into[at + 3] = word & 0xff;
  return true;
}
