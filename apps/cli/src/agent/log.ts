import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * The agent's log: one JSON object per line and per event, to stderr or to a file that SIGHUP
 * re-opens (so logrotate can move it away). Field names follow OpenTelemetry's log data model
 * where one fits (`severity_text`, `event.name`).
 */
export class EventLog {
  private fd: number;

  constructor(private readonly file?: string) {
    this.fd = file ? openSync(file, 'a', 0o640) : 2;
  }

  event(
    name: string,
    fields: Record<string, unknown> = {},
    severity: 'INFO' | 'WARN' | 'ERROR' = 'INFO',
  ): void {
    const line = `${JSON.stringify({ time: new Date().toISOString(), severity_text: severity, 'event.name': name, ...fields })}\n`;
    try {
      writeSync(this.fd, line);
    } catch {
      // A log that cannot be written (disk full) must not stop the agent.
    }
  }

  /** Re-opens the file (after a rotation); stderr stays stderr. */
  reopen(): void {
    if (!this.file) return;
    const next = openSync(this.file, 'a', 0o640);
    const old = this.fd;
    this.fd = next;
    closeSync(old);
  }

  close(): void {
    if (this.file) closeSync(this.fd);
  }
}
