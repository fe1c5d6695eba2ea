/** The ways a call can fail. Every error thrown by this package is a ListenersError with one of them. */
export type ListenersErrorCode =
  /** An argument is out of range or of the wrong type (port 0, a negative pid, protocol 'SCTP'). */
  | 'E_INVALID_ARGUMENT'
  /** Nothing owns that port, or no such process. */
  | 'E_NOT_FOUND'
  /** A socket exists but its owner cannot be known; `reason` says why. */
  | 'E_OWNER_UNKNOWN'
  /** The OS refused: we lack the rights to read what was asked for. */
  | 'E_PERMISSION'
  /** This OS has no backend. */
  | 'E_UNSUPPORTED'
  /** An OS call failed in a way we do not expect; `cause` carries the detail. */
  | 'E_SYSTEM';

export class ListenersError extends Error {
  override readonly name = 'ListenersError';
  readonly code: ListenersErrorCode;
  /** For E_OWNER_UNKNOWN: why the owner is unknown (see UnownedReason). */
  readonly reason?: string;

  constructor(code: ListenersErrorCode, message: string, options: { cause?: unknown; reason?: string } = {}) {
    super(
      `[netwho/listeners] ${message}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    if (options.reason !== undefined) this.reason = options.reason;
  }
}

/** True when `error` is a ListenersError, optionally with the given code. */
export function isListenersError(error: unknown, code?: ListenersErrorCode): error is ListenersError {
  return error instanceof ListenersError && (code === undefined || error.code === code);
}
