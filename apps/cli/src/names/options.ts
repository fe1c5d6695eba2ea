import { Geo } from '@netwho/geo';
import type { NamesOptions } from '@netwho/monitor';
import type { Command } from 'commander';
import { toCliError } from '../errors';

/** The options every command that shows remote ends takes: where names, countries and AS come from. */
export function addNameOptions(command: Command): Command {
  return command
    .option('--geoip <file>', 'countries from this MMDB file (GeoLite2 Country/City, DB-IP, IPinfo)')
    .option('--asn <file>', 'AS numbers from this MMDB file (GeoLite2 ASN, DB-IP ASN, IPinfo ASN)')
    .option('--no-geo', 'no country or AS (the bundled databases are not opened)');
}

export interface NameFlags {
  /** --no-dns turns reverse DNS off (names from SNI, Host and DNS answers stay). */
  dns?: boolean;
  geo?: boolean;
  geoip?: string;
  asn?: string;
}

/** The monitor's names options for these flags; a database that cannot be opened is a CliError (exit 2 or 3). */
export function namesFrom(flags: NameFlags): NamesOptions {
  return { reverseDns: flags.dns !== false, geo: openGeo(flags) ?? false };
}

/** The Geo the flags ask for (undefined for --no-geo). */
export function openGeo(flags: NameFlags): Geo | undefined {
  if (flags.geo === false) return undefined;
  try {
    return Geo.open({ ...(flags.geoip && { country: flags.geoip }), ...(flags.asn && { asn: flags.asn }) });
  } catch (error) {
    throw toCliError(error);
  }
}
