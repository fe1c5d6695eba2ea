import { describe, expect, it } from 'vitest';
import { WallClock } from '../src/live/wall-clock';

/**
 * Two clocks driven by hand: the wall clock (true ms, which Date.now() floors) and a monotonic one;
 * each read of the monotonic clock takes 1 µs of both, as a real read takes a little time.
 */
function clocks(wall: number, monotonic: number) {
  const c = { wall, monotonic };
  const read = () => {
    c.wall += 0.001;
    c.monotonic += 0.001;
    return c.monotonic;
  };
  return {
    c,
    clock: () => new WallClock(() => Math.floor(c.wall), read),
    /** Both move on by `ms` (a process running). */
    run(ms: number) {
      c.wall += ms;
      c.monotonic += ms;
    },
  };
}

describe('WallClock', () => {
  it('starts on the wall clock to the microsecond, waiting for the next millisecond once', () => {
    let wall = 1_700_000_000_000.25;
    let monotonic = 10;
    // Each read of the monotonic clock takes 1 µs of both.
    const clock = new WallClock(
      () => Math.floor(wall),
      () => {
        wall += 0.001;
        monotonic += 0.001;
        return monotonic;
      },
    );
    const truth = wall;
    expect(Math.abs(clock.now() - truth)).toBeLessThan(0.003);
  });

  it('follows a step forward at once, and a suspend (the monotonic clock stood still)', () => {
    const { c, clock: make, run } = clocks(1_700_000_000_000.5, 5);
    const clock = make();
    run(100.3);
    expect(Math.abs(clock.now() - c.wall)).toBeLessThan(0.003);
    c.wall += 3_600_000; // an hour asleep
    run(0.4);
    const now = clock.now();
    expect(c.wall - now).toBeGreaterThanOrEqual(0);
    expect(c.wall - now).toBeLessThan(1); // to the ms at once...
    for (let i = 0; i < 50; i++) {
      run(0.37);
      clock.now();
    }
    expect(Math.abs(clock.now() - c.wall)).toBeLessThan(0.05); // ...and closer with each reading
  });

  it('follows a step back of more than a millisecond, and keeps within 1 ms of a smaller one', () => {
    const { c, clock: make, run } = clocks(1_700_000_000_000.5, 5);
    const clock = make();
    c.wall -= 2_000; // put right by two seconds
    run(0.2);
    expect(Math.abs(clock.now() - c.wall)).toBeLessThan(1);
    c.wall -= 0.6;
    run(0.2);
    expect(Math.abs(clock.now() - c.wall)).toBeLessThan(1);
  });

  it('follows a wall clock that runs faster than the monotonic one', () => {
    const { c, clock: make } = clocks(1_700_000_000_000.5, 5);
    const clock = make();
    for (let i = 0; i < 10_000; i++) {
      const ms = 0.1 + ((i * 7919) % 1000) / 1000; // readings at uneven times, as flows come
      c.monotonic += ms;
      c.wall += ms * 1.0002; // 200 ppm
      expect(Math.abs(clock.now() - c.wall)).toBeLessThan(1);
    }
    expect(Math.abs(clock.now() - c.wall)).toBeLessThan(0.05);
  });
});
