import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReverseDns } from '../src/index';

describe('ReverseDns', () => {
  it('names loopback addresses from the hosts file, localhost before the other aliases', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'netwho-hosts-')), 'hosts');
    writeFileSync(
      file,
      [
        '# a comment',
        '127.0.0.1 localhost',
        '127.0.0.1 runsc',
        '127.0.0.1 vm',
        '127.0.1.1 box box.lan',
        '::1 ip6-localhost ip6-loopback localhost',
        '10.0.0.1 router',
      ].join('\n'),
    );
    const dns = new ReverseDns(16, 1, file);
    expect(dns.name('127.0.0.1')).toBe('localhost');
    expect(dns.name('127.0.1.1')).toBe('box');
    expect(dns.name('::1')).toBe('localhost');
    expect(dns.name('127.9.9.9')).toBeUndefined(); // not listed: no name, and no lookup for it
    expect(new ReverseDns(16, 1, join(file, 'missing')).name('127.0.0.1')).toBeUndefined();
  });
});
