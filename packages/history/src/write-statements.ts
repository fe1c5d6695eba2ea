import type { Database, Statement } from 'better-sqlite3';

/** The columns of a connections row, and how many rows one batched INSERT carries. */
export const CONNECTION_COLUMNS = 14;
export const BATCH = 100;

/** The statements a writer runs, prepared once (schema.ts has the tables). */
export interface WriteStatements {
  program: Statement;
  address: Statement;
  sample: Statement;
  hourly: Statement;
  minutes: Statement;
  connection: Statement;
  connections: Statement;
  count: Statement;
  pruneSamples: Statement;
  pruneMinutes: Statement;
  pruneHourly: Statement;
  pruneConnections: Statement;
}

/**
 * Prepares them. Each interval's row adds to its program's 10 min and hourly rows (and to a 10 s
 * row of the same start, if one was written): bytes and packets are summed, the connection count
 * and the peak rates take the larger, first and last times widen.
 */
export function prepareWriteStatements(db: Database): WriteStatements {
  const insertConnection = `INSERT INTO connections (start, end, protocol, local, local_port, remote, remote_port,
    program, peer, bytes_in, bytes_out, packets_in, packets_out, open)`;
  const row = `(${new Array(CONNECTION_COLUMNS).fill('?').join(', ')})`;
  const sum = `bytes_in = bytes_in + excluded.bytes_in, bytes_out = bytes_out + excluded.bytes_out,
    packets_in = packets_in + excluded.packets_in, packets_out = packets_out + excluded.packets_out`;
  return {
    program: db.prepare(
      `INSERT INTO programs (name, path, unit, container, user, first_seen) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (name, path, unit, container, user) DO UPDATE SET first_seen = MIN(first_seen, excluded.first_seen)
       RETURNING id`,
    ),
    sample: db.prepare(
      `INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (at, program) DO UPDATE SET ${sum}, connections = MAX(connections, excluded.connections),
         peak_in = MAX(peak_in, excluded.peak_in), peak_out = MAX(peak_out, excluded.peak_out)`,
    ),
    hourly: db.prepare(
      `INSERT INTO hourly VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (at, program) DO UPDATE SET ${sum}, first_at = MIN(first_at, excluded.first_at),
         last_at = MAX(last_at, excluded.last_at), connections = MAX(connections, excluded.connections),
         peak_in = MAX(peak_in, excluded.peak_in), peak_out = MAX(peak_out, excluded.peak_out)`,
    ),
    minutes: db.prepare(
      `INSERT INTO minutes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (at, program) DO UPDATE SET ${sum}, first_at = MIN(first_at, excluded.first_at),
         last_at = MAX(last_at, excluded.last_at), connections = MAX(connections, excluded.connections),
         peak_in = MAX(peak_in, excluded.peak_in), peak_out = MAX(peak_out, excluded.peak_out)`,
    ),
    address: db.prepare(
      `INSERT INTO addresses (address, name, country, asn, as_org) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (address, name) DO UPDATE SET country = COALESCE(country, excluded.country),
         asn = COALESCE(asn, excluded.asn), as_org = COALESCE(as_org, excluded.as_org)
       RETURNING id`,
    ),
    connection: db.prepare(`${insertConnection} VALUES ${row}`),
    connections: db.prepare(`${insertConnection} VALUES ${new Array(BATCH).fill(row).join(', ')}`),
    count: db.prepare('UPDATE counters SET value = value + ? WHERE name = ?'),
    pruneSamples: db.prepare('DELETE FROM samples WHERE at < ?'),
    pruneMinutes: db.prepare('DELETE FROM minutes WHERE at < ?'),
    pruneHourly: db.prepare('DELETE FROM hourly WHERE at < ?'),
    pruneConnections: db.prepare('DELETE FROM connections WHERE end < ?'),
  };
}
