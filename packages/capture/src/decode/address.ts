/**
 * Address text for the offsets a DecodedPacket holds. Only called when a caller wants text (a new
 * flow, a display), never per packet.
 */

/** Texts made by ipv4Text, by address: a capture sees few distinct addresses. Cleared when full. */
const v4Texts = new Map<number, string>();
const MAX_V4_TEXTS = 4096;

/** Dotted-quad text of the 4 bytes at `offset`. */
export function ipv4Text(data: Uint8Array, offset: number): string {
  // Signed 32 bits: a small integer as a key, never a boxed number.
  const key =
    (data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!;
  let text = v4Texts.get(key);
  if (text === undefined) {
    text = `${data[offset]}.${data[offset + 1]}.${data[offset + 2]}.${data[offset + 3]}`;
    if (v4Texts.size >= MAX_V4_TEXTS) v4Texts.clear();
    v4Texts.set(key, text);
  }
  return text;
}

/** RFC 5952 text of the 16 bytes at `offset`: lowercase hex, the longest run of 2+ zero groups as "::". */
export function ipv6Text(data: Uint8Array, offset: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((data[offset + i]! << 8) | data[offset + i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  // IPv4-mapped addresses (::ffff:a.b.c.d) keep their dotted tail, as RFC 5952 section 5 asks.
  if (bestStart === 0 && bestLength === 5 && groups[5] === 0xffff)
    return `::ffff:${ipv4Text(data, offset + 12)}`;
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Text of an IPv4 or IPv6 address of a packet. */
export function addressText(data: Uint8Array, offset: number, ipVersion: 4 | 6): string {
  return ipVersion === 4 ? ipv4Text(data, offset) : ipv6Text(data, offset);
}
