import type { Endpoint, Owner, Protocol } from '../types';

/** An IPv4 address as an IPv6 socket sees it (`::ffff:1.2.3.4`) compares equal to `1.2.3.4`. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** Whether a socket bound to `bound` receives traffic for local address `address`. */
export function bindingServes(bound: string, address: string): boolean {
  return isWildcard(bound) || plainAddress(bound) === plainAddress(address);
}

export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && plainAddress(a.address) === plainAddress(b.address);
}

/**
 * Whether `owner`'s socket carries a flow between `local` and `remote`: a connected socket only its
 * own peer, a listening or unconnected one any peer on an address it is bound to.
 */
export function ownerServes(owner: Owner, local: Endpoint, remote: Endpoint): boolean {
  if (!bindingServes(owner.localAddress, local.address)) return false;
  return owner.remote === undefined || sameEndpoint(owner.remote, remote);
}

/** The protocol of a flow as a name, or undefined for protocols without ports. */
export function protocolOf(protocol: number | string): Protocol | undefined {
  if (protocol === 6 || protocol === 'TCP') return 'TCP';
  if (protocol === 17 || protocol === 'UDP') return 'UDP';
  return undefined;
}

/** The cache key of a (protocol, local port) pair. */
export function portKey(protocol: Protocol, port: number): number {
  return (protocol === 'TCP' ? 0 : 0x10000) | port;
}
