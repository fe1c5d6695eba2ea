import { promises as dns } from 'node:dns';

/**
 * Reverse DNS in the background: `name(address)` returns what is known now (or undefined) and
 * starts a lookup once. Bounded: at most `maxEntries` names cached (oldest dropped) and `parallel`
 * lookups at a time; failures are cached as "no name" too, so an address is asked about once.
 */
export class ReverseDns {
  private readonly cache = new Map<string, string | null>();
  private readonly queue: string[] = [];
  private running = 0;

  constructor(
    private readonly maxEntries = 4096,
    private readonly parallel = 8,
  ) {}

  name(address: string): string | undefined {
    const known = this.cache.get(address);
    if (known !== undefined) return known ?? undefined;
    if (this.queue.length < 1024 && !this.queue.includes(address)) {
      this.queue.push(address);
      this.pump();
    }
    return undefined;
  }

  private pump(): void {
    while (this.running < this.parallel && this.queue.length > 0) {
      const address = this.queue.shift()!;
      this.running++;
      dns
        .reverse(address)
        .then(
          (names) => this.remember(address, names[0] ?? null),
          () => this.remember(address, null),
        )
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }

  private remember(address: string, name: string | null): void {
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(address, name);
  }
}
