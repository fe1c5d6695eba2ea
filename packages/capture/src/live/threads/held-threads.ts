import { isMainThread } from 'node:worker_threads';

/**
 * What HelperThreads and ReaderCpu share: holds counted (the last one puts back what the first
 * changed), a look at the process's threads every `everyMs` while held (libuv starts its pool at
 * its first use, workers come and go), and which threads were moved or left as they were.
 */
export abstract class HeldThreads {
  private holders = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Threads this moved, put back when the last hold ends. */
  protected readonly moved = new Set<number>();
  /** Threads looked at and left as they were. */
  protected readonly left = new Set<number>();
  protected refused: string | undefined;

  constructor(
    protected readonly self: number,
    private readonly everyMs: number,
    /** What a failing look could not read or set, for `reason`. */
    private readonly what: string,
  ) {}

  get movedCount(): number {
    return this.moved.size;
  }
  get reason(): string | undefined {
    return this.refused;
  }
  protected get holding(): number {
    return this.holders;
  }

  /** Counts one more hold (the first starts the looks), then looks at once. */
  protected addHold(): void {
    if (++this.holders === 1) {
      this.timer = setInterval(() => this.refresh(), this.everyMs);
      this.timer.unref();
    }
    this.refresh();
  }

  /** Moves the threads not looked at yet. Never throws (it runs on a timer): a failure is kept in `reason`. */
  refresh(): void {
    if (this.holders === 0) return;
    try {
      this.look();
    } catch (error) {
      this.refused = `${this.what} could not be read or set: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  /** Of `threads` (the process's now), those not looked at yet, once the ones that exited are forgotten. */
  protected unseen(threads: number[]): number[] {
    const now = new Set(threads);
    for (const set of [this.moved, this.left]) for (const tid of set) if (!now.has(tid)) set.delete(tid);
    return [...now].filter((tid) => tid !== this.self && !this.moved.has(tid) && !this.left.has(tid));
  }

  /** Ends one hold; the last stops the looks and puts back what was moved. */
  protected endHold(): void {
    if (--this.holders > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.putBack();
    this.moved.clear();
    this.left.clear();
  }

  /** Moves the threads `unseen` gives. */
  protected abstract look(): void;
  /** Puts back the threads moved (and whatever else the first hold changed). */
  protected abstract putBack(): void;
}

/** One hold, as handed out: released once, refreshed only while held. */
export class Hold {
  protected held = true;

  constructor(
    private readonly holds: { refresh(): void },
    private readonly end: () => void,
  ) {}

  refresh(): void {
    if (this.held) this.holds.refresh();
  }
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.end();
  }
}

/**
 * Why this process's threads are not set from here, or undefined: `what` ("CPUs are bound") is
 * done on Linux, from the main thread, whose helpers the other threads are.
 */
export function notSetHere(what: string): string | undefined {
  if (process.platform !== 'linux') return `${what} on Linux only`;
  return isMainThread ? undefined : 'not on the main thread: the other threads are not its helpers';
}
