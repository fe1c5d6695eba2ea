import { networkInterfaces } from 'node:os';
import { addressText } from '../decode/address';

/** The addresses of this machine, as text, from Node's view of its interfaces. */
export function machineAddresses(): string[] {
  const addresses: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) addresses.push(a.address.replace(/%.*$/, ''));
  }
  return addresses;
}

/** Tells whether an address in a packet is one of ours. Consulted once per new flow, not per packet. */
export class LocalAddresses {
  private readonly set: Set<string>;
  constructor(addresses: Iterable<string> = machineAddresses()) {
    this.set = new Set([...addresses].map((a) => a.toLowerCase()));
  }
  has(data: Uint8Array, offset: number, ipVersion: 4 | 6): boolean {
    return this.set.has(addressText(data, offset, ipVersion));
  }
}
