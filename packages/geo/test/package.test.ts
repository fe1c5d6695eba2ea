import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testPackageEntry } from '../../../test-utils/package-entry';

const dir = join(import.meta.dirname, '..');

describe('package entry', () => {
  testPackageEntry(dir, [
    'ATTRIBUTION',
    'AsnTable',
    'Geo',
    'GeoError',
    'MmdbFile',
    'bundledAsnPath',
    'bundledCountryPath',
    'encodeAsnTable',
    'fieldsOf',
    'isGeoError',
    'parseAddress',
    'parseAsnCsv',
    'scopeOf',
    'version',
  ]);

  it('finds its bundled databases from the built ESM and CJS entries', () => {
    const load = {
      import: "const m = await import('@netwho/geo');",
      require: "const m = (await import('node:module')).createRequire(process.cwd() + '/')('@netwho/geo');",
    };
    for (const script of Object.values(load)) {
      const out = execFileSync(
        process.execPath,
        ['--input-type=module', '-e', `${script} console.log(m.Geo.open().lookup('8.8.8.8').asn)`],
        { cwd: dir, encoding: 'utf8' },
      );
      expect(out.trim()).toBe('15169');
    }
  });
});
