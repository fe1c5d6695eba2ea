import { describe, expect, it } from 'vitest';
import { AsnTable, encodeAsnTable, isGeoError, parseAddress, parseAsnCsv } from '../src/index';

const SOURCE = { package: 'test', version: '1' };

describe('parseAsnCsv', () => {
  it('reads plain and quoted organisations, skips and counts lines that do not fit', () => {
    const text = [
      '16777216,16777471,13335,"Cloudflare, Inc."',
      '16778240,16779263,38803,Gtelecom Pty Ltd\r',
      '1,2,3,"A ""quoted"" name"',
      '5,4,1,end before start',
      'x,1,1,not a number',
      '1,2',
      '',
    ].join('\n');
    const { ranges, skipped } = parseAsnCsv(text);
    expect(ranges).toEqual([
      { start: 16777216n, end: 16777471n, asn: 13335, org: 'Cloudflare, Inc.' },
      { start: 16778240n, end: 16779263n, asn: 38803, org: 'Gtelecom Pty Ltd' },
      { start: 1n, end: 2n, asn: 3, org: 'A "quoted" name' },
    ]);
    expect(skipped).toBe(3);
  });
});

describe('AsnTable', () => {
  const v6 = (text: string): bigint => {
    const p = parseAddress(text);
    if (p?.version !== 6) throw new Error(text);
    return (p.hi << 64n) | p.lo;
  };
  const table = new AsnTable(
    encodeAsnTable(
      [
        { start: 0x01010100n, end: 0x010101ffn, asn: 13335, org: 'Cloudflare, Inc.' },
        { start: 0x08080800n, end: 0x080808ffn, asn: 15169, org: 'Google LLC' },
        { start: 0x08080900n, end: 0x080809ffn, asn: 15169, org: 'Google LLC' }, // continues: merged
        { start: 0xc1000000n, end: 0xc10007ffn, asn: 3333, org: 'RIPE NCC' },
      ],
      [
        {
          start: v6('2001:4860::'),
          end: v6('2001:4860:ffff:ffff:ffff:ffff:ffff:ffff'),
          asn: 15169,
          org: 'Google LLC',
        },
        { start: v6('2a00:1450::'), end: v6('2a00:1450::ffff'), asn: 15169, org: 'Google LLC' },
      ],
      SOURCE,
    ),
  );

  it('answers inside a range, at both of its ends, and nothing in the gaps', () => {
    expect(table.ranges).toEqual({ v4: 3, v6: 2 });
    expect(table.source).toEqual(SOURCE);
    expect(table.lookupV4(0x01010101)).toEqual({ asn: 13335, org: 'Cloudflare, Inc.' });
    expect(table.lookupV4(0x08080800)).toEqual({ asn: 15169, org: 'Google LLC' });
    expect(table.lookupV4(0x080809ff)).toEqual({ asn: 15169, org: 'Google LLC' });
    expect(table.lookupV4(0x08080a00)).toBeUndefined();
    expect(table.lookupV4(0x010100ff)).toBeUndefined();
    expect(table.lookupV4(0)).toBeUndefined();
    expect(table.lookupV4(0xffffffff)).toBeUndefined();
    const at = (text: string) => {
      const p = parseAddress(text);
      return p?.version === 6 ? table.lookupV6(p.hi, p.lo) : undefined;
    };
    expect(at('2001:4860:4860::8888')?.asn).toBe(15169);
    expect(at('2a00:1450::ffff')?.asn).toBe(15169);
    expect(at('2a00:1450::1:0')).toBeUndefined(); // past the end within the same /64
    expect(at('2001:485f:ffff:ffff:ffff:ffff:ffff:ffff')).toBeUndefined();
    expect(at('::2')).toBeUndefined();
  });

  it('refuses bytes that are not a table, or a truncated one, with E_FORMAT', () => {
    const good = encodeAsnTable([{ start: 1n, end: 2n, asn: 1, org: 'x' }], [], SOURCE);
    expect(() => new AsnTable(Buffer.from('not a table at all, not even close'))).toThrow(/bad magic/);
    for (const cut of [0, 8, 31, good.length - 1]) {
      try {
        new AsnTable(good.subarray(0, cut));
        expect.unreachable();
      } catch (e) {
        expect(isGeoError(e, 'E_FORMAT')).toBe(true);
      }
    }
  });

  it('reads a table from an unaligned buffer', () => {
    const good = encodeAsnTable([{ start: 5n, end: 9n, asn: 64500, org: 'Example' }], [], SOURCE);
    const shifted = Buffer.alloc(good.length + 3);
    good.copy(shifted, 3);
    expect(new AsnTable(shifted.subarray(3)).lookupV4(7)).toEqual({ asn: 64500, org: 'Example' });
  });
});
