export { parseAsnCsv } from './asn-csv';
export { type AsnAnswer, type AsnRange, AsnTable, type AsnTableSource, encodeAsnTable } from './asn-table';
export { ATTRIBUTION, bundledAsnPath, bundledCountryPath } from './defaults';
export { GeoError, type GeoErrorCode, isGeoError } from './errors';
export { Geo, type GeoDatabases, type GeoInfo, type GeoOptions, type GeoStats } from './geo';
export { type ParsedAddress, parseAddress } from './ip';
export { type DatabaseInfo, fieldsOf, type MmdbAnswer, MmdbFile } from './mmdb';
export { type AddressScope, scopeOf } from './scope';
export { version } from './version';
