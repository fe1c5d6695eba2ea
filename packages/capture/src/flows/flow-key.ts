import type { DecodedPacket } from '../decode/packet';

/**
 * A flow's key as 10 words: [ipVersion << 8 | protocol, portA << 16 | portB, addrA (4 words),
 * addrB (4 words)], where A is the smaller endpoint (address, then port) so both directions of a
 * connection give the same key. IPv4 addresses use the first word, the other three stay 0.
 */
export const KEY_WORDS = 10;

/**
 * Writes the key of `p` into `key` and returns 0 when the packet's source is endpoint A, 1 when it
 * is endpoint B. The caller has checked that `p` is IP with a transport header. Protocols without
 * ports (ICMP) get ports 0: their flows are per address pair.
 */
export function writeFlowKey(p: DecodedPacket, key: Uint32Array): 0 | 1 {
  const data = p.data;
  const ported = p.protocol === 6 || p.protocol === 17;
  const srcPort = ported ? p.srcPort : 0;
  const dstPort = ported ? p.dstPort : 0;
  key[0] = (p.ipVersion << 8) | p.protocol;
  let order = 0; // <0: source is smaller, >0: destination is
  if (p.ipVersion === 4) {
    // The common case, without the loop: one word per address, the other six stay 0.
    const s = word(data, p.srcAddrOffset);
    const d = word(data, p.dstAddrOffset);
    order = s === d ? 0 : s < d ? -1 : 1;
    if (order === 0) order = srcPort <= dstPort ? -1 : 1;
    key[2] = order < 0 ? s : d;
    key[6] = order < 0 ? d : s;
    key[3] = key[4] = key[5] = key[7] = key[8] = key[9] = 0;
  } else {
    for (let w = 0; w < 4; w++) {
      const s = word(data, p.srcAddrOffset + 4 * w);
      const d = word(data, p.dstAddrOffset + 4 * w);
      key[2 + w] = s;
      key[6 + w] = d;
      if (order === 0 && s !== d) order = s < d ? -1 : 1;
    }
    if (order === 0) order = srcPort <= dstPort ? -1 : 1;
    if (order > 0) {
      for (let w = 0; w < 4; w++) {
        const s = key[2 + w]!;
        key[2 + w] = key[6 + w]!;
        key[6 + w] = s;
      }
    }
  }
  key[1] = (order < 0 ? (srcPort << 16) | dstPort : (dstPort << 16) | srcPort) >>> 0;
  return order < 0 ? 0 : 1;
}

/** Big-endian 32-bit word at `at` (addresses compare as numbers this way). */
function word(data: Uint8Array, at: number): number {
  return ((data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!) >>> 0;
}

/** A 32-bit hash (signed) of a key (multiply-xorshift over the words; good spread for sequential ports). */
export function hashKey(key: Uint32Array): number {
  let h = 0x9e3779b9;
  // IPv4 keys hold zeros in words 3-5 and 7-9: only the other four carry information.
  if (key[0]! >> 8 === 4) {
    h = mix(mix(mix(mix(h, key[0]!), key[1]!), key[2]!), key[6]!);
  } else {
    for (let i = 0; i < KEY_WORDS; i++) h = mix(h, key[i]!);
  }
  h = Math.imul(h, 0xc2b2ae35);
  // An int32, not a uint32: V8 keeps it a small integer instead of boxing it as a heap number.
  return h ^ (h >>> 16);
}

function mix(h: number, word: number): number {
  const m = Math.imul(h ^ word, 0x85ebca6b);
  return m ^ (m >>> 13);
}
