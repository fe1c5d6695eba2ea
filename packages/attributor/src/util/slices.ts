import type { Clock } from './clock';

/** Runs `fn` once the work at hand is done: Clock.soon, or a timer of 0 ms for a clock without it. */
export function soon(clock: Clock, fn: () => void): () => void {
  return clock.soon ? clock.soon(fn) : clock.setTimer(fn, 0);
}

/** A slice hands the event loop back after this long (ms), even short of its size: packets wait meanwhile. */
export const SLICE_BUDGET_MS = 0.25;

/**
 * Runs `check` over `items` a slice at a time, handing the event loop back between slices (soon)
 * so that packets waiting are handled, then calls `done`. A slice ends at `size` (a check that did
 * real work, a read of the kernel's map or of /proc, returns true and counts one; one that only
 * skipped counts 1/16) or after SLICE_BUDGET_MS by the clock, whichever comes first: one check may
 * be several reads. Returns a cancel function, good until `done` runs.
 */
export function inSlices<T>(
  clock: Clock,
  items: readonly T[],
  size: number,
  check: (item: T) => boolean,
  done: () => void,
): () => void {
  let at = 0;
  let cancel: (() => void) | undefined;
  const slice = () => {
    cancel = undefined;
    const until = clock.now() + SLICE_BUDGET_MS;
    for (let cost = 0; at < items.length && cost < size; ) {
      cost += check(items[at++]!) ? 1 : 1 / 16;
      if (clock.now() >= until) break; // after one check at least: each slice gets on
    }
    if (at < items.length) cancel = soon(clock, slice);
    else done();
  };
  slice();
  return () => cancel?.();
}
