import { readFileSync } from 'node:fs';

/** The ways opening a database can fail. Lookups themselves never throw. */
export type GeoErrorCode =
  /** The file cannot be read (missing, a directory, permission denied); `cause` says which. */
  | 'E_OPEN'
  /** The file is not an MMDB database (or not netwho's AS table), or it is truncated. */
  | 'E_FORMAT';

export class GeoError extends Error {
  override readonly name = 'GeoError';
  readonly code: GeoErrorCode;
  /** The file it is about. */
  readonly path: string;

  constructor(code: GeoErrorCode, path: string, message: string, options: { cause?: unknown } = {}) {
    super(
      `[netwho/geo] ${path}: ${message}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.path = path;
  }
}

/** True when `error` is a GeoError, optionally with the given code. */
export function isGeoError(error: unknown, code?: GeoErrorCode): error is GeoError {
  return error instanceof GeoError && (code === undefined || error.code === code);
}

/** A database file's bytes; GeoError E_OPEN naming the file and the OS's reason when it cannot be read. */
export function readDatabase(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new GeoError('E_OPEN', path, `cannot read (${code ?? String(cause)})`, { cause });
  }
}
