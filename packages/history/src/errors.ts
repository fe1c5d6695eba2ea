/** The ways a history call can fail. Every error thrown by this package is a HistoryError with one of them. */
export type HistoryErrorCode =
  /** An argument is out of range or of the wrong type (a range that ends before it starts, a negative bound). */
  | 'E_INVALID_ARGUMENT'
  /** The file or its folder cannot be read or written by us. */
  | 'E_PERMISSION'
  /** A file opened read-only does not exist, or a folder on its path is not one. */
  | 'E_NOT_FOUND'
  /** The file exists but is not a SQLite database, or is damaged. */
  | 'E_NOT_A_DATABASE'
  /** The file was written by a newer netwho whose schema this version does not know. */
  | 'E_SCHEMA_NEWER'
  /** A write on a store opened read-only, or on a file another process holds a write lock on for too long. */
  | 'E_READONLY'
  /** The store was closed. */
  | 'E_CLOSED'
  /** SQLite failed in a way we do not expect; `cause` carries the detail. */
  | 'E_SYSTEM';

export class HistoryError extends Error {
  override readonly name = 'HistoryError';
  readonly code: HistoryErrorCode;

  constructor(code: HistoryErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(`[netwho/history] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** True when `error` is a HistoryError, optionally with the given code. */
export function isHistoryError(error: unknown, code?: HistoryErrorCode): error is HistoryError {
  return error instanceof HistoryError && (code === undefined || error.code === code);
}

/** Turns what SQLite or the file system threw into a HistoryError (https://sqlite.org/rescode.html). */
export function fromSqlite(error: unknown, what: string): HistoryError {
  if (error instanceof HistoryError) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'))
    return new HistoryError('E_NOT_A_DATABASE', `${what}: not a netwho history file (${message})`, {
      cause: error,
    });
  if (code === 'ENOENT' || code === 'ENOTDIR' || /does not exist/.test(message))
    return new HistoryError('E_NOT_FOUND', `${what}: ${message}`, { cause: error });
  if (['SQLITE_CANTOPEN', 'SQLITE_PERM', 'SQLITE_AUTH', 'EACCES', 'EPERM', 'EROFS'].includes(code))
    return new HistoryError('E_PERMISSION', `${what}: ${message}`, { cause: error });
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_BUSY'))
    return new HistoryError('E_READONLY', `${what}: ${message}`, { cause: error });
  return new HistoryError('E_SYSTEM', `${what}: ${message}`, { cause: error });
}
