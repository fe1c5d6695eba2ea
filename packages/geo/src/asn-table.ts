import { GeoError } from './errors';

/** One range of addresses announced by one AS (both ends included). */
export interface AsnRange {
  /** IPv4: 32-bit numbers; IPv6: 128-bit numbers. */
  start: bigint;
  end: bigint;
  asn: number;
  org: string;
}

/** Where a table's rows came from, kept in the file. */
export interface AsnTableSource {
  package: string;
  version: string;
}

const MAGIC = 'NWASN\0\x01\0'; // "NWASN", NUL, format version 1, NUL
const HEADER = 32;

/*
 * The file, little-endian, every section starting on an 8-byte boundary so that typed arrays view
 * it in place (nothing is parsed at load but the header):
 *   0  magic (8 bytes)
 *   8  u32 IPv4 ranges, u32 IPv6 ranges, u32 ASes, u32 bytes of names, u32 bytes of source JSON, u32 0
 *  32  IPv4: u32 start[n4], u32 end[n4], u32 as[n4] (an index into the AS list)
 *      IPv6: u64 startHi[n6], u64 startLo[n6], u64 endHi[n6], u64 endLo[n6], u32 as[n6]
 *      AS list: u32 number[nAs], u32 nameEnd[nAs] (offset of each name's end in the names)
 *      names (UTF-8, one after the other), then the source as JSON
 * Ranges are sorted by start and do not overlap.
 */

/** Lays out IPv4 and IPv6 ranges as the table file (ranges are sorted here; adjacent ranges of one AS merged). */
export function encodeAsnTable(v4: AsnRange[], v6: AsnRange[], source: AsnTableSource): Buffer {
  const byAs = new Map<number, { index: number; org: string }>();
  const indexOf = (r: AsnRange): number => {
    let entry = byAs.get(r.asn);
    if (!entry) {
      entry = { index: byAs.size, org: r.org };
      byAs.set(r.asn, entry);
    }
    return entry.index;
  };
  const rows4 = merge(v4);
  const rows6 = merge(v6);
  const as4 = rows4.map(indexOf);
  const as6 = rows6.map(indexOf);
  const names = Buffer.from([...byAs.values()].map((e) => e.org).join(''), 'utf8');
  const sourceJson = Buffer.from(JSON.stringify(source), 'utf8');
  const n4 = rows4.length;
  const n6 = rows6.length;
  const nAs = byAs.size;
  const layout = sections(n4, n6, nAs);
  const out = Buffer.alloc(layout.names + names.length + sourceJson.length);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(n4, 8);
  out.writeUInt32LE(n6, 12);
  out.writeUInt32LE(nAs, 16);
  out.writeUInt32LE(names.length, 20);
  out.writeUInt32LE(sourceJson.length, 24);
  rows4.forEach((r, i) => {
    out.writeUInt32LE(Number(r.start), layout.v4 + i * 4);
    out.writeUInt32LE(Number(r.end), layout.v4 + (n4 + i) * 4);
    out.writeUInt32LE(as4[i]!, layout.v4 + (2 * n4 + i) * 4);
  });
  const mask = 0xffffffffffffffffn;
  rows6.forEach((r, i) => {
    out.writeBigUInt64LE(r.start >> 64n, layout.v6 + i * 8);
    out.writeBigUInt64LE(r.start & mask, layout.v6 + (n6 + i) * 8);
    out.writeBigUInt64LE(r.end >> 64n, layout.v6 + (2 * n6 + i) * 8);
    out.writeBigUInt64LE(r.end & mask, layout.v6 + (3 * n6 + i) * 8);
    out.writeUInt32LE(as6[i]!, layout.v6 + 32 * n6 + i * 4);
  });
  let nameEnd = 0;
  [...byAs.entries()].forEach(([asn, e], i) => {
    nameEnd += Buffer.byteLength(e.org, 'utf8');
    out.writeUInt32LE(asn, layout.as + i * 4);
    out.writeUInt32LE(nameEnd, layout.as + (nAs + i) * 4);
  });
  names.copy(out, layout.names);
  sourceJson.copy(out, layout.names + names.length);
  return out;
}

/** The AS that announces an address, and its organisation. */
export interface AsnAnswer {
  asn: number;
  org: string;
}

/** A table file read in place: binary search over typed-array views of the file. */
export class AsnTable {
  readonly source: AsnTableSource;
  readonly ranges: { v4: number; v6: number };
  private readonly start4: Uint32Array;
  private readonly end4: Uint32Array;
  private readonly as4: Uint32Array;
  private readonly startHi: BigUint64Array;
  private readonly startLo: BigUint64Array;
  private readonly endHi: BigUint64Array;
  private readonly endLo: BigUint64Array;
  private readonly as6: Uint32Array;
  private readonly asNumbers: Uint32Array;
  private readonly nameEnds: Uint32Array;
  private readonly names: Buffer;
  private readonly namesAt: number;
  private readonly orgs = new Map<number, string>();

  /** Views `file` (the bytes encodeAsnTable made); throws GeoError E_FORMAT when they are not that. */
  constructor(file: Buffer, path = '(buffer)') {
    if (file.length < HEADER || file.toString('latin1', 0, 8) !== MAGIC)
      throw new GeoError('E_FORMAT', path, 'not a netwho AS table (bad magic)');
    const n4 = file.readUInt32LE(8);
    const n6 = file.readUInt32LE(12);
    const nAs = file.readUInt32LE(16);
    const namesLength = file.readUInt32LE(20);
    const sourceLength = file.readUInt32LE(24);
    const layout = sections(n4, n6, nAs);
    if (file.length !== layout.names + namesLength + sourceLength)
      throw new GeoError(
        'E_FORMAT',
        path,
        `truncated AS table (${file.length} bytes, header says ${layout.names + namesLength + sourceLength})`,
      );
    // Typed arrays need their element size's alignment: copy once if the Buffer is not aligned.
    const bytes = file.byteOffset % 8 === 0 ? file : copyOf(file);
    const ab = bytes.buffer;
    const at = bytes.byteOffset;
    this.start4 = new Uint32Array(ab, at + layout.v4, n4);
    this.end4 = new Uint32Array(ab, at + layout.v4 + n4 * 4, n4);
    this.as4 = new Uint32Array(ab, at + layout.v4 + n4 * 8, n4);
    this.startHi = new BigUint64Array(ab, at + layout.v6, n6);
    this.startLo = new BigUint64Array(ab, at + layout.v6 + n6 * 8, n6);
    this.endHi = new BigUint64Array(ab, at + layout.v6 + n6 * 16, n6);
    this.endLo = new BigUint64Array(ab, at + layout.v6 + n6 * 24, n6);
    this.as6 = new Uint32Array(ab, at + layout.v6 + n6 * 32, n6);
    this.asNumbers = new Uint32Array(ab, at + layout.as, nAs);
    this.nameEnds = new Uint32Array(ab, at + layout.as + nAs * 4, nAs);
    this.names = bytes;
    this.namesAt = layout.names;
    this.ranges = { v4: n4, v6: n6 };
    try {
      this.source = JSON.parse(bytes.toString('utf8', layout.names + namesLength, bytes.length));
    } catch (cause) {
      throw new GeoError('E_FORMAT', path, 'AS table source is not JSON', { cause });
    }
  }

  /** The AS announcing the IPv4 address `v4` (a 32-bit number). */
  lookupV4(v4: number): AsnAnswer | undefined {
    let lo = 0;
    let hi = this.start4.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.start4[mid]! <= v4) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && v4 <= this.end4[hi]! ? this.answer(this.as4[hi]!) : undefined;
  }

  /** The AS announcing the IPv6 address whose halves are `high` and `low`. */
  lookupV6(high: bigint, low: bigint): AsnAnswer | undefined {
    let lo = 0;
    let hi = this.startHi.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const h = this.startHi[mid]!;
      if (h < high || (h === high && this.startLo[mid]! <= low)) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0) return undefined;
    const eh = this.endHi[hi]!;
    return high < eh || (high === eh && low <= this.endLo[hi]!) ? this.answer(this.as6[hi]!) : undefined;
  }

  private answer(index: number): AsnAnswer {
    let org = this.orgs.get(index);
    if (org === undefined) {
      const start = index === 0 ? 0 : this.nameEnds[index - 1]!;
      org = this.names.toString('utf8', this.namesAt + start, this.namesAt + this.nameEnds[index]!);
      if (this.orgs.size < 65_536) this.orgs.set(index, org);
    }
    return { asn: this.asNumbers[index]!, org };
  }
}

/** Byte offsets of the sections for these counts. */
function sections(
  n4: number,
  n6: number,
  nAs: number,
): { v4: number; v6: number; as: number; names: number } {
  const v4 = HEADER;
  const v6 = align8(v4 + n4 * 12);
  const as = align8(v6 + n6 * 36);
  return { v4, v6, as, names: as + nAs * 8 };
}

function copyOf(file: Buffer): Buffer {
  const copy = Buffer.alloc(file.length); // not from the pool: its own ArrayBuffer, offset 0
  file.copy(copy);
  return copy;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Sorted by start, with a range that continues the previous one's AS folded into it. */
function merge(ranges: AsnRange[]): AsnRange[] {
  const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: AsnRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && last.asn === r.asn && last.end + 1n === r.start) last.end = r.end;
    else if (last && r.start <= last.end)
      continue; // an overlap: the first range listed wins
    else out.push({ ...r });
  }
  return out;
}
