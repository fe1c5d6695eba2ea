/**
 * Milliseconds since 1970 with a monotonic clock's resolution, which keep to the system's wall
 * clock, as packet timestamps do (CLOCK_REALTIME). `performance.timeOrigin + performance.now()`
 * does not: it is ahead of the wall clock by Node's start-up gap between its two clock reads
 * (48–867 µs in 12 fresh processes here, and so in every latency a bench measured with it), and
 * CLOCK_MONOTONIC counts no suspend and follows no step of the wall clock (a VM's clock put right,
 * NTP), so after a laptop slept a latency against it reads 0. `Date.now()` keeps to the wall clock
 * in whole milliseconds only. So the offset (wall - monotonic) is set once to the microsecond, at
 * the moment `Date.now()` turns to its next millisecond (waiting for it, at most 1 ms, once), and
 * each reading then compares the two: a drift or a step forward raises the offset at once, a step
 * back (a reading more than 1 ms under it) resets it, so it is never more than 1 ms off after a
 * step, and exact without one.
 */
export class WallClock {
  private offset: number;

  constructor(
    /** The wall clock in whole ms (Date.now). */
    private readonly wallMs: () => number = Date.now,
    /** A monotonic clock in ms with fractions (performance.now). */
    private readonly monotonicMs: () => number = () => performance.now(),
  ) {
    const first = wallMs();
    const start = monotonicMs();
    let monotonic = start;
    let wall = wallMs();
    // Up to a millisecond, once (2 ms or a million reads at most: a test's clocks may not move).
    for (let reads = 0; wall === first && reads < 1e6 && monotonic - start < 2; reads++) {
      monotonic = monotonicMs();
      wall = wallMs();
    }
    this.offset = wall - monotonic;
  }

  now(): number {
    const monotonic = this.monotonicMs();
    // In (offset - 1, offset] while the clocks agree: Date.now() drops the fraction of its ms.
    const sample = this.wallMs() - monotonic;
    if (sample > this.offset || sample < this.offset - 1) this.offset = sample;
    return monotonic + this.offset;
  }
}

/** The process's wall clock (see WallClock). */
export const wallClock = new WallClock();
