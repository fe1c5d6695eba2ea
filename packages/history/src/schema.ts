import type { Database } from 'better-sqlite3';
import { HistoryError } from './errors';

/**
 * The schema, as a list of migrations: migration N takes a file from version N to N + 1, and the
 * file's version is SQLite's `user_version` (https://sqlite.org/pragma.html#pragma_user_version).
 * A migration is only ever appended, never edited once released.
 *
 * Times are ms since 1970. `samples` holds one row per program per interval (10 s by default),
 * `minutes` and `hourly` the same summed per 10 minutes (kept as long as the
 * 10 s rows) and per hour (kept longer), first_at and last_at being the first and last interval
 * in each, `connections` one row per ended connection, its
 * addresses in `addresses` (one row per address and the name it was reached by, with its country
 * and AS), so a busy interval writes narrow rows and a day's file stays small.
 */
/** What every interval row counts, in the order the writer's INSERTs give them. */
const COUNT_COLUMNS = `bytes_in INTEGER NOT NULL, bytes_out INTEGER NOT NULL, packets_in INTEGER NOT NULL,
    packets_out INTEGER NOT NULL, connections INTEGER NOT NULL, peak_in REAL NOT NULL, peak_out REAL NOT NULL,`;

/** A roll-up table: a program's counts summed over a longer row (10 minutes, an hour). */
const rollupTable = (name: string) => `CREATE TABLE ${name} (
    at INTEGER NOT NULL,
    program INTEGER NOT NULL REFERENCES programs (id),
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    ${COUNT_COLUMNS}
    PRIMARY KEY (at, program)
  ) WITHOUT ROWID;`;

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE programs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    unit TEXT NOT NULL,
    container TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    UNIQUE (name, path, unit, container)
  );
  CREATE TABLE samples (
    at INTEGER NOT NULL,
    span INTEGER NOT NULL,
    program INTEGER NOT NULL REFERENCES programs (id),
    ${COUNT_COLUMNS}
    PRIMARY KEY (at, program)
  ) WITHOUT ROWID;
  ${rollupTable('hourly')}
  ${rollupTable('minutes')}
  CREATE TABLE addresses (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL,
    name TEXT NOT NULL,
    country TEXT,
    asn INTEGER,
    as_org TEXT,
    UNIQUE (address, name)
  );
  CREATE TABLE connections (
    id INTEGER PRIMARY KEY,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    local INTEGER NOT NULL REFERENCES addresses (id),
    local_port INTEGER NOT NULL,
    remote INTEGER NOT NULL REFERENCES addresses (id),
    remote_port INTEGER NOT NULL,
    program INTEGER NOT NULL REFERENCES programs (id),
    peer INTEGER REFERENCES programs (id),
    bytes_in INTEGER NOT NULL,
    bytes_out INTEGER NOT NULL,
    packets_in INTEGER NOT NULL,
    packets_out INTEGER NOT NULL,
    open INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX connections_by_end ON connections (end);
  CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO counters VALUES ('writes', 0), ('connections_dropped', 0);
  `,
  // 2: programs carry the user they run as (`history --by user`); the same program run by two
  // users is two rows. SQLite cannot change a UNIQUE constraint in place: the table is rebuilt.
  `
  CREATE TABLE programs_v2 (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    unit TEXT NOT NULL,
    container TEXT NOT NULL,
    user TEXT NOT NULL DEFAULT '',
    first_seen INTEGER NOT NULL,
    UNIQUE (name, path, unit, container, user)
  );
  INSERT INTO programs_v2 (id, name, path, unit, container, user, first_seen)
    SELECT id, name, path, unit, container, '', first_seen FROM programs;
  DROP TABLE programs;
  ALTER TABLE programs_v2 RENAME TO programs;
  `,
];

/** The schema version this package writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings a writable file up to SCHEMA_VERSION, one transaction per migration. Foreign keys are off
 * while tables are rebuilt (https://sqlite.org/lang_altertable.html#otheralter) and checked after.
 */
export function migrate(db: Database, file: string): void {
  const version = schemaVersion(db, file);
  if (version === SCHEMA_VERSION) return;
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  db.pragma('foreign_keys = OFF');
  try {
    for (let v = version; v < SCHEMA_VERSION; v++) {
      db.transaction(() => {
        db.exec(MIGRATIONS[v]!);
        if ((db.pragma('foreign_key_check') as unknown[]).length > 0)
          throw new HistoryError(
            'E_NOT_A_DATABASE',
            `${file}: migration ${v + 1} left rows without their program`,
          );
        db.pragma(`user_version = ${v + 1}`);
      })();
    }
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  }
}

/** The file's schema version; throws E_SCHEMA_NEWER for a file this version cannot read. */
export function schemaVersion(db: Database, file: string): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION)
    throw new HistoryError(
      'E_SCHEMA_NEWER',
      `${file} has schema version ${version}; this netwho knows up to ${SCHEMA_VERSION}: update netwho, or use another --db`,
    );
  return version;
}
