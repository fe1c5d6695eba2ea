// Benchmark of @netwho/geo. Run with `pnpm bench` (after `pnpm build`).
//   node bench/run.mjs [--lookups 200000]
// 1. Opening the AS data: netwho's table, read in place, against parsing ip-location-db's CSV at
//    start-up (what a program without a build step does), in the same run.
// 2. Lookups of random public addresses (country + AS, uncached) and of repeated ones (cached).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { AsnTable, bundledAsnPath, Geo, parseAsnCsv } from '../dist/index.js';

const { values } = parseArgs({ options: { lookups: { type: 'string', default: '200000' } } });
const lookups = Number(values.lookups);

const time = (fn) => {
  const t = performance.now();
  const value = fn();
  return { ms: performance.now() - t, value };
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const csvDir = dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json'));
const tableOpen = median(
  [1, 2, 3, 4, 5].map(() => time(() => new AsnTable(readFileSync(bundledAsnPath()))).ms),
);
const csvOpen = median(
  [1, 2, 3].map(
    () =>
      time(() => {
        parseAsnCsv(readFileSync(join(csvDir, 'asn-ipv4-num.csv'), 'utf8'));
        parseAsnCsv(readFileSync(join(csvDir, 'asn-ipv6-num.csv'), 'utf8'));
      }).ms,
  ),
);
console.log(
  `open AS data: table ${tableOpen.toFixed(1)} ms, CSV parse ${csvOpen.toFixed(0)} ms: ${(csvOpen / tableOpen).toFixed(0)}x faster`,
);

let seed = 1;
const random = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed;
};
const addresses = Array.from({ length: lookups }, () => {
  const v = random();
  return `${((v >>> 24) % 223) + 1}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
});
const geo = Geo.open({ maxEntries: 1024 });
const cold = time(() => {
  let found = 0;
  for (const a of addresses) if (geo.lookup(a).asn !== undefined) found++;
  return found;
});
const warm = time(() => {
  for (let i = 0; i < lookups; i++) geo.lookup(addresses[i & 511]);
});
console.log(
  `lookups: ${Math.round(lookups / (cold.ms / 1000)).toLocaleString('en')}/s uncached (${((cold.value / lookups) * 100).toFixed(0)}% with an AS), ${Math.round(lookups / (warm.ms / 1000)).toLocaleString('en')}/s cached`,
);
