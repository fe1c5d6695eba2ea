import { statSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { isV4Mapped } from '../../address';

/** How old the list of this namespace's addresses may be when an address is not in it (ms). */
const REFRESH_MS = 1000;

/**
 * The addresses of this process's network namespace: loopback, and those of its interfaces
 * (os.networkInterfaces(), read again at most every second when an address is not among them, so
 * an address added since is found). A TCP listener of this namespace serves only connections to
 * these; one to another address (a container's, seen on a bridge) reaches another namespace's
 * listener, or none.
 */
export class OwnAddresses {
  private addresses = new Set<string>();
  private readAt = Number.NEGATIVE_INFINITY;
  /** The namespace's inode number (what the hooks record as a holder's netns); 0 when unreadable. */
  readonly netns: number;

  constructor(private readonly now: () => number = () => performance.now()) {
    let inode = 0;
    try {
      inode = statSync('/proc/self/ns/net').ino;
    } catch {
      // no /proc: no holder is taken for this namespace's
    }
    this.netns = inode;
  }

  has(address: string): boolean {
    const a = isV4Mapped(address) ? address.slice(7) : address.toLowerCase();
    if (a.startsWith('127.') || a === '::1') return true;
    if (this.addresses.has(a)) return true;
    if (this.now() - this.readAt < REFRESH_MS) return false;
    this.readAt = this.now();
    const next = new Set<string>();
    for (const list of Object.values(networkInterfaces()))
      for (const i of list ?? []) next.add(i.address.toLowerCase());
    this.addresses = next;
    return next.has(a);
  }
}
