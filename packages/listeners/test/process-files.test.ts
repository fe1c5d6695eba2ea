import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, realpathSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { libc } from '../src/platform/linux/ffi';
import {
  openProcessDir,
  readProcess,
  readProcessFile,
  startTicks,
  startTicksOf,
} from '../src/platform/linux/process-info';
import { isRoot } from './helpers';
import { startOnPid } from './pid-reuse';

const linux = process.platform === 'linux';

/** A child that prints a line once running, then sleeps; its pid and how to end it. */
async function sleeper(args: string[] = []) {
  const child = spawn('python3', ['-c', 'import time; print(1, flush=True); time.sleep(30)', ...args]);
  await once(child.stdout, 'data');
  return {
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill();
        await once(child, 'exit');
      }
    },
  };
}

describe('reading /proc/<pid> files', () => {
  it('takes the start time after the command name, whatever that name holds', () => {
    const rest = 'S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 424242 99 100';
    expect(startTicksOf(`12 (a) b) (c) ${rest}`)).toBe(424242n);
    expect(startTicksOf(`12 (sh) ${rest}`)).toBe(424242n);
    expect(startTicksOf('12 (sh) S 1 2')).toBeUndefined(); // cut short
    expect(startTicksOf('')).toBeUndefined();
    expect(startTicksOf(undefined)).toBeUndefined();
  });

  it.runIf(linux)(
    "reads this process's files as readFileSync does, and nothing of a pid that is not there",
    () => {
      for (const file of ['cgroup', 'environ', 'cmdline']) // files that stay the same from one read to the next
        expect(readProcessFile(process.pid, file)).toBe(
          readFileSync(`/proc/${process.pid}/${file}`, 'latin1'),
        );
      const dir = openProcessDir(process.pid);
      expect(dir).toBeGreaterThanOrEqual(0);
      try {
        const stat = readFileSync('/proc/self/stat', 'latin1');
        expect(startTicks(dir)).toBe(startTicksOf(stat));
        expect(readProcess(process.pid, dir)).toEqual({
          pid: process.pid,
          name: 'node',
          path: realpathSync(process.execPath),
        });
      } finally {
        libc().close(dir);
      }
      expect(openProcessDir(0x3fffffff)).toBeLessThan(0);
      expect(readProcessFile(0x3fffffff, 'stat')).toBeUndefined();
    },
  );

  it.runIf(linux)('reads a file longer than its buffer whole', async () => {
    const long = 'x'.repeat(20_000);
    const child = await sleeper([long]);
    try {
      const cmdline = readProcessFile(child.pid, 'cmdline', 'utf8');
      expect(cmdline?.length).toBeGreaterThan(20_000);
      expect(cmdline).toBe(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8'));
    } finally {
      await child.stop();
    }
  });

  it.runIf(linux && isRoot)(
    'a held /proc/<pid> reads nothing once its process is gone, even with another process on that pid',
    async () => {
      const first = await sleeper();
      const { pid } = first;
      const dir = openProcessDir(pid);
      try {
        const before = startTicks(dir);
        expect(before).toBeDefined();
        await first.stop();
        const taker = await startOnPid(pid, () => sleeper());
        expect(taker, `pid ${pid} was not reused`).toBeDefined();
        try {
          expect(startTicks(dir)).toBeUndefined();
          expect(readProcess(pid, dir)).toBeUndefined();
          // By its number, the pid is the new process now.
          expect(startTicksOf(readProcessFile(pid, 'stat'))).not.toBe(before);
        } finally {
          await taker!.stop();
        }
      } finally {
        libc().close(dir);
      }
    },
  );
});
