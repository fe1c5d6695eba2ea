import { HeldThreads, Hold, notSetHere } from './held-threads';
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
export class HelperThreads extends HeldThreads {
  constructor(
    private readonly system: ThreadSystem,
    self: number,
    everyMs = 1000,
  ) {
    super(self, everyMs, 'thread policies');
  }

  hold(): HelperThreadsHold {
    this.addHold();
    return new HelperHold(this, () => this.endHold());
  }

  protected look(): void {
    for (const tid of this.unseen(this.system.threads())) {
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

  protected putBack(): void {
    for (const tid of this.moved) {
      try {
        if (this.system.policy(tid) === SCHED_BATCH) this.system.setPolicy(tid, SCHED_OTHER);
      } catch {
        // Put back what can be: the others are not held back by one that cannot.
      }
    }
  }
}

class HelperHold extends Hold implements HelperThreadsHold {
  constructor(
    private readonly helpers: HelperThreads,
    end: () => void,
  ) {
    super(helpers, end);
  }

  get moved(): number {
    return this.helpers.movedCount;
  }
  get reason(): string | undefined {
    return this.helpers.reason;
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
  const reason = notSetHere('scheduling policies are set');
  if (reason !== undefined) {
    return { moved: 0, reason, refresh() {}, release() {} };
  }
  shared ??= new HelperThreads(linuxThreads, process.pid);
  return shared.hold();
}
