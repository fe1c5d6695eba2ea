import type { PortEntry } from '../machine/port-machine';
import type { OwnerAnswer, OwnerSource } from '../types';
import type { Clock } from '../util/clock';
import { LatencyWindow } from '../util/latency';

/** What TableLookups needs of the attributor it works for. */
export interface TableLookupsHost {
  /** The entry of port `key` if it still waits for an answer (looking up, with a query). */
  waiting(key: number): PortEntry | undefined;
  /** The answer for `entry`, unless the entry was evicted or moved on meanwhile. */
  answered(key: number, entry: PortEntry, answer: OwnerAnswer, now: number): void;
  /** A read threw (its ports are answered `unresolved`, so they retry): counted by the host. */
  failed(error: unknown): void;
}

/**
 * Reads of the socket table, batched: ports queued are answered up to `maxBatch` at a time by one
 * `source.lookup`, one read at a time, from a timer (never inside a packet handler). Bounded: past
 * `maxPending` queued ports a new one is refused, and the caller gives it up (and counts it).
 */
export class TableLookups {
  readonly counts = { lookups: 0, queries: 0 };
  /** Duration of one read. */
  readonly time = new LatencyWindow(1024);
  private readonly queue = new Set<number>();
  private cancelTimer: (() => void) | undefined;
  private inFlight = false;
  private closed = false;

  constructor(
    private readonly source: OwnerSource,
    private readonly host: TableLookupsHost,
    private readonly clock: Clock,
    private readonly maxPending: number,
    private readonly maxBatch: number,
  ) {}

  /** Queues port `key` for the next read; false when the queue is full. */
  add(key: number): boolean {
    if (!this.queue.has(key) && this.queue.size >= this.maxPending) return false;
    this.queue.add(key);
    this.schedule();
    return true;
  }

  /** Port `key` needs no answer any more (its entry was evicted). */
  delete(key: number): void {
    this.queue.delete(key);
  }

  close(): void {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private schedule(): void {
    if (this.cancelTimer || this.inFlight || this.closed || this.queue.size === 0) return;
    this.cancelTimer = this.clock.setTimer(() => {
      this.cancelTimer = undefined;
      void this.run();
    }, 0);
  }

  /** One read for up to maxBatch queued ports. */
  private async run(): Promise<void> {
    const batch: { key: number; entry: PortEntry }[] = [];
    for (const key of this.queue) {
      this.queue.delete(key);
      const entry = this.host.waiting(key);
      if (entry) batch.push({ key, entry });
      if (batch.length === this.maxBatch) break;
    }
    if (batch.length === 0) return;
    this.inFlight = true;
    this.counts.lookups++;
    this.counts.queries += batch.length;
    const started = this.clock.now();
    let answers: OwnerAnswer[];
    try {
      answers = await this.source.lookup(batch.map((b) => b.entry.query!));
      if (answers.length !== batch.length)
        throw new Error('the owner source answered the wrong number of queries');
    } catch (error) {
      this.host.failed(error);
      answers = batch.map(() => ({ missing: 'unresolved' }) as const);
    }
    this.inFlight = false;
    const now = this.clock.now();
    this.time.add(now - started);
    if (this.closed) return;
    batch.forEach(({ key, entry }, i) => {
      this.host.answered(key, entry, answers[i]!, now);
    });
    this.schedule();
  }
}
