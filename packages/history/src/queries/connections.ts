import type { Database } from 'better-sqlite3';
import type { ConnectionQuery, ConnectionRecord, HostTotal, PortTotal } from '../types';
import { limitOf, PROGRAM_IDS, split } from './common';

const IN_RANGE = `c.end >= @from AND c.end < @to AND (@program IS NULL OR c.program IN ${PROGRAM_IDS})`;

function params(query: ConnectionQuery) {
  return { from: query.from, to: query.to, program: query.program ?? null, limit: limitOf(query.limit) };
}

/** Connections that ended in the range, the latest first. */
export function connectionRows(db: Database, query: ConnectionQuery): ConnectionRecord[] {
  const sql = `
    SELECT c.start, c.end, c.protocol, l.address AS local_address, c.local_port, r.address AS remote_address,
      c.remote_port, r.name AS remote_name, r.country, r.asn, r.as_org, c.bytes_in, c.bytes_out, c.packets_in,
      c.packets_out, c.open, p.name, p.path, p.unit, p.container, c.peer, q.name AS peer_name, q.path AS peer_path,
      q.unit AS peer_unit, q.container AS peer_container
    FROM connections c JOIN programs p ON p.id = c.program LEFT JOIN programs q ON q.id = c.peer
      JOIN addresses l ON l.id = c.local JOIN addresses r ON r.id = c.remote
    WHERE ${IN_RANGE}
    ORDER BY c.end DESC LIMIT @limit`;
  return (db.prepare(sql).all(params(query)) as ConnectionRow[]).map((r) => ({
    start: r.start,
    end: r.end,
    protocol: r.protocol,
    localAddress: r.local_address,
    localPort: r.local_port,
    remoteAddress: r.remote_address,
    remotePort: r.remote_port,
    program: { name: r.name, path: r.path, unit: r.unit, container: r.container },
    ...(r.peer !== null && {
      peer: { name: r.peer_name, path: r.peer_path, unit: r.peer_unit, container: r.peer_container },
    }),
    ...(r.remote_name !== '' && { remoteName: r.remote_name }),
    ...(r.country !== null && { country: r.country }),
    ...(r.asn !== null && { asn: r.asn }),
    ...(r.as_org !== null && { asOrg: r.as_org }),
    bytesIn: r.bytes_in,
    bytesOut: r.bytes_out,
    packetsIn: r.packets_in,
    packetsOut: r.packets_out,
    ...(r.open === 1 && { open: true }),
  }));
}

/** Per remote host (the name it was reached by when known, else its address), of the connections that ended in the range. */
export function hostTotals(db: Database, query: ConnectionQuery): HostTotal[] {
  const sql = `
    SELECT CASE WHEN r.name = '' THEN r.address ELSE r.name END AS host, COUNT(*) AS connections,
      SUM(c.bytes_in) AS bytesIn, SUM(c.bytes_out) AS bytesOut, MAX(r.country) AS country, MAX(r.asn) AS asn,
      MAX(r.as_org) AS asOrg, group_concat(DISTINCT r.address) AS addresses, group_concat(DISTINCT p.name) AS programs
    FROM connections c JOIN addresses r ON r.id = c.remote JOIN programs p ON p.id = c.program
    WHERE ${IN_RANGE}
    GROUP BY host ORDER BY bytesIn + bytesOut DESC LIMIT @limit`;
  return (db.prepare(sql).all(params(query)) as HostRow[]).map((r) => ({
    host: r.host,
    addresses: split(r.addresses),
    ...(r.country !== null && { country: r.country }),
    ...(r.asn !== null && { asn: r.asn }),
    ...(r.asOrg !== null && { asOrg: r.asOrg }),
    connections: r.connections,
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    programs: split(r.programs),
  }));
}

/** Per protocol and service port (the lower of the connection's two ports), of the connections that ended in the range. */
export function portTotals(db: Database, query: ConnectionQuery): PortTotal[] {
  const sql = `
    SELECT c.protocol, MIN(c.local_port, c.remote_port) AS port, COUNT(*) AS connections,
      SUM(c.bytes_in) AS bytesIn, SUM(c.bytes_out) AS bytesOut, group_concat(DISTINCT p.name) AS programs
    FROM connections c JOIN programs p ON p.id = c.program
    WHERE ${IN_RANGE}
    GROUP BY c.protocol, port ORDER BY bytesIn + bytesOut DESC LIMIT @limit`;
  return (db.prepare(sql).all(params(query)) as PortRow[]).map((r) => ({
    protocol: r.protocol,
    port: r.port,
    connections: r.connections,
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    programs: split(r.programs),
  }));
}

interface ConnectionRow {
  start: number;
  end: number;
  protocol: string;
  local_address: string;
  local_port: number;
  remote_address: string;
  remote_port: number;
  remote_name: string;
  country: string | null;
  asn: number | null;
  as_org: string | null;
  bytes_in: number;
  bytes_out: number;
  packets_in: number;
  packets_out: number;
  open: number;
  name: string;
  path: string;
  unit: string;
  container: string;
  peer: number | null;
  peer_name: string;
  peer_path: string;
  peer_unit: string;
  peer_container: string;
}

interface HostRow {
  host: string;
  connections: number;
  bytesIn: number;
  bytesOut: number;
  country: string | null;
  asn: number | null;
  asOrg: string | null;
  addresses: string | null;
  programs: string | null;
}

interface PortRow {
  protocol: string;
  port: number;
  connections: number;
  bytesIn: number;
  bytesOut: number;
  programs: string | null;
}
