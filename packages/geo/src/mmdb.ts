import { Reader, type Response } from 'mmdb-lib';
import { GeoError, readDatabase } from './errors';

/** What an MMDB record says about an address, whichever vendor laid it out. */
export interface MmdbAnswer {
  country?: string;
  asn?: number;
  asOrg?: string;
}

/** A database file's description, for `--version`-like reports and attribution. */
export interface DatabaseInfo {
  path: string;
  /** `databaseType` from the file's metadata (`GeoLite2-Country`, `country`, `ipinfo standard_location.mmdb`, ...). */
  type: string;
  /** When the file was built (ms since 1970), from its metadata. */
  builtAt: number;
}

type Record_ = Record<string, unknown>;

/**
 * An MMDB file (MaxMind DB format 2.0) read with mmdb-lib, answering country and AS from the record
 * layouts in use: MaxMind GeoLite2 and DB-IP (`country.iso_code`, `registered_country.iso_code`,
 * `autonomous_system_number`, `autonomous_system_organization`), IPinfo (`country_code` or
 * `country`, `asn` as `"AS15169"`, `as_name`) and ip-location-db (`country_code`).
 */
export class MmdbFile {
  readonly info: DatabaseInfo;
  private readonly reader: Reader<Response>;

  /** Reads the whole file once; throws GeoError (E_OPEN, E_FORMAT). */
  static open(path: string): MmdbFile {
    return new MmdbFile(readDatabase(path), path);
  }

  constructor(bytes: Buffer, path = '(buffer)') {
    try {
      this.reader = new Reader<Response>(bytes);
    } catch (cause) {
      throw new GeoError('E_FORMAT', path, `not an MMDB database (${(cause as Error).message})`, { cause });
    }
    const m = this.reader.metadata;
    this.info = { path, type: m.databaseType, builtAt: m.buildEpoch.getTime() };
  }

  /** What the record for `address` says; empty when there is none (or the file's data is corrupt there). */
  lookup(address: string): MmdbAnswer {
    let record: Record_ | null;
    try {
      record = this.reader.get(address) as Record_ | null;
    } catch {
      return {}; // a corrupt data section for this address: no answer rather than a crash
    }
    return record ? fieldsOf(record) : {};
  }
}

/** The country and AS fields of one record. */
export function fieldsOf(record: Record_): MmdbAnswer {
  const out: MmdbAnswer = {};
  const country =
    isoCode(record.country) ??
    isoCode(record.registered_country) ??
    code(record.country_code) ??
    code(record.country);
  if (country) out.country = country;
  const asn = asNumber(record.autonomous_system_number) ?? asNumber(record.asn);
  if (asn !== undefined) out.asn = asn;
  const org =
    text(record.autonomous_system_organization) ?? text(record.as_name) ?? text(record.as_organization);
  if (org !== undefined && asn !== undefined) out.asOrg = org;
  return out;
}

function isoCode(value: unknown): string | undefined {
  return value && typeof value === 'object' ? code((value as Record_).iso_code) : undefined;
}

/** A two-letter ISO 3166-1 code, upper-cased. */
function code(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z]{2}$/.test(value) ? value.toUpperCase() : undefined;
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const m = /^(?:AS)?([0-9]{1,10})$/i.exec(value);
    if (m) return Number(m[1]);
  }
  return undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
