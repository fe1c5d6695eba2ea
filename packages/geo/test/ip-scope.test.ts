import { describe, expect, it } from 'vitest';
import { parseAddress, scopeOf } from '../src/index';

describe('parseAddress', () => {
  it.each([
    ['0.0.0.0', 0],
    ['8.8.8.8', 0x08080808],
    ['255.255.255.255', 0xffffffff],
    ['::ffff:192.0.2.1', 0xc0000201],
    ['::ffff:c000:0201', 0xc0000201],
    ['64:ff9b::8.8.8.8', 0x08080808],
  ])('%s is IPv4 %d', (text, v4) => {
    expect(parseAddress(text)).toEqual({ version: 4, v4 });
  });

  it.each([
    ['::', 0n, 0n],
    ['::1', 0n, 1n],
    ['2001:db8::1', 0x20010db800000000n, 1n],
    ['fe80::1%eth0', 0xfe80000000000000n, 1n],
    ['1:2:3:4:5:6:7:8', 0x0001000200030004n, 0x0005000600070008n],
    ['2001:db8::192.0.2.1', 0x20010db800000000n, 0xc0000201n],
  ])('%s is IPv6', (text, hi, lo) => {
    expect(parseAddress(text)).toEqual({ version: 6, hi, lo });
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '1..2.3',
    'a.b.c.d',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    ':::',
    'g::1',
    '12345::',
    'example.com',
  ])('%j is not an address', (text) => {
    expect(parseAddress(text)).toBeUndefined();
  });
});

describe('scopeOf: special ranges are named, never looked up', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['100.128.0.1', 'public'],
    ['127.0.0.53', 'loopback'],
    ['169.254.1.1', 'link-local'],
    ['192.0.2.7', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.7', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['198.20.0.1', 'public'],
    ['224.0.0.251', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['0.1.2.3', 'unspecified'],
    ['192.0.0.8', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['fe80::1', 'link-local'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['ff02::fb', 'multicast'],
    ['2001:db8:1::1', 'documentation'],
    ['3fff:0fff::1', 'documentation'],
    ['3fff:1000::1', 'public'],
    ['100::1', 'reserved'],
    ['2001:4860:4860::8888', 'public'],
    ['4000::1', 'reserved'],
    ['not an address', 'invalid'],
  ])('%s: %s', (text, scope) => {
    expect(scopeOf(parseAddress(text))).toBe(scope);
  });
});
