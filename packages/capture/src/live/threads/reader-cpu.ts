import { HeldThreads, Hold, notSetHere } from './held-threads';
import { linuxThreads } from './linux-threads';

/**
 * Why a capture's reader can be given a CPU of its own. Under SCHED_BATCH (helper-threads.ts) the
 * process's helpers no longer preempt the reader when they wake, but they still share its CPU: the
 * scheduler's tick (4 ms at HZ=250, no high-resolution tick) then and again hands the CPU to a
 * helper that has waited its turn (EEVDF runs the eligible entity with the earliest deadline; a
 * runnable helper behind in virtual time leaves the reader ineligible, whatever their weights),
 * and the reader, runnable, waits a whole tick while packets queue in the ring. Measured with
 * `perf sched timehist` beside 1,000 connections 0.1 ms apart: waits of 4.0 ms behind the
 * process's own V8 compiler threads, which TurboFan keeps busy for a second or more after a
 * monitor opens. Neither nice -10 for the reader with nice 19 for the helpers, a 0.1 ms custom
 * slice (sched_setattr), nor keeping the helpers off the reader's current CPU (it moves on each
 * wake-up) removed those waits. SCHED_FIFO for the reader did, but a reader busy with a flood
 * would keep its CPU from every other program (up to the real-time limit, 95%); binding the
 * reader to one CPU and the other threads to the rest does it without that. It is a choice for
 * the user (like taskset's): the reader cannot then move off a CPU that other programs keep busy,
 * and the process's other threads have one CPU fewer. A process started from the main thread while
 * it is bound (child_process) inherits its one CPU, as affinity is inherited across fork and exec.
 */

/** What ReaderCpu needs of the OS: linux-threads.ts, or plain data in tests. */
export interface AffinitySystem {
  /** The ids of this process's threads. */
  threads(): number[];
  /** The CPUs a thread may run on (sched_getaffinity(2)), ascending; undefined once it has exited. */
  cpus(tid: number): number[] | undefined;
  /** Sets them: 'done', 'gone' (it had exited), or why they could not be set. */
  setCpus(tid: number, cpus: number[]): string;
}

/** A hold on the reader's CPU (see holdReaderCpu). */
export interface ReaderCpuHold {
  /** The CPU the reader is bound to, undefined when it could not be. */
  readonly cpu: number | undefined;
  /** The process's other threads kept off it. */
  readonly moved: number;
  /** Why the reader is not bound, or why some threads were left where they were. */
  readonly reason: string | undefined;
  /** Moves threads started since (also done every second while held). */
  refresh(): void;
  /** Ends this hold; when the last ends, the reader and the threads moved get their CPUs back. Idempotent. */
  release(): void;
}

const sameCpus = (a: number[], b: number[]) => a.length === b.length && a.every((cpu, i) => cpu === b[i]);

/**
 * Binds the reading thread (`self`) to one CPU and the process's other threads to the other CPUs
 * it was allowed, while at least one hold is kept; looks again every `everyMs` for new threads
 * (started from the reader, they inherit its one CPU). A thread whose CPUs were neither the
 * process's nor the reader's was set so on purpose, and is left alone. Bounded by the process's
 * threads.
 */
export class ReaderCpu extends HeldThreads {
  private bound: number | undefined;
  /** The reader's CPUs before it was bound: what the others are given back. */
  private allowed: number[] = [];
  private others: number[] = [];

  constructor(
    private readonly system: AffinitySystem,
    self: number,
    everyMs = 1000,
  ) {
    super(self, everyMs, 'CPUs');
  }

  get cpu(): number | undefined {
    return this.bound;
  }

  hold(cpu: number): ReaderCpuHold {
    if (this.holding > 0 && cpu !== this.bound) {
      return unbound(`the reader is bound to CPU ${this.bound} already, by another capture`);
    }
    if (this.holding === 0) {
      const why = this.bind(cpu);
      if (why !== undefined) return unbound(why);
    }
    this.addHold();
    return new ReaderHold(this, () => this.endHold());
  }

  /** Binds the reader; why not, when it cannot be. */
  private bind(cpu: number): string | undefined {
    try {
      const allowed = this.system.cpus(this.self);
      if (allowed === undefined) return "the reader's CPUs could not be read";
      if (!allowed.includes(cpu)) return `CPU ${cpu} is not one this process may use (${allowed.join(',')})`;
      if (allowed.length < 2) return 'this process may use one CPU only: there is none to keep the others on';
      const result = this.system.setCpus(this.self, [cpu]);
      if (result !== 'done') return result;
      this.bound = cpu;
      this.allowed = allowed;
      this.others = allowed.filter((c) => c !== cpu);
      this.refused = undefined;
      return undefined;
    } catch (error) {
      return `CPUs could not be read or set: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  protected look(): void {
    const bound = this.bound as number;
    for (const tid of this.unseen(this.system.threads())) {
      const cpus = this.system.cpus(tid);
      if (cpus === undefined) continue; // exited meanwhile
      if (!sameCpus(cpus, this.allowed) && !sameCpus(cpus, [bound])) {
        this.left.add(tid);
        continue;
      }
      const result = this.system.setCpus(tid, this.others);
      if (result === 'done') this.moved.add(tid);
      else if (result !== 'gone') {
        this.refused = result;
        this.left.add(tid);
      }
    }
  }

  protected putBack(): void {
    // Put back what is still as this set it: a thread or reader moved since was moved on purpose.
    for (const tid of [...this.moved, this.self]) {
      try {
        const cpus = this.system.cpus(tid);
        const set = tid === this.self ? [this.bound as number] : this.others;
        if (cpus !== undefined && sameCpus(cpus, set)) this.system.setCpus(tid, this.allowed);
      } catch {
        // Put back what can be: the others are not held back by one that cannot.
      }
    }
    this.bound = undefined;
  }
}

function unbound(reason: string): ReaderCpuHold {
  return { cpu: undefined, moved: 0, reason, refresh() {}, release() {} };
}

class ReaderHold extends Hold implements ReaderCpuHold {
  constructor(
    private readonly readerCpu: ReaderCpu,
    end: () => void,
  ) {
    super(readerCpu, end);
  }

  get cpu(): number | undefined {
    return this.held ? this.readerCpu.cpu : undefined;
  }
  get moved(): number {
    return this.held ? this.readerCpu.movedCount : 0;
  }
  get reason(): string | undefined {
    return this.readerCpu.reason;
  }
}

let shared: ReaderCpu | undefined;

/**
 * Binds the main thread, which reads the packets, to `cpu`, and this process's other threads
 * (V8's compiler and collector helpers, libuv's pool, workers) to the other CPUs it may use, while
 * held (see above). Off Linux, off the main thread, on one CPU, or for a CPU the process may not
 * use, it binds nothing and says why in `reason`.
 */
export function holdReaderCpu(cpu: number): ReaderCpuHold {
  const reason = notSetHere('CPUs are bound');
  if (reason !== undefined) return unbound(reason);
  shared ??= new ReaderCpu(linuxThreads, process.pid);
  return shared.hold(cpu);
}
