import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { holdReaderCpu, LiveCapture } from '../src/index';
import { type AffinitySystem, ReaderCpu } from '../src/live/threads/reader-cpu';
import { isRoot } from './tools';

/** Threads as plain data: tid -> its CPUs; `refuse` makes setCpus fail for those tids. */
function system(cpus: Record<number, number[]>, refuse: number[] = []) {
  const threads = new Map(Object.entries(cpus).map(([tid, c]) => [Number(tid), c]));
  const calls: Array<[number, number[]]> = [];
  const os: AffinitySystem = {
    threads: () => [...threads.keys()],
    cpus: (tid) => threads.get(tid),
    setCpus(tid, to) {
      calls.push([tid, to]);
      if (!threads.has(tid)) return 'gone';
      if (refuse.includes(tid)) return 'sched_setaffinity: Operation not permitted';
      threads.set(tid, to);
      return 'done';
    },
  };
  return { os, threads, calls };
}

const ALL = [0, 1, 2, 3];

describe('ReaderCpu (plain data)', () => {
  afterEach(() => vi.useRealTimers());

  it('binds the reader to its CPU and the other threads to the rest, and gives all back at the end', () => {
    const { os, threads } = system({ 100: ALL, 101: ALL, 102: ALL });
    const hold = new ReaderCpu(os, 100).hold(2);
    expect(Object.fromEntries(threads)).toEqual({ 100: [2], 101: [0, 1, 3], 102: [0, 1, 3] });
    expect(hold).toMatchObject({ cpu: 2, moved: 2, reason: undefined });
    hold.release();
    expect(Object.fromEntries(threads)).toEqual({ 100: ALL, 101: ALL, 102: ALL });
    expect(hold).toMatchObject({ cpu: undefined, moved: 0 });
  });

  it('keeps threads started later (with the reader’s one CPU) off it at its next look, and forgets those that exited', () => {
    vi.useFakeTimers();
    const { os, threads } = system({ 1: ALL, 2: ALL });
    const hold = new ReaderCpu(os, 1, 50).hold(0);
    threads.set(3, [0]); // started from the reader: its CPUs
    threads.delete(2);
    vi.advanceTimersByTime(50);
    expect(threads.get(3)).toEqual([1, 2, 3]);
    expect(hold.moved).toBe(1);
    hold.release();
    expect(threads.get(3)).toEqual(ALL); // the process's CPUs, not the reader's it inherited
    threads.set(4, [0]);
    vi.advanceTimersByTime(500); // released: no more looks
    expect(threads.get(4)).toEqual([0]);
  });

  it('leaves a thread bound elsewhere on purpose, and one moved by someone else while held', () => {
    const { os, threads } = system({ 1: ALL, 2: [3], 3: ALL });
    const hold = new ReaderCpu(os, 1).hold(1);
    expect(threads.get(2)).toEqual([3]);
    threads.set(3, [2]); // set by someone else meanwhile
    hold.release();
    expect(Object.fromEntries(threads)).toEqual({ 1: ALL, 2: [3], 3: [2] });
  });

  it('a second capture shares the hold on the same CPU, and is refused another one', () => {
    const { os, threads } = system({ 1: ALL, 2: ALL });
    const readerCpu = new ReaderCpu(os, 1);
    const first = readerCpu.hold(3);
    const same = readerCpu.hold(3);
    const other = readerCpu.hold(0);
    expect(other).toMatchObject({ cpu: undefined, moved: 0 });
    expect(other.reason).toMatch(/bound to CPU 3 already/);
    other.release();
    first.release();
    first.release(); // counts once
    expect(threads.get(1)).toEqual([3]);
    expect(same.cpu).toBe(3);
    same.release();
    expect(Object.fromEntries(threads)).toEqual({ 1: ALL, 2: ALL });
  });

  it('binds nothing, and says why, for a CPU the process may not use, on one CPU, or when refused', () => {
    expect(new ReaderCpu(system({ 1: [0, 1], 2: [0, 1] }).os, 1).hold(5).reason).toMatch(
      /CPU 5 is not one this process may use \(0,1\)/,
    );
    const one = system({ 1: [0], 2: [0] });
    const hold = new ReaderCpu(one.os, 1).hold(0);
    expect(hold).toMatchObject({ cpu: undefined, moved: 0 });
    expect(hold.reason).toMatch(/one CPU only/);
    expect(one.calls).toEqual([]);
    expect(new ReaderCpu(system({ 1: ALL }, [1]).os, 1).hold(0).reason).toMatch(/not permitted/);
  });

  it('a thread it may not move is left, asked once, and the reason kept; a failing system never throws', () => {
    vi.useFakeTimers();
    const { os, threads, calls } = system({ 1: ALL, 2: ALL, 3: ALL }, [3]);
    const hold = new ReaderCpu(os, 1, 50).hold(0);
    vi.advanceTimersByTime(200);
    expect(threads.get(2)).toEqual([1, 2, 3]);
    expect(calls.filter(([tid]) => tid === 3)).toHaveLength(1);
    expect(hold).toMatchObject({ cpu: 0, moved: 1 });
    expect(hold.reason).toMatch(/not permitted/);
    hold.release();
    let fail = false;
    const failing: AffinitySystem = {
      threads: () => {
        if (fail) throw new Error("ENOENT: no such file or directory, scandir '/proc/self/task'");
        return [1];
      },
      cpus: () => ALL,
      setCpus: () => 'done',
    };
    const held = new ReaderCpu(failing, 1, 50).hold(1);
    fail = true;
    vi.advanceTimersByTime(100); // the timer's looks fail, quietly
    expect(held.reason).toMatch(/could not be read or set: ENOENT/);
    held.release();
  });
});

/** Each thread of this process and the CPUs it may run on: Cpus_allowed_list of /proc/self/task/TID/status (proc(5)). */
function affinities(): Map<number, string> {
  const result = new Map<number, string>();
  for (const tid of readdirSync('/proc/self/task').map(Number)) {
    try {
      const status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
      result.set(tid, /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? '?');
    } catch {
      // exited meanwhile
    }
  }
  return result;
}

// The machines this runs on have at least 2 CPUs; on one, holdReaderCpu says so (tested above).
describe.runIf(process.platform === 'linux' && availableParallelism() >= 2)('holdReaderCpu on Linux', () => {
  const last = availableParallelism() - 1;
  const before = affinities().get(process.pid);

  it("binds this process's main thread to one CPU, its real threads (V8's, libuv's pool, a worker) to the others", async () => {
    await readFile(import.meta.filename); // libuv's pool is started at its first use
    const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
    await new Promise((resolve) => worker.once('online', resolve));
    const hold = holdReaderCpu(last);
    try {
      const now = affinities();
      expect(now.get(process.pid)).toBe(String(last));
      const others = [...now].filter(([tid]) => tid !== process.pid);
      expect(others.length).toBeGreaterThanOrEqual(6); // 4 V8 workers and its scheduler, the pool, the worker
      for (const [, cpus] of others) expect(cpus).toBe(last === 1 ? '0' : `0-${last - 1}`);
      expect(hold).toMatchObject({ cpu: last, reason: undefined });
      expect(hold.moved).toBe(others.length);
    } finally {
      hold.release();
      await worker.terminate();
    }
    for (const [, cpus] of affinities()) expect(cpus).toBe(before);
  });

  it.runIf(isRoot)('is held by a capture opened with readerCpu, and given back when it closes', () => {
    const capture = LiveCapture.open({
      device: 'lo',
      filter: 'udp dst port 9',
      immediate: true,
      readerCpu: 0,
    });
    const stats = capture.stats().readerCpu;
    expect(stats).toMatchObject({ cpu: 0 });
    expect(stats?.moved).toBeGreaterThan(0);
    expect(affinities().get(process.pid)).toBe('0');
    capture.close();
    for (const [, cpus] of affinities()) expect(cpus).toBe(before);
    const plain = LiveCapture.open({ device: 'lo', immediate: true });
    expect(plain.stats().readerCpu).toBeUndefined();
    plain.close();
    expect(() => LiveCapture.open({ device: 'lo', readerCpu: -1 })).toThrow(/readerCpu must be a CPU number/);
    const far = LiveCapture.open({ device: 'lo', readerCpu: 1023 });
    expect(far.stats().readerCpu).toMatchObject({
      moved: 0,
      reason: expect.stringMatching(/not one this process may use/),
    });
    far.close();
  });
});
