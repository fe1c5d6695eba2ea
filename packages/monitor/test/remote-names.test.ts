import { type DnsNames, DnsType, FlowNames } from '@netwho/capture';
import { Geo } from '@netwho/geo';
import { describe, expect, it } from 'vitest';
import { RemoteNames, type ReverseDns } from '../src/index';

// A reverse-DNS stand-in that answers without sending queries (the real one is tested live).
const reverse = (answers: Record<string, string>) =>
  ({ name: (address: string) => answers[address] }) as unknown as ReverseDns;

describe('RemoteNames: the best name first, then the place', () => {
  const geo = Geo.open();

  it('the DNS answer that gave the address before its reverse DNS; the country and AS of a public address', () => {
    const flows = new FlowNames();
    flows.dns.observe(
      {
        id: 1,
        response: true,
        rcode: 0,
        questions: [{ name: 'dns.google', type: DnsType.A }],
        answers: [{ name: 'dns.google', type: DnsType.A, ttl: 300, address: '8.8.8.8' }],
      } as Parameters<DnsNames['observe']>[0],
      0,
    );
    const names = new RemoteNames({ flows, reverseDns: reverse({ '8.8.8.8': 'ptr.example' }), geo });
    expect(names.describe(7, '8.8.8.8', 1000)).toEqual({
      remoteName: 'dns.google',
      remoteNameSource: 'dns',
      remoteScope: 'public',
      country: 'US',
      asn: 15169,
      asOrg: 'Google LLC',
    });
    // After the answer's TTL, reverse DNS names it.
    expect(names.describe(7, '8.8.8.8', 400_000)).toMatchObject({
      remoteName: 'ptr.example',
      remoteNameSource: 'reverse-dns',
    });
  });

  it('a private address has a scope and no place; nothing known gives no name', () => {
    const names = new RemoteNames({ reverseDns: reverse({}), geo });
    expect(names.describe(undefined, '192.168.1.20', 0)).toEqual({ remoteScope: 'private' });
    expect(new RemoteNames({}).describe(undefined, '8.8.8.8', 0)).toEqual({});
  });
});
