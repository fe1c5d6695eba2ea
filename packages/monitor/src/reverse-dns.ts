import { promises as dns } from 'node:dns';
import { readFileSync } from 'node:fs';

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
    private readonly hostsFile = '/etc/hosts',
  ) {}

  private loopbackNames: Map<string, string> | undefined;

  name(address: string): string | undefined {
    if (isLoopback(address)) return this.loopbackName(address);
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

  /**
   * Nothing but /etc/hosts names a loopback address, and the resolver answers with the last alias
   * listed for it (`vm` for `127.0.0.1 localhost`, `127.0.0.1 vm`): `localhost` when the file
   * lists it for that address, else the first name it lists; read once.
   */
  private loopbackName(address: string): string | undefined {
    if (!this.loopbackNames) {
      this.loopbackNames = new Map();
      let text = '';
      try {
        text = readFileSync(this.hostsFile, 'utf8');
      } catch {
        // No hosts file: loopback addresses have no name.
      }
      for (const line of text.split('\n')) {
        const [ip, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
        if (!ip || names.length === 0 || !isLoopback(ip)) continue;
        const known = this.loopbackNames.get(ip);
        if (names.includes('localhost')) this.loopbackNames.set(ip, 'localhost');
        else if (!known && this.loopbackNames.size < 1024) this.loopbackNames.set(ip, names[0]!);
      }
    }
    return this.loopbackNames.get(address);
  }

  private remember(address: string, name: string | null): void {
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(address, name);
  }
}

/** 127/8, ::1 and their IPv4-mapped form. */
export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
