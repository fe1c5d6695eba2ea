import { isMainThread } from 'node:worker_threads';
import { linuxThreads, SCHED_BATCH, SCHED_OTHER } from './linux-threads';

/**
 * Why a capture's reader moves its process's other threads to SCHED_BATCH. Node runs V8's
 * optimizing compiler and its garbage-collector helpers, and libuv's pool, on threads of their
 * own. When the main thread queues work for one of them, the wake-up lets that thread preempt the
 * main thread on its CPU (EEVDF picks the eligible thread just woken), and the main thread, still
 * runnable, waits out the helper's slice: 1.4–4.8 ms here, measured with `perf sched timehist` in
 * the monitor bench's C-to-C row, while the ring fills. A thread under SCHED_BATCH keeps its share
 * of the CPU (unlike SCHED_IDLE or a higher nice value, it is never starved) but its wake-ups do
 * not preempt others (kernel/sched/fair.c, check_preempt_wakeup_fair: "BATCH and IDLE tasks do
 * not preempt others"; sched(7)), so the reader is not put off by its own helpers. A process
 * started from a moved thread (a worker's child_process) inherits the policy across fork and exec.
 */

/** What HelperThreads needs of the OS: linux-threads.ts, or plain data in tests. */
export interface ThreadSystem {
  /** The ids of this process's threads. */
  threads(): number[];
  /** A thread's scheduling policy (sched(7)); undefined once it has exited. */
  policy(tid: number): number | undefined;
  /** Sets a thread's policy: 'done', 'gone' (it had exited), or why it could not be set. */
  setPolicy(tid: number, policy: number): string;
}

/** A hold on the process's helper threads (see holdHelperThreads). */
export interface HelperThreadsHold {
  /** Threads now under SCHED_BATCH because of the holds (this one and any other). */
  readonly moved: number;
  /** Why threads were left as they were: not Linux, not the main thread, or the kernel refused. */
  readonly reason: string | undefined;
  /** Moves threads started since (also done every second while held). */
  refresh(): void;
  /** Ends this hold; when the last ends, the threads moved go back to SCHED_OTHER. Idempotent. */
  release(): void;
}

/**
 * The process's threads other than `self`, moved from SCHED_OTHER to SCHED_BATCH while at least
 * one hold is kept, and looked at again every `everyMs` for new ones (libuv starts its pool at
 * its first use, workers come and go). A thread under another policy was set so on purpose, and
 * is left alone. Bounded by the process's threads.
 */
export class HelperThreads {
  private holders = 0;
  /** Threads this moved to SCHED_BATCH, put back when the last hold ends. */
  private readonly moved = new Set<number>();
  /** Threads looked at and left as they were. */
  private readonly left = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private refused: string | undefined;

  constructor(
    private readonly system: ThreadSystem,
    private readonly self: number,
    private readonly everyMs = 1000,
  ) {}

  get movedCount(): number {
    return this.moved.size;
  }
  get reason(): string | undefined {
    return this.refused;
  }

  hold(): HelperThreadsHold {
    this.holders++;
    if (this.holders === 1) {
      this.timer = setInterval(() => this.refresh(), this.everyMs);
      this.timer.unref();
    }
    this.refresh();
    return new Hold(this, () => this.release());
  }

  /** Moves the threads not looked at yet. Never throws (it runs on a timer): a failure is kept in `reason`. */
  refresh(): void {
    if (this.holders === 0) return;
    try {
      this.moveNew();
    } catch (error) {
      this.refused = `thread policies could not be read or set: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  private moveNew(): void {
    const now = new Set(this.system.threads());
    for (const set of [this.moved, this.left]) for (const tid of set) if (!now.has(tid)) set.delete(tid);
    for (const tid of now) {
      if (tid === this.self || this.moved.has(tid) || this.left.has(tid)) continue;
      const policy = this.system.policy(tid);
      if (policy === undefined) continue; // exited meanwhile
      if (policy !== SCHED_OTHER) {
        this.left.add(tid);
        continue;
      }
      const result = this.system.setPolicy(tid, SCHED_BATCH);
      if (result === 'done') this.moved.add(tid);
      else if (result !== 'gone') {
        this.refused = result;
        this.left.add(tid);
      }
    }
  }

  private release(): void {
    if (--this.holders > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
    for (const tid of this.moved) {
      try {
        if (this.system.policy(tid) === SCHED_BATCH) this.system.setPolicy(tid, SCHED_OTHER);
      } catch {
        // Put back what can be: the others are not held back by one that cannot.
      }
    }
    this.moved.clear();
    this.left.clear();
  }
}

class Hold implements HelperThreadsHold {
  private held = true;

  constructor(
    private readonly threads: HelperThreads,
    private readonly end: () => void,
  ) {}

  get moved(): number {
    return this.threads.movedCount;
  }
  get reason(): string | undefined {
    return this.threads.reason;
  }
  refresh(): void {
    if (this.held) this.threads.refresh();
  }
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.end();
  }
}

let shared: HelperThreads | undefined;

/**
 * Keeps this process's other threads (V8's compiler and collector helpers, libuv's pool, workers)
 * from preempting the main thread while held: moved to SCHED_BATCH, which keeps their CPU share
 * but not their wake-up preemption (see above). For a reader on the main thread that must see
 * each packet soon, as LiveCapture does with `immediate`. Does nothing (and says why in `reason`)
 * off Linux or off the main thread, whose helpers are not its own to move.
 */
export function holdHelperThreads(): HelperThreadsHold {
  const reason =
    process.platform !== 'linux'
      ? 'scheduling policies are set on Linux only'
      : !isMainThread
        ? 'not on the main thread: the other threads are not its helpers'
        : undefined;
  if (reason !== undefined) {
    return { moved: 0, reason, refresh() {}, release() {} };
  }
  shared ??= new HelperThreads(linuxThreads, process.pid);
  return shared.hold();
}
