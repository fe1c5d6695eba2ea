import { describe, expect, it } from 'vitest';
import type { DnsMessage } from '../src/inspect/dns';
import { DnsNames } from '../src/inspect/dns-names';

const answer = (question: string, answers: DnsMessage['answers'], rcode = 0): DnsMessage => ({
  id: 1,
  response: true,
  rcode,
  questions: [{ name: question, type: 1 }],
  answers,
});

describe('names from DNS answers', () => {
  it('an address is named by the question that led to it, through a CNAME chain', () => {
    const names = new DnsNames();
    names.observe(
      answer('www.shop.test', [
        { name: 'www.shop.test', type: 5, ttl: 300, target: 'shop.cdn.test' },
        { name: 'shop.cdn.test', type: 5, ttl: 300, target: 'edge7.cdn.test' },
        { name: 'edge7.cdn.test', type: 1, ttl: 60, address: '192.0.2.7' },
        { name: 'edge7.cdn.test', type: 28, ttl: 60, address: '2001:db8::7' },
      ]),
      0,
    );
    expect(names.nameOf('192.0.2.7', 1000)).toBe('www.shop.test');
    expect(names.nameOf('2001:db8::7', 1000)).toBe('www.shop.test');
  });

  it('answers expire with their TTL (within the bounds), and the latest question wins an address', () => {
    const names = new DnsNames({ minTtlMs: 5000, maxTtlMs: 120_000 });
    names.observe(answer('a.test', [{ name: 'a.test', type: 1, ttl: 60, address: '192.0.2.1' }]), 0);
    names.observe(answer('b.test', [{ name: 'b.test', type: 1, ttl: 0, address: '192.0.2.2' }]), 0);
    names.observe(answer('c.test', [{ name: 'c.test', type: 1, ttl: 86_400, address: '192.0.2.3' }]), 0);
    expect(names.nameOf('192.0.2.1', 59_999)).toBe('a.test');
    expect(names.nameOf('192.0.2.1', 60_000)).toBeUndefined();
    expect(names.nameOf('192.0.2.2', 4_999)).toBe('b.test'); // a TTL of 0 still lasts minTtlMs
    expect(names.nameOf('192.0.2.3', 120_001)).toBeUndefined(); // capped at maxTtlMs
    names.observe(answer('x.test', [{ name: 'x.test', type: 1, ttl: 60, address: '192.0.2.9' }]), 0);
    names.observe(answer('y.test', [{ name: 'y.test', type: 1, ttl: 60, address: '192.0.2.9' }]), 1);
    expect(names.nameOf('192.0.2.9', 2)).toBe('y.test');
  });

  it('trusts nothing unasked: failed responses, queries, and answers the question does not lead to', () => {
    const names = new DnsNames();
    names.observe(answer('a.test', [{ name: 'a.test', type: 1, ttl: 60, address: '192.0.2.1' }], 3), 0);
    names.observe(
      { ...answer('b.test', [{ name: 'b.test', type: 1, ttl: 60, address: '192.0.2.2' }]), response: false },
      0,
    );
    names.observe(answer('c.test', [{ name: 'bank.test', type: 1, ttl: 60, address: '192.0.2.3' }]), 0);
    expect([
      names.nameOf('192.0.2.1', 1),
      names.nameOf('192.0.2.2', 1),
      names.nameOf('192.0.2.3', 1),
    ]).toEqual([undefined, undefined, undefined]);
  });

  it('bounded: the least recently answered address is forgotten first', () => {
    const names = new DnsNames({ maxEntries: 2 });
    for (const [i, n] of ['a', 'b', 'c'].entries()) {
      names.observe(
        answer(`${n}.test`, [{ name: `${n}.test`, type: 1, ttl: 60, address: `192.0.2.${i}` }]),
        0,
      );
    }
    expect(names.size).toBe(2);
    expect(names.nameOf('192.0.2.0', 1)).toBeUndefined();
    expect(names.nameOf('192.0.2.2', 1)).toBe('c.test');
  });
});
