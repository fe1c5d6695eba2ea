import { KEY_WORDS } from './flow-key';
import { HASH, NONE, WORDS_PER_SLOT } from './flow-slots';

/** The index's first size (it grows with the flows). */
const MIN_BUCKETS = 1024;

/**
 * The flow table's open-addressing index from key to slot: slot + 1 per bucket, 0 when empty;
 * linear probing, backward-shift deletion. It starts small and doubles to keep at most half its
 * buckets full, up to twice the slots: a small index stays in cache, which is most of what a
 * lookup costs. Keys and hashes are read from the slots' records (flow-slots.ts).
 */
export class FlowIndex {
  private buckets: Int32Array;
  private mask: number;
  private readonly maxBuckets: number;

  constructor(
    private readonly words: Uint32Array,
    private readonly ints: Int32Array,
    slots: number,
  ) {
    let buckets = 2;
    while (buckets < slots * 2) buckets *= 2;
    this.maxBuckets = buckets;
    this.buckets = new Int32Array(Math.min(buckets, MIN_BUCKETS));
    this.mask = this.buckets.length - 1;
  }

  /** The slot whose key is `key` (its hash `hash`), or NONE. */
  find(hash: number, key: Uint32Array): number {
    const words = this.words;
    const ints = this.ints;
    for (let b = hash & this.mask; ; b = (b + 1) & this.mask) {
      const entry = this.buckets[b]!;
      if (entry === 0) return NONE;
      const slot = entry - 1;
      const base = slot * WORDS_PER_SLOT;
      if (ints[base + HASH] !== hash) continue;
      // Words 0, 1, 2 and 6 are all of an IPv4 key (the others are 0): they are compared first,
      // and for IPv4 they are enough. (A loop over all ten costs a quarter of a packet's time.)
      if (
        words[base] !== key[0] ||
        words[base + 1] !== key[1] ||
        words[base + 2] !== key[2] ||
        words[base + 6] !== key[6]
      ) {
        continue;
      }
      if (key[0]! >> 8 === 4) return slot;
      let same = true;
      for (let w = 3; w < KEY_WORDS; w++) {
        if (words[base + w] !== key[w]) {
          same = false;
          break;
        }
      }
      if (same) return slot;
    }
  }

  /** Indexes `slot` (its key and HASH written), `flows` being how many the table holds with it. */
  add(slot: number, hash: number, flows: number): void {
    if (flows * 2 > this.buckets.length && this.buckets.length < this.maxBuckets) this.grow();
    this.put(slot, hash);
  }

  /** Removes `slot` from the index, shifting later entries of its probe run back (no tombstones). */
  remove(slot: number): void {
    const buckets = this.buckets;
    const mask = this.mask;
    const ints = this.ints;
    let hole = ints[slot * WORDS_PER_SLOT + HASH]! & mask;
    while (buckets[hole] !== slot + 1) hole = (hole + 1) & mask;
    for (let b = (hole + 1) & mask; buckets[b] !== 0; b = (b + 1) & mask) {
      const home = ints[(buckets[b]! - 1) * WORDS_PER_SLOT + HASH]! & mask;
      // The entry at b may fill the hole unless its home lies cyclically in (hole, b].
      const stays = hole <= b ? home > hole && home <= b : home > hole || home <= b;
      if (!stays) {
        buckets[hole] = buckets[b]!;
        hole = b;
      }
    }
    buckets[hole] = 0;
  }

  private put(slot: number, hash: number): void {
    let b = hash & this.mask;
    while (this.buckets[b] !== 0) b = (b + 1) & this.mask;
    this.buckets[b] = slot + 1;
  }

  /** Doubles the index and puts every flow back in it. */
  private grow(): void {
    const old = this.buckets;
    this.buckets = new Int32Array(old.length * 2);
    this.mask = this.buckets.length - 1;
    for (const entry of old) {
      if (entry !== 0) this.put(entry - 1, this.ints[(entry - 1) * WORDS_PER_SLOT + HASH]!);
    }
  }
}
