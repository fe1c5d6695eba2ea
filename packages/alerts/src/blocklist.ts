import { readFileSync, statSync } from 'node:fs';
import { parseAddress } from '@netwho/geo';
import { AlertConfigError } from './errors';

/** A line of a blocklist that is not an address or a CIDR block. */
export interface BlocklistProblem {
  file: string;
  line: number;
  text: string;
}

interface Ranges {
  /** IPv4: sorted, merged [start, end] pairs of 32-bit numbers. */
  v4: number[];
  /** IPv6: the same with 128-bit numbers. */
  v6: bigint[];
}

/**
 * Addresses and CIDR blocks (`203.0.113.7`, `198.51.100.0/24`, `2001:db8::/32`), one a line,
 * `#` starting a comment, blank lines ignored; what does not parse is skipped and reported.
 * Lookups are binary searches over merged ranges.
 */
export class Blocklist {
  private ranges: Ranges = { v4: [], v6: [] };
  problems: BlocklistProblem[] = [];
  /** Entries read (addresses and blocks). */
  entries = 0;

  /** The list in `texts` (one text per file, with its name for problems). */
  static parse(texts: Array<{ file: string; text: string }>): Blocklist {
    const list = new Blocklist();
    list.load(texts);
    return list;
  }

  /** Replaces the list with what `texts` hold. */
  load(texts: Array<{ file: string; text: string }>): void {
    const v4: Array<[number, number]> = [];
    const v6: Array<[bigint, bigint]> = [];
    const problems: BlocklistProblem[] = [];
    let entries = 0;
    for (const { file, text } of texts) {
      text.split('\n').forEach((raw, i) => {
        const entry = raw.replace(/#.*/, '').trim();
        if (!entry) return;
        const range = parseEntry(entry);
        if (!range) {
          if (problems.length < 100) problems.push({ file, line: i + 1, text: entry.slice(0, 80) });
          return;
        }
        entries++;
        if (range.v4) v4.push(range.v4);
        else v6.push(range.v6!);
      });
    }
    this.ranges = { v4: mergeNumbers(v4), v6: mergeBigints(v6) };
    this.problems = problems;
    this.entries = entries;
  }

  /** Whether `address` (text) is listed. */
  has(address: string): boolean {
    const a = parseAddress(address);
    if (!a) return false;
    if (a.version === 4) return inRanges(this.ranges.v4, a.v4);
    return inRanges(this.ranges.v6, (a.hi << 64n) | a.lo);
  }
}

/**
 * A blocklist read from files and read again when one of them changes (its mtime or size, looked at
 * at most every `checkEveryMs`). A file that cannot be read at the start is an AlertConfigError; one
 * that goes missing later leaves the last list in place and says so in `problems`.
 */
export class BlocklistFiles {
  readonly list = new Blocklist();
  private stamps = '';
  private checkedAt = 0;
  reloads = 0;
  /** Why the last reload could not read a file, if it could not. */
  lastError: string | undefined;

  constructor(
    readonly files: string[],
    private readonly checkEveryMs = 2000,
  ) {
    for (const file of files) {
      try {
        statSync(file);
      } catch (error) {
        throw new AlertConfigError(
          file,
          '',
          `blocklist cannot be read (${(error as NodeJS.ErrnoException).code})`,
        );
      }
    }
    this.refresh(0, true);
  }

  /** Whether `address` is listed, after reading the files again if they changed. */
  has(address: string, nowMs: number): boolean {
    this.refresh(nowMs);
    return this.list.has(address);
  }

  /** Reads the files again when they changed since the last look (at most every checkEveryMs). */
  refresh(nowMs: number, force = false): void {
    if (!force && nowMs - this.checkedAt < this.checkEveryMs) return;
    this.checkedAt = nowMs;
    let stamps: string;
    try {
      stamps = this.files
        .map((f) => {
          const s = statSync(f);
          return `${s.mtimeMs}:${s.size}`;
        })
        .join(',');
    } catch (error) {
      this.lastError = `a blocklist cannot be read (${(error as NodeJS.ErrnoException).code}): keeping the last list`;
      return;
    }
    if (!force && stamps === this.stamps) return;
    try {
      this.list.load(this.files.map((file) => ({ file, text: readFileSync(file, 'utf8') })));
      this.stamps = stamps;
      this.lastError = undefined;
      if (!force) this.reloads++;
    } catch (error) {
      this.lastError = `a blocklist cannot be read (${(error as NodeJS.ErrnoException).code}): keeping the last list`;
    }
  }
}

function parseEntry(entry: string): { v4?: [number, number]; v6?: [bigint, bigint] } | undefined {
  const slash = entry.indexOf('/');
  const address = parseAddress(slash < 0 ? entry : entry.slice(0, slash));
  if (!address) return undefined;
  const bitsText = slash < 0 ? undefined : entry.slice(slash + 1);
  if (bitsText !== undefined && !/^[0-9]{1,3}$/.test(bitsText)) return undefined;
  // An IPv4-mapped address is its IPv4 address; its prefix counts the IPv6 bits.
  const mapped = address.version === 4 && entry.includes(':');
  if (address.version === 4) {
    const max = mapped ? 128 : 32;
    const bits = bitsText === undefined ? max : Number(bitsText) - (mapped ? 96 : 0);
    if (bits < 0 || bits > 32 || Number(bitsText ?? max) > max) return undefined;
    const size = 2 ** (32 - bits);
    const start = Math.floor(address.v4 / size) * size;
    return { v4: [start, start + size - 1] };
  }
  const bits = bitsText === undefined ? 128 : Number(bitsText);
  if (bits > 128) return undefined;
  const value = (address.hi << 64n) | address.lo;
  const hostBits = BigInt(128 - bits);
  const start = (value >> hostBits) << hostBits;
  return { v6: [start, start + (1n << hostBits) - 1n] };
}

function mergeNumbers(ranges: Array<[number, number]>): number[] {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [s, e] of ranges) {
    if (out.length > 0 && s <= out[out.length - 1]! + 1)
      out[out.length - 1] = Math.max(out[out.length - 1]!, e);
    else out.push(s, e);
  }
  return out;
}

function mergeBigints(ranges: Array<[bigint, bigint]>): bigint[] {
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: bigint[] = [];
  for (const [s, e] of ranges) {
    const last = out.length - 1;
    // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.max does not take
    if (out.length > 0 && s <= out[last]! + 1n) out[last] = out[last]! > e ? out[last]! : e;
    else out.push(s, e);
  }
  return out;
}

/** Binary search over flat [start, end, start, end, ...] pairs. */
function inRanges<T extends number | bigint>(flat: T[], value: T): boolean {
  let lo = 0;
  let hi = flat.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (flat[mid * 2]! <= value) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi >= 0 && value <= flat[hi * 2 + 1]!;
}
