/**
 * The last `capacity` latency samples in a ring, for percentiles over a bounded window: a long run
 * keeps a fixed amount of memory and the numbers follow the recent behaviour.
 */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(capacity = 4096) {
    this.samples = new Float64Array(capacity);
  }

  add(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.samples.length;
    if (this.filled < this.samples.length) this.filled++;
  }

  get count(): number {
    return this.filled;
  }

  /** The p-th percentile (0-100) of the samples in the window, or undefined when there are none. */
  percentile(p: number): number | undefined {
    if (this.filled === 0) return undefined;
    const sorted = this.samples.slice(0, this.filled).sort();
    const rank = Math.min(this.filled - 1, Math.max(0, Math.ceil((p / 100) * this.filled) - 1));
    return sorted[rank];
  }
}
