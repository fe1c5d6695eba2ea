import { wallClock } from '@netwho/capture';

/** Time and timers, injected so that tests drive them by hand. */
export interface Clock {
  /** Milliseconds since 1970 (fractions allowed). */
  now(): number;
  /** Runs `fn` after `ms`; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void;
  /**
   * Runs `fn` once the work at hand is done (Node: setImmediate, after the I/O callbacks of this
   * turn of the event loop), sooner than any timer; returns a cancel function. Without it,
   * setTimer(fn, 0).
   */
  soon?(fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => wallClock.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
  soon(fn) {
    const immediate = setImmediate(fn);
    immediate.unref();
    return () => clearImmediate(immediate);
  },
};
