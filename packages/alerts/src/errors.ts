/** A config file or a rule that is not valid: where (a JSON path such as `alerts.rules[2].above`) and why. */
export class AlertConfigError extends Error {
  override readonly name = 'AlertConfigError';

  constructor(
    /** The file, when the config came from one. */
    readonly file: string | undefined,
    /** Where in it: `alerts.rules[2].above`. */
    readonly at: string,
    message: string,
  ) {
    super(`[netwho/alerts] ${file ? `${file}: ` : ''}${at ? `${at}: ` : ''}${message}`);
  }
}

export function isAlertConfigError(error: unknown): error is AlertConfigError {
  return error instanceof AlertConfigError;
}
