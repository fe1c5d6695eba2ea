import { type AsnAnswer, AsnTable } from './asn-table';
import { bundledAsnPath, bundledCountryPath } from './defaults';
import { readDatabase } from './errors';
import { type ParsedAddress, parseAddress } from './ip';
import { type DatabaseInfo, MmdbFile } from './mmdb';
import { type AddressScope, scopeOf } from './scope';

export interface GeoOptions {
  /**
   * An MMDB file to take countries from: MaxMind GeoLite2 Country or City, DB-IP, IPinfo,
   * ip-location-db. Default: the database installed with this package; `false`: no countries.
   */
  country?: string | false;
  /**
   * An MMDB file to take AS numbers and organisations from (GeoLite2 ASN, DB-IP ASN, IPinfo ASN),
   * or a table this package built. Default: the table installed with this package; `false`: no AS.
   */
  asn?: string | false;
  /** Answers kept, at most; past it the least recently used is forgotten (and counted). Default 16,384. */
  maxEntries?: number;
}

/** What is known of an address's place on the internet. */
export interface GeoInfo {
  scope: AddressScope;
  /** ISO 3166-1 alpha-2 code (`US`), for public addresses a database places. */
  country?: string;
  /** The autonomous system announcing it (`15169`), and its organisation (`Google LLC`). */
  asn?: number;
  asOrg?: string;
}

export interface GeoStats {
  lookups: number;
  cacheHits: number;
  /** Answers forgotten because the cache was full. */
  evictions: number;
  entries: number;
}

/** The files answering, as opened. */
export interface GeoDatabases {
  country?: DatabaseInfo;
  asn?: DatabaseInfo & { source?: { package: string; version: string } };
}

type AsnSource = {
  lookup(address: ParsedAddress, text: string): AsnAnswer | undefined;
  info: GeoDatabases['asn'];
};

/**
 * Country and AS of addresses, from MMDB files or the bundled databases, with a bounded cache.
 * Private, loopback, link-local, CGNAT, documentation and other special ranges are answered with
 * their scope and never looked up. Lookups never throw; opening does (GeoError).
 */
export class Geo {
  readonly databases: GeoDatabases;
  private readonly countryFile: MmdbFile | undefined;
  private readonly asnSource: AsnSource | undefined;
  private readonly cache = new Map<string, GeoInfo>();
  private readonly maxEntries: number;
  private readonly counts = { lookups: 0, cacheHits: 0, evictions: 0 };

  /** Opens the databases (the bundled ones unless told otherwise); throws GeoError E_OPEN or E_FORMAT. */
  static open(options: GeoOptions = {}): Geo {
    const country =
      options.country === false ? undefined : MmdbFile.open(options.country ?? bundledCountryPath());
    const asn = options.asn === false ? undefined : openAsn(options.asn ?? bundledAsnPath());
    return new Geo(country, asn, options.maxEntries ?? 16_384);
  }

  private constructor(country: MmdbFile | undefined, asn: AsnSource | undefined, maxEntries: number) {
    this.countryFile = country;
    this.asnSource = asn;
    this.maxEntries = maxEntries;
    this.databases = {
      ...(country && { country: country.info }),
      ...(asn && { asn: asn.info }),
    };
  }

  /** The scope, country and AS of `address` (text, IPv4 or IPv6). The same object for the same address while cached. */
  lookup(address: string): GeoInfo {
    this.counts.lookups++;
    const cached = this.cache.get(address);
    if (cached) {
      this.counts.cacheHits++;
      this.cache.delete(address);
      this.cache.set(address, cached);
      return cached;
    }
    const info = Object.freeze(this.answer(address));
    this.cache.set(address, info);
    if (this.cache.size > this.maxEntries) {
      this.cache.delete(this.cache.keys().next().value as string);
      this.counts.evictions++;
    }
    return info;
  }

  stats(): GeoStats {
    return { ...this.counts, entries: this.cache.size };
  }

  private answer(address: string): GeoInfo {
    const parsed = parseAddress(address);
    const scope = scopeOf(parsed);
    if (scope !== 'public' || !parsed) return { scope };
    const info: GeoInfo = { scope };
    const text = parsed.version === 4 ? v4Text(parsed.v4) : address;
    const fromCountry = this.countryFile?.lookup(text);
    if (fromCountry?.country) info.country = fromCountry.country;
    const as = this.asnSource?.lookup(parsed, text);
    if (as) {
      info.asn = as.asn;
      if (as.org) info.asOrg = as.org;
    }
    return info;
  }
}

/** netwho's AS table (by its magic) or an MMDB file with AS fields. */
function openAsn(path: string): AsnSource {
  const bytes = readDatabase(path);
  if (bytes.toString('latin1', 0, 5) === 'NWASN') {
    const table = new AsnTable(bytes, path);
    return {
      info: { path, type: 'netwho-asn', builtAt: 0, source: table.source },
      lookup: (a) => (a.version === 4 ? table.lookupV4(a.v4) : table.lookupV6(a.hi, a.lo)),
    };
  }
  const file = new MmdbFile(bytes, path);
  return {
    info: file.info,
    lookup: (_a, text) => {
      const r = file.lookup(text);
      return r.asn === undefined ? undefined : { asn: r.asn, org: r.asOrg ?? '' };
    },
  };
}

function v4Text(v4: number): string {
  return `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`;
}
