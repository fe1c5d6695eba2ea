/**
 * Row ids of rows looked up by their natural key (a program, an address), kept between writes so
 * that a busy interval asks SQLite once per new key. Bounded by two generations instead of an exact
 * LRU list (a hit costs one Map lookup, not a delete and re-insert): keys go into `young`; when it
 * holds max/2 keys it becomes `old` and the previous `old` is forgotten; a hit in `old` moves the
 * key back to `young`. At most `max` keys, and a key in use is never the one forgotten.
 */
export class IdCache<K = string> {
  private young = new Map<K, number>();
  private old = new Map<K, number>();
  private readonly half: number;

  constructor(max: number) {
    this.half = Math.max(1, Math.floor(max / 2));
  }

  get(key: K): number | undefined {
    const id = this.young.get(key);
    if (id !== undefined) return id;
    const aged = this.old.get(key);
    if (aged !== undefined) this.set(key, aged);
    return aged;
  }

  set(key: K, id: number): void {
    if (this.young.size >= this.half) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, id);
  }

  /** After a rolled-back transaction or a sweep: ids cached may no longer exist. */
  clear(): void {
    this.young.clear();
    this.old.clear();
  }
}
