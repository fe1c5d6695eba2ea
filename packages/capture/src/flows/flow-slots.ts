import { addressText } from '../decode/address';
import type { Flow } from './flow';

/** No slot: the end of an LRU link, or a find that found nothing. */
export const NONE = -1;

/**
 * A slot's fields, as indexes into its 128-byte record (two cache lines). The first line holds what
 * finding a flow and ordering it touch, the second the counters a packet adds to: a packet costs
 * two lines of its own flow (and the LRU neighbours' first lines), not one line per field.
 */
export const WORDS_PER_SLOT = 32; // Uint32 / Int32 view
export const NUMBERS_PER_SLOT = 16; // Float64 view
// Words 0-9: the key (KEY_WORDS).
/** hashKey of the key (an int32: read it through the Int32 view). */
export const HASH = 10;
export const GENERATION = 11;
/** LRU list links (read through the Int32 view: a slot or NONE). */
export const NEWER = 12;
export const OLDER = 13;
/**
 * Bit 0: which endpoint of the key (0 = A, 1 = B) is local; bit 2 (LOCAL_KNOWN): the machine's
 * addresses told; bit 3 (IN_USE): the slot holds a flow.
 */
export const LOCAL_SIDE = 14;
export const LOCAL_KNOWN = 4;
export const IN_USE = 8;
/** Both addresses are this machine's (loopback, or two of its interfaces): both ends are local programs. */
export const BOTH_LOCAL = 16;
/** TcpSeen bits. */
export const TCP = 15;
// Float64 fields, in the second line.
export const BYTES_OUT = 8;
export const BYTES_IN = 9;
export const PACKETS_OUT = 10;
export const PACKETS_IN = 11;
export const FIRST_SEEN = 12;
export const LAST_SEEN = 13;
// Words 28-29 (the second line's last two Float64 numbers, 14 and 15, unused): the opening SYN.
/** The sequence number of the SYN (without ACK) that opened the flow. */
export const SYN_SEQ = 28;
/** Bit 0: the flow was opened by a SYN (SYN_SEQ holds its number); bit 1: the key endpoint that sent it. */
export const SYN_SEEN = 29;

/** An address's bytes, in network order, on their way to text (readFlow: one at a time). */
const scratch = new Uint8Array(16);
const scratchView = new DataView(scratch.buffer);

/**
 * Slot `slot` as a Flow (a snapshot: it does not change as packets arrive). `id` is the flow's id;
 * the records are read through their Uint32 and Float64 views.
 */
export function readFlow(words: Uint32Array, numbers: Float64Array, slot: number, id: number): Flow {
  const base = slot * WORDS_PER_SLOT;
  const version = (words[base]! >> 8) as 4 | 6;
  const side = words[base + LOCAL_SIDE]! & 1;
  const endpoint = (which: number) => {
    for (let w = 0; w < 4; w++) scratchView.setUint32(4 * w, words[base + 2 + 4 * which + w]!);
    const ports = words[base + 1]!;
    return { address: addressText(scratch, 0, version), port: which === 0 ? ports >>> 16 : ports & 0xffff };
  };
  const at = slot * NUMBERS_PER_SLOT;
  return {
    id,
    ipVersion: version,
    protocol: words[base]! & 0xff,
    local: endpoint(side),
    remote: endpoint(1 - side),
    localKnown: (words[base + LOCAL_SIDE]! & LOCAL_KNOWN) !== 0,
    bothLocal: (words[base + LOCAL_SIDE]! & BOTH_LOCAL) !== 0,
    bytesOut: numbers[at + BYTES_OUT]!,
    bytesIn: numbers[at + BYTES_IN]!,
    packetsOut: numbers[at + PACKETS_OUT]!,
    packetsIn: numbers[at + PACKETS_IN]!,
    firstSeen: numbers[at + FIRST_SEEN]!,
    lastSeen: numbers[at + LAST_SEEN]!,
    tcp: words[base + TCP]!,
    ...((words[base + SYN_SEEN]! & 1) !== 0 && {
      syn: { seq: words[base + SYN_SEQ]!, fromLocal: ((words[base + SYN_SEEN]! >> 1) & 1) === side },
    }),
  };
}
