import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { fromSqlite, HistoryError } from './errors';
import { migrate, SCHEMA_VERSION, schemaVersion } from './schema';

/**
 * The SQLite file at `path`, ready for HistoryStore: a writer creates it (its directory 0700) and
 * brings its schema up to date; a reader needs it to exist with the current schema. WAL journal
 * with synchronous=NORMAL (https://sqlite.org/wal.html); a reader waits up to 5 s for a writer's lock.
 */
export function openDatabase(path: string, readonly: boolean): Database {
  let db: Database;
  if (readonly && !existsSync(path))
    throw new HistoryError('E_NOT_FOUND', `${path} does not exist: no history has been recorded there yet`);
  try {
    if (!readonly) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    db = new BetterSqlite3(path, {
      readonly,
      fileMustExist: readonly,
    });
  } catch (error) {
    throw fromSqlite(error, `cannot open ${path}`);
  }
  try {
    db.pragma('busy_timeout = 5000');
    if (readonly) schemaVersion(db, path);
    else {
      // Both must precede the first table: auto_vacuum lets the size cap give space back.
      if ((db.pragma('user_version', { simple: true }) as number) === 0)
        db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // Checkpoints run from prune() once a minute rather than inside whichever interval's
      // write crosses 1,000 pages of WAL.
      db.pragma('wal_autocheckpoint = 0');
      migrate(db, path);
    }
    if (schemaVersion(db, path) < SCHEMA_VERSION)
      throw new HistoryError(
        'E_READONLY',
        `${path} has an older schema; open it once for writing to upgrade it`,
      );
  } catch (error) {
    db.close();
    throw fromSqlite(error, `cannot use ${path}`);
  }
  return db;
}
