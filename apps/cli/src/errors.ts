import { CaptureError } from '@netwho/capture';
import { GeoError } from '@netwho/geo';
import { ListenersError } from '@netwho/listeners';

/** Exit codes, as documented in the README. */
export const Exit = { OK: 0, NOT_FOUND: 1, USAGE: 2, PERMISSION: 3, ENVIRONMENT: 4 } as const;

/** An error that ends the command with a message (one or two lines) and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const SETCAP_HINT =
  'run as root, or: sudo setcap cap_net_raw,cap_net_admin=eip "$(readlink -f "$(which node)")"';

/** Maps errors of our packages to exit codes; the messages already say what to do. */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof ListenersError) {
    const code = {
      E_NOT_FOUND: Exit.NOT_FOUND,
      E_INVALID_ARGUMENT: Exit.USAGE,
      E_PERMISSION: Exit.PERMISSION,
      E_OWNER_UNKNOWN: error.reason === 'permission' ? Exit.PERMISSION : Exit.NOT_FOUND,
      E_UNSUPPORTED: Exit.ENVIRONMENT,
      E_SYSTEM: Exit.ENVIRONMENT,
    }[error.code];
    return new CliError(strip(error.message), code ?? Exit.ENVIRONMENT);
  }
  if (error instanceof CaptureError) {
    const code =
      error.code === 'E_PERMISSION'
        ? Exit.PERMISSION
        : // Bad input the user gave: an argument, a filter, a device, a file that is not a capture.
          error.code === 'E_INVALID_ARGUMENT' ||
            error.code === 'E_BAD_FILTER' ||
            error.code === 'E_NO_DEVICE' ||
            error.code === 'E_FILE_FORMAT' ||
            error.code === 'E_FILE_TRUNCATED'
          ? Exit.USAGE
          : Exit.ENVIRONMENT;
    return new CliError(strip(error.message), code);
  }
  if (error instanceof GeoError) {
    // A database the user named: missing or not a database is a usage error; unreadable, rights.
    const errno = (error.cause as NodeJS.ErrnoException | undefined)?.code;
    const code = errno === 'EACCES' || errno === 'EPERM' ? Exit.PERMISSION : Exit.USAGE;
    return new CliError(strip(error.message), code);
  }
  const message = error instanceof Error ? error.message : String(error);
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (errno === 'ENOENT') return new CliError(message, Exit.NOT_FOUND);
  if (errno === 'EACCES' || errno === 'EPERM') return new CliError(message, Exit.PERMISSION);
  return new CliError(message, Exit.ENVIRONMENT);
}

/** Our packages prefix messages with "[netwho/<package>] "; the CLI prints "netwho: " instead. */
function strip(message: string): string {
  return message.replace(/^\[netwho\/[a-z]+\]\s*/, '');
}

/** Parses a whole number option, or throws a usage error naming the option. */
export function integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new CliError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`, Exit.USAGE);
    }
    return n;
  };
}
