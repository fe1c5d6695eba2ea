import { closeSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Held while a test file steers pids: the files that do run in parallel, and would take each other's. */
const LOCK = join(tmpdir(), 'netwho-test-ns-last-pid.lock');

/**
 * Starts a process (`start`) on `pid`, an exited process's, as root: /proc/sys/kernel/ns_last_pid
 * makes the next fork take the pid after the one written, unless another fork gets there first, so
 * it is tried up to 50 times. Undefined when another fork took the pid every time. The test files
 * that do this take turns (a lock file naming its holder; one left by a process that is gone is
 * taken over), or each one's forks would take the pids the others steer.
 */
export async function startOnPid<T extends { pid: number; stop(): Promise<void> }>(
  pid: number,
  start: () => Promise<T>,
): Promise<T | undefined> {
  await lock();
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
      const started = await start();
      if (started.pid === pid) return started;
      await started.stop();
    }
    return undefined;
  } finally {
    unlinkSync(LOCK);
  }
}

async function lock(): Promise<void> {
  for (const end = Date.now() + 120_000; ; ) {
    if (Date.now() > end) throw new Error(`${LOCK} is held for over 2 minutes: remove it if no test runs`);
    try {
      const fd = openSync(LOCK, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (!holderRuns()) {
      try {
        unlinkSync(LOCK);
      } catch {
        // another waiter took it over first
      }
      continue;
    }
    await sleep(20);
  }
}

/** Whether the process named in the lock file still runs (taken to, for an empty file: it is being written). */
function holderRuns(): boolean {
  let holder: number;
  try {
    holder = Number(readFileSync(LOCK, 'utf8'));
  } catch {
    return true; // gone meanwhile: try again
  }
  if (!Number.isInteger(holder) || holder <= 0) return true;
  try {
    process.kill(holder, 0);
    return true;
  } catch {
    return false;
  }
}
