import { describe, expect, it } from 'vitest';
import { flag, network, place } from '../src/client/format';

describe('the client’s remote-end formats', () => {
  it('a country’s flag from its code, nothing for what is not one', () => {
    expect(flag('US')).toBe('🇺🇸');
    expect(flag('NL')).toBe('🇳🇱');
    expect(flag(undefined)).toBe('');
    expect(flag('usa')).toBe('');
  });

  it('place: flag and code for public addresses, the scope for others; network: AS and organisation', () => {
    expect(place({ remoteScope: 'public', country: 'US' })).toBe('🇺🇸 US');
    expect(place({ remoteScope: 'loopback' })).toBe('loopback');
    expect(place({ remoteScope: 'public' })).toBe('');
    expect(network({ asn: 15169, asOrg: 'Google LLC' })).toBe('AS15169 Google LLC');
    expect(network({})).toBe('');
  });
});
