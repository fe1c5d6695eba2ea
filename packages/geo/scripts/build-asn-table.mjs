// Turns ip-location-db's AS ranges (CSV, ~45 MB) into the compact table this package reads in
// place (dist/asn.bin), once, when the package is built: no CSV is parsed at run time.
//   node scripts/build-asn-table.mjs [--out dist/asn.bin]
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeAsnTable, parseAsnCsv } from '../dist/index.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'dist/asn.bin' } } });
const started = performance.now();
const manifest = createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json');
const from = dirname(manifest);
const { name, version } = JSON.parse(readFileSync(manifest, 'utf8'));

const read = (file) => {
  const { ranges, skipped } = parseAsnCsv(readFileSync(join(from, file), 'utf8'));
  if (skipped > 0) console.warn(`${file}: ${skipped} lines skipped (not start,end,asn,org)`);
  return ranges;
};
const v4 = read('asn-ipv4-num.csv');
const v6 = read('asn-ipv6-num.csv');
const table = encodeAsnTable(v4, v6, { package: name, version });
writeFileSync(`${values.out}.tmp`, table);
renameSync(`${values.out}.tmp`, values.out);
const ms = Math.round(performance.now() - started);
console.log(
  `${values.out}: ${v4.length} IPv4 and ${v6.length} IPv6 ranges from ${name}@${version}, ${(table.length / 1048576).toFixed(1)} MiB, ${ms} ms`,
);
