import { describe, expect, it } from 'vitest';
import { hostMatcher } from '../src/watch/views';

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
