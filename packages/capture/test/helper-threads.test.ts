import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { holdHelperThreads, LiveCapture } from '../src/index';
import { HelperThreads, type ThreadSystem } from '../src/live/threads/helper-threads';
import { hasTool, isRoot } from './tools';

const OTHER = 0;
const FIFO = 1;
const BATCH = 3;
const IDLE = 5;

/** Threads as plain data: tid -> policy; `refuse` makes setPolicy fail for those tids. */
function system(policies: Record<number, number>, refuse: number[] = []) {
  const threads = new Map(Object.entries(policies).map(([tid, p]) => [Number(tid), p]));
  const calls: Array<[number, number]> = [];
  const os: ThreadSystem = {
    threads: () => [...threads.keys()],
    policy: (tid) => threads.get(tid),
    setPolicy(tid, policy) {
      calls.push([tid, policy]);
      if (!threads.has(tid)) return 'gone';
      if (refuse.includes(tid)) return 'sched_setscheduler: Operation not permitted';
      threads.set(tid, policy);
      return 'done';
    },
  };
  return { os, threads, calls };
}

describe('HelperThreads (plain data)', () => {
  afterEach(() => vi.useRealTimers());

  it('moves the threads under SCHED_OTHER but its own to SCHED_BATCH, and puts them back at the end', () => {
    const { os, threads } = system({ 100: OTHER, 101: OTHER, 102: OTHER, 103: IDLE, 104: FIFO });
    const helpers = new HelperThreads(os, 100);
    const hold = helpers.hold();
    expect(Object.fromEntries(threads)).toEqual({ 100: OTHER, 101: BATCH, 102: BATCH, 103: IDLE, 104: FIFO });
    expect(hold.moved).toBe(2);
    expect(hold.reason).toBeUndefined();
    hold.release();
    expect(Object.fromEntries(threads)).toEqual({ 100: OTHER, 101: OTHER, 102: OTHER, 103: IDLE, 104: FIFO });
    expect(hold.moved).toBe(0);
  });

  it('puts nothing back until the last hold ends, and a hold released twice counts once', () => {
    const { os, threads } = system({ 1: OTHER, 2: OTHER });
    const helpers = new HelperThreads(os, 1);
    const first = helpers.hold();
    const second = helpers.hold();
    first.release();
    first.release();
    expect(threads.get(2)).toBe(BATCH);
    second.release();
    expect(threads.get(2)).toBe(OTHER);
  });

  it('moves threads started later at its next look (every everyMs), and forgets those that exited', () => {
    vi.useFakeTimers();
    const { os, threads, calls } = system({ 1: OTHER, 2: OTHER });
    const helpers = new HelperThreads(os, 1, 50);
    const hold = helpers.hold();
    threads.set(3, OTHER);
    threads.delete(2);
    vi.advanceTimersByTime(50);
    expect(threads.get(3)).toBe(BATCH);
    expect(hold.moved).toBe(1);
    hold.release();
    expect(calls).toEqual([
      [2, BATCH],
      [3, BATCH],
      [3, OTHER],
    ]);
    threads.set(4, OTHER);
    vi.advanceTimersByTime(500); // released: no more looks
    expect(threads.get(4)).toBe(OTHER);
  });

  it('leaves a thread set to SCHED_BATCH by someone else as it is when the hold ends', () => {
    const { os, threads } = system({ 1: OTHER, 2: BATCH, 3: OTHER });
    const hold = new HelperThreads(os, 1).hold();
    hold.release();
    expect(Object.fromEntries(threads)).toEqual({ 1: OTHER, 2: BATCH, 3: OTHER });
  });

  it('a thread it may not move is left, asked once, and the reason kept', () => {
    const { os, threads, calls } = system({ 1: OTHER, 2: OTHER, 3: OTHER }, [3]);
    const hold = new HelperThreads(os, 1).hold();
    hold.refresh();
    expect(threads.get(2)).toBe(BATCH);
    expect(threads.get(3)).toBe(OTHER);
    expect(calls.filter(([tid]) => tid === 3)).toHaveLength(1);
    expect(hold.reason).toMatch(/not permitted/);
    hold.release();
  });

  it('a system that fails (no /proc, no libc) leaves the threads, says why, and never throws', () => {
    vi.useFakeTimers();
    const os: ThreadSystem = {
      threads: () => {
        throw new Error("ENOENT: no such file or directory, scandir '/proc/self/task'");
      },
      policy: () => OTHER,
      setPolicy: () => 'done',
    };
    const hold = new HelperThreads(os, 1, 50).hold();
    expect(hold.moved).toBe(0);
    expect(hold.reason).toMatch(/could not be read or set: ENOENT/);
    vi.advanceTimersByTime(200); // the timer's looks fail the same way, quietly
    hold.release();
  });
});

/** Each thread of this process: its policy, field 41 of /proc/self/task/TID/stat (proc(5)). */
function policies(): Map<number, number> {
  const result = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task').map(Number)) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 on
      result.set(tid, Number(fields[41 - 3]));
    } catch {
      // exited meanwhile
    }
  }
  return result;
}

describe.runIf(process.platform === 'linux')('holdHelperThreads on Linux', () => {
  it("moves this process's real threads, V8's, libuv's pool and a worker, and not the main thread", async () => {
    await readFile(import.meta.filename); // libuv's pool is started at its first use
    const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
    await new Promise((resolve) => worker.once('online', resolve));
    const others = [...policies().keys()].filter((tid) => tid !== process.pid);
    expect(others.length).toBeGreaterThanOrEqual(6); // 4 V8 workers and its scheduler, the pool, the worker
    const hold = holdHelperThreads();
    try {
      const now = policies();
      expect(now.get(process.pid)).toBe(OTHER);
      for (const tid of others) if (now.has(tid)) expect(now.get(tid)).toBe(BATCH);
      expect(hold.moved).toBeGreaterThanOrEqual(others.length - 1);
      expect(hold.reason).toBeUndefined();
    } finally {
      hold.release();
      await worker.terminate();
    }
    for (const [, policy] of policies()) expect(policy).toBe(OTHER);
  });

  it.runIf(hasTool('chrt'))('leaves a thread under another policy as it was set', async () => {
    const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
    await new Promise((resolve) => worker.once('online', resolve));
    const before = new Set(policies().keys());
    const tid = [...before].filter((t) => t !== process.pid).at(-1)!; // the newest thread: the worker's
    execFileSync('chrt', ['--idle', '--pid', '0', String(tid)]);
    const hold = holdHelperThreads();
    expect(policies().get(tid)).toBe(IDLE);
    hold.release();
    expect(policies().get(tid)).toBe(IDLE);
    await worker.terminate();
  });

  it.runIf(isRoot)('is held by an immediate capture while it is open, and not by a buffered one', () => {
    const buffered = LiveCapture.open({ device: 'lo', filter: 'udp dst port 9' });
    expect(buffered.stats().helperThreads).toBeUndefined();
    expect([...policies().values()].every((p) => p === OTHER)).toBe(true);
    const capture = LiveCapture.open({ device: 'lo', filter: 'udp dst port 9', immediate: true });
    const moved = capture.stats().helperThreads?.moved ?? 0;
    expect(moved).toBeGreaterThan(0);
    expect([...policies().values()].filter((p) => p === BATCH)).toHaveLength(moved);
    capture.close();
    buffered.close();
    expect([...policies().values()].every((p) => p === OTHER)).toBe(true);
    const unchanged = LiveCapture.open({ device: 'lo', immediate: true, helperThreads: 'unchanged' });
    expect(unchanged.stats().helperThreads).toBeUndefined();
    expect([...policies().values()].every((p) => p === OTHER)).toBe(true);
    unchanged.close();
  });
});
