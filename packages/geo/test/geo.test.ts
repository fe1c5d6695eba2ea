import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fieldsOf, Geo, isGeoError, MmdbFile } from '../src/index';
import { writeMmdb } from './mmdb-writer';

const dir = mkdtempSync(join(tmpdir(), 'netwho-geo-'));

describe('the bundled databases (installed from npm with the package)', () => {
  const geo = Geo.open();

  it.each([
    ['8.8.8.8', 'US', 15169],
    ['1.1.1.1', undefined, 13335],
    ['193.0.6.139', 'NL', 3333],
    ['2001:4860:4860::8888', 'US', 15169],
    ['::ffff:8.8.4.4', 'US', 15169],
  ])('%s: country %s, AS%d', (address, country, asn) => {
    const info = geo.lookup(address);
    expect(info.scope).toBe('public');
    if (country) expect(info.country).toBe(country);
    else expect(info.country).toMatch(/^[A-Z]{2}$/); // 1.1.1.1's whois country moves between AU and US
    expect(info.asn).toBe(asn);
    expect(info.asOrg).toBeTruthy();
  });

  it('names special ranges and never looks them up', () => {
    for (const [address, scope] of [
      ['10.0.0.1', 'private'],
      ['127.0.0.1', 'loopback'],
      ['::1', 'loopback'],
      ['169.254.0.1', 'link-local'],
      ['100.64.1.1', 'cgnat'],
      ['192.0.2.1', 'documentation'],
      ['2001:db8::1', 'documentation'],
      ['fd00::1', 'private'],
    ] as const)
      expect(geo.lookup(address)).toEqual({ scope });
  });

  it('says where its answers come from', () => {
    expect(geo.databases.country?.type).toMatch(/country/);
    expect(geo.databases.asn?.source?.package).toBe('@ip-location-db/asn');
  });

  it('keeps at most maxEntries answers and counts what it forgot', () => {
    const small = Geo.open({ maxEntries: 2 });
    const first = small.lookup('8.8.8.8');
    expect(small.lookup('8.8.8.8')).toBe(first); // the same frozen object from the cache
    small.lookup('1.1.1.1');
    small.lookup('193.0.6.139');
    small.lookup('9.9.9.9');
    expect(small.stats()).toEqual({ lookups: 5, cacheHits: 1, evictions: 2, entries: 2 });
  });

  it('never throws on a lookup, whatever the text', () => {
    for (const text of ['', ':', '1.2.3.4.5', '::ffff:999.1.1.1', 'x'.repeat(1000), '\u0000', '[::1]'])
      expect(geo.lookup(text).scope).toBe('invalid');
  });
});

describe("the user's own MMDB files", () => {
  it('takes countries from a GeoLite2 City layout and AS from a GeoLite2 ASN layout', () => {
    const city = join(dir, 'GeoLite2-City.mmdb');
    writeFileSync(
      city,
      writeMmdb('GeoLite2-City', [
        {
          prefix: '8.8.8.0',
          bits: 24,
          record: {
            country: { iso_code: 'DE', names: { en: 'Germany' } },
            city: { names: { en: 'Berlin' } },
          },
        },
      ]),
    );
    const asn = join(dir, 'GeoLite2-ASN.mmdb');
    writeFileSync(
      asn,
      writeMmdb('GeoLite2-ASN', [
        {
          prefix: '8.8.8.0',
          bits: 24,
          record: { autonomous_system_number: 64500, autonomous_system_organization: 'Example AS' },
        },
      ]),
    );
    const geo = Geo.open({ country: city, asn });
    expect(geo.lookup('8.8.8.8')).toEqual({
      scope: 'public',
      country: 'DE',
      asn: 64500,
      asOrg: 'Example AS',
    });
    expect(geo.lookup('9.9.9.9')).toEqual({ scope: 'public' }); // not in these files
    expect(geo.databases.country?.type).toBe('GeoLite2-City');
    expect(geo.databases.asn?.type).toBe('GeoLite2-ASN');
  });

  it('reads IPinfo-style records (country_code, "AS15169", as_name)', () => {
    const file = join(dir, 'ipinfo.mmdb');
    writeFileSync(
      file,
      writeMmdb('ipinfo lite', [
        { prefix: '1.0.0.0', bits: 8, record: { country_code: 'us', asn: 'AS13335', as_name: 'Cloudflare' } },
      ]),
    );
    const geo = Geo.open({ country: file, asn: file });
    expect(geo.lookup('1.1.1.1')).toEqual({
      scope: 'public',
      country: 'US',
      asn: 13335,
      asOrg: 'Cloudflare',
    });
  });

  it('turns countries or AS off', () => {
    expect(Geo.open({ country: false }).lookup('8.8.8.8')).toEqual({
      scope: 'public',
      asn: 15169,
      asOrg: 'Google LLC',
    });
    expect(Geo.open({ asn: false }).lookup('8.8.8.8')).toEqual({ scope: 'public', country: 'US' });
  });

  it('a missing file is E_OPEN, a file that is not a database is E_FORMAT', () => {
    const expectCode = (fn: () => unknown, code: 'E_OPEN' | 'E_FORMAT') => {
      try {
        fn();
        expect.unreachable();
      } catch (e) {
        expect(isGeoError(e, code)).toBe(true);
        expect((e as Error).message).toContain('[netwho/geo]');
      }
    };
    expectCode(() => Geo.open({ country: join(dir, 'missing.mmdb') }), 'E_OPEN');
    expectCode(() => Geo.open({ asn: dir }), 'E_OPEN'); // a directory
    const text = join(dir, 'not.mmdb');
    writeFileSync(text, 'just some text, no metadata marker');
    expectCode(() => Geo.open({ country: text }), 'E_FORMAT');
    expectCode(() => Geo.open({ asn: text }), 'E_FORMAT');
  });
});

describe('fieldsOf', () => {
  it('prefers the country over the registered country, and ignores what is not a code', () => {
    expect(fieldsOf({ country: { iso_code: 'FR' }, registered_country: { iso_code: 'DE' } })).toEqual({
      country: 'FR',
    });
    expect(fieldsOf({ registered_country: { iso_code: 'DE' } })).toEqual({ country: 'DE' });
    expect(fieldsOf({ country: 'Germany', asn: 'ASx' })).toEqual({});
    expect(fieldsOf({ as_name: 'no number' })).toEqual({});
  });
});

describe('fuzz: random bytes as a database', () => {
  it('is E_FORMAT or a database that answers without throwing', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    };
    const good = writeMmdb('t', [{ prefix: '8.0.0.0', bits: 8, record: { country_code: 'US' } }]);
    for (let round = 0; round < 500; round++) {
      const bytes = Buffer.from(good);
      for (let i = 0; i < 4; i++) bytes[random() % bytes.length] = random();
      const cut = round % 3 === 0 ? bytes.subarray(0, random() % bytes.length) : bytes;
      try {
        const file = new MmdbFile(cut);
        file.lookup('8.8.8.8');
        file.lookup('2001:db8::1');
      } catch (e) {
        expect(isGeoError(e, 'E_FORMAT')).toBe(true);
      }
    }
  });
});
