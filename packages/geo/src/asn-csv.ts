import type { AsnRange } from './asn-table';

/**
 * Rows of ip-location-db's numeric AS CSV (`asn-ipv4-num.csv`, `asn-ipv6-num.csv`): `start,end,asn,org`
 * with the ends as decimal numbers and the organisation quoted when it holds a comma (RFC 4180
 * quoting, `""` for a quote). Lines that do not fit are skipped and counted.
 */
export function parseAsnCsv(text: string): { ranges: AsnRange[]; skipped: number } {
  const ranges: AsnRange[] = [];
  let skipped = 0;
  let at = 0;
  while (at < text.length) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    const line = text.charCodeAt(end - 1) === 13 ? text.slice(at, end - 1) : text.slice(at, end);
    at = end + 1;
    if (line === '') continue;
    const row = parseLine(line);
    if (row) ranges.push(row);
    else skipped++;
  }
  return { ranges, skipped };
}

function parseLine(line: string): AsnRange | undefined {
  const c1 = line.indexOf(',');
  const c2 = line.indexOf(',', c1 + 1);
  const c3 = line.indexOf(',', c2 + 1);
  if (c1 < 0 || c2 < 0 || c3 < 0) return undefined;
  const start = decimal(line.slice(0, c1));
  const end = decimal(line.slice(c1 + 1, c2));
  const asn = Number(line.slice(c2 + 1, c3));
  if (
    start === undefined ||
    end === undefined ||
    end < start ||
    !Number.isInteger(asn) ||
    asn < 0 ||
    asn > 0xffffffff
  )
    return undefined;
  let org = line.slice(c3 + 1);
  if (org.startsWith('"')) {
    if (!org.endsWith('"') || org.length < 2) return undefined;
    org = org.slice(1, -1).replaceAll('""', '"');
  }
  return { start, end, asn, org };
}

function decimal(text: string): bigint | undefined {
  return /^[0-9]{1,39}$/.test(text) ? BigInt(text) : undefined;
}
