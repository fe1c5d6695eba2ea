import type { ConnectionRow } from '@netwho/monitor';
import { describe, expect, it } from 'vitest';
import { hostMatcher, hosts, ownerCell, placeOf } from '../src/watch/views';

describe('watch --host', () => {
  it('matches a glob against the remote address or its name, whole and case-insensitive', () => {
    const m = hostMatcher('*.Example.com');
    expect(m('93.184.215.14', 'www.example.com')).toBe(true);
    expect(m('93.184.215.14', 'example.com')).toBe(false);
    expect(m('93.184.215.14', undefined)).toBe(false);
    expect(hostMatcher('10.0.*')('10.0.3.4', undefined)).toBe(true);
    expect(hostMatcher('10.0.*')('110.0.3.4', undefined)).toBe(false);
    expect(hostMatcher('fe80::?')('fe80::1', undefined)).toBe(true);
    // Regular-expression characters in a pattern are literal.
    expect(hostMatcher('a+b(c)')('a+b(c)', undefined)).toBe(true);
    expect(hostMatcher('a+b(c)')('aab(c)', undefined)).toBe(false);
  });
});

describe('Remote hosts and where they are', () => {
  const row = (address: string, extra: Partial<ConnectionRow> = {}): ConnectionRow => ({
    id: Math.floor(Math.random() * 1e9),
    protocol: 'TCP',
    local: { address: '10.0.0.2', port: 40000 },
    remote: { address, port: 443 },
    label: { status: 'known', process: { pid: 7, name: 'curl', path: '/usr/bin/curl' } },
    bytesIn: 100,
    bytesOut: 10,
    packetsIn: 1,
    packetsOut: 1,
    firstSeen: 0,
    lastSeen: 0,
    state: 'open',
    ...extra,
  });

  it('groups connections by the remote name (a CDN name over two addresses is one host), else by address', () => {
    const cdn = {
      remoteName: 'cdn.example.com',
      remoteScope: 'public' as const,
      country: 'US',
      asn: 13335,
      asOrg: 'Cloudflare, Inc.',
    };
    const list = hosts({
      at: 0,
      mode: 'capture',
      programs: [],
      connections: [
        row('104.16.1.1', cdn),
        row('104.16.2.2', cdn),
        row('192.168.1.9', { remoteScope: 'private' }),
      ],
    });
    expect(list).toHaveLength(2);
    expect(list[0]).toMatchObject({
      host: 'cdn.example.com',
      addresses: ['104.16.1.1', '104.16.2.2'],
      place: 'US AS13335 Cloudflare, Inc.',
      connections: 2,
      bytesIn: 200,
      programs: ['curl'],
    });
    expect(list[1]).toMatchObject({ host: '192.168.1.9', place: 'private' });
  });

  it('ownerCell: a program that had exited says so; a pending or unknown owner as labelName has it', () => {
    expect(ownerCell(row('10.0.0.9'))).toBe('curl');
    const gone = { status: 'known' as const, process: { pid: 8, name: 'bash', path: '' }, exited: true };
    expect(ownerCell(row('10.0.0.9', { label: gone }))).toBe('bash (exited)');
    expect(ownerCell(row('10.0.0.9', { label: { status: 'pending' } }))).toBe('…');
    expect(ownerCell(row('10.0.0.9', { label: { status: 'unknown', reason: 'gave-up' } }))).toBe('(gave-up)');
  });

  it('placeOf: nothing known is empty', () => {
    expect(placeOf({})).toBe('');
    expect(placeOf({ remoteScope: 'public', country: 'NL', asn: null, asOrg: null })).toBe('NL');
  });
});

describe('what the live view says was lost', () => {
  it('capture drops, then attribution given up for lack of room, with their counts', async () => {
    const { lossLine } = await import('../src/watch/app');
    const base = { at: 0, mode: 'capture' as const, programs: [], connections: [] };
    expect(lossLine(base)).toBeUndefined();
    expect(
      lossLine({
        ...base,
        capture: { backend: 'ring', received: 10, delivered: 9, kernelDropped: 1, netwhoDropped: 0 },
        owners: { ebpf: true, fromEbpf: 5, fromSocketTable: 0, lookupsDropped: 2, kernelWaitsDropped: 3 },
      }),
    ).toBe(
      'dropped: 1 by the kernel (ring full), 0 by netwho, of 10 received; attribution: 2 lookups refused (queue full), 3 flows not waited for in eBPF',
    );
  });

  it('where owners come from, and which eBPF hooks are missing', async () => {
    const { ownersText } = await import('../src/watch/app');
    const counts = { fromEbpf: 0, fromSocketTable: 0 };
    expect(ownersText({ ebpf: true, ...counts })).toBe('eBPF + socket table');
    expect(
      ownersText({
        ebpf: true,
        ...counts,
        ebpfMissing: [{ hook: 'socket-recv', reason: 'the kernel has no sock:sock_recv_length tracepoint' }],
      }),
    ).toBe('eBPF (without socket-recv) + socket table');
    expect(ownersText({ ebpf: false, ebpfReason: 'turned off', ...counts })).toBe(
      'socket table (no eBPF: turned off)',
    );
  });
});
