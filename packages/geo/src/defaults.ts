import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The country database installed with this package (ip-location-db's geo-whois-asn-country, CC0-1.0). */
export function bundledCountryPath(): string {
  const pkg = createRequire(import.meta.url).resolve(
    '@ip-location-db/geo-whois-asn-country-mmdb/package.json',
  );
  return join(dirname(pkg), 'geo-whois-asn-country.mmdb');
}

/** The AS table built from ip-location-db's asn CSV when this package was built (CC BY 4.0). */
export function bundledAsnPath(): string {
  // dist/asn.bin, which scripts/build-asn-table.mjs writes after tsup: `..` from dist/index.js
  // (and .cjs) as from src/defaults.ts when run from source.
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'asn.bin');
}

/** What a page or report that shows results from the bundled databases must say (their licences ask for it). */
export const ATTRIBUTION = {
  country: 'Country data: ip-location-db geo-whois-asn-country (CC0-1.0), from NRO and RIR whois data.',
  asn: 'AS data: ip-location-db asn (CC BY 4.0) by RouteViews, NRO and DB-IP; IP to ASN Lite data by DB-IP (https://db-ip.com).',
  /** The link DB-IP's licence asks web pages showing its data to carry. */
  link: { href: 'https://db-ip.com', text: 'IP Geolocation by DB-IP' },
} as const;
