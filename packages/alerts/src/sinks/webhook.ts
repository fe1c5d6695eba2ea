import type { WebhookConfig } from '../config';
import type { Alert } from '../types';

export interface WebhookStats {
  delivered: number;
  /** Attempts that failed (a retry follows unless it was the last). */
  failures: number;
  /** Alerts given up after every retry, or dropped because the queue was full. */
  dropped: number;
  queued: number;
  lastError: string | undefined;
}

/**
 * POSTs each alert as JSON to a URL, in the background: a bounded queue (`maxQueued`, the oldest
 * dropped and counted when full), one request at a time, a timeout per attempt, retries with
 * backoff doubling from `backoffMs`. `send` never waits and never throws: capture is not held up.
 */
export class WebhookSink {
  private readonly queue: Alert[] = [];
  private running = false;
  private closed = false;
  private readonly counts = { delivered: 0, failures: 0, dropped: 0 };
  private lastError: string | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly config: WebhookConfig,
    private readonly options: { maxQueued?: number; backoffMs?: number } = {},
  ) {}

  send(alert: Alert): void {
    if (this.closed) return;
    this.queue.push(alert);
    if (this.queue.length > (this.options.maxQueued ?? 1000)) {
      this.queue.shift();
      this.counts.dropped++;
    }
    if (!this.running) void this.pump();
  }

  stats(): WebhookStats {
    return { ...this.counts, queued: this.queue.length, lastError: this.lastError };
  }

  /** Resolves once the queue is empty (or after `waitMs`); later alerts are not sent. */
  async close(waitMs = 2000): Promise<void> {
    const end = Date.now() + waitMs;
    while ((this.running || this.queue.length > 0) && Date.now() < end) await sleep(20);
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.counts.dropped += this.queue.length;
    this.queue.length = 0;
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const alert = this.queue.shift()!; // in flight: no longer waiting
        let delivered = false;
        for (let attempt = 0; attempt <= this.config.retries && !this.closed; attempt++) {
          if (attempt > 0) await this.wait((this.options.backoffMs ?? 1000) * 2 ** (attempt - 1));
          try {
            const res = await fetch(this.config.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...this.config.headers },
              body: JSON.stringify(alert),
              signal: AbortSignal.timeout(this.config.timeoutMs),
            });
            await res.arrayBuffer().catch(() => undefined);
            if (res.ok) {
              delivered = true;
              break;
            }
            this.lastError = `HTTP ${res.status}`;
          } catch (error) {
            this.lastError =
              (error as Error).name === 'TimeoutError'
                ? 'timed out'
                : String((error as Error).cause ?? error);
          }
          this.counts.failures++;
        }
        if (delivered) this.counts.delivered++;
        else this.counts.dropped++;
      }
    } finally {
      this.running = false;
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      t.unref();
      this.timers.add(t);
    });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
