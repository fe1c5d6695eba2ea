import type { Clock, FlowInput, Owner, OwnerAnswer, OwnerQuery, OwnerSource, Process } from '../src/index';

/**
 * A clock whose time moves only when the test says; timers run in time order as it moves.
 * `early` makes timers run up to that many ms before their time (at least 1 ms after being set),
 * as Node's do when they were set after a long synchronous stretch of the event loop.
 */
export class FakeClock implements Clock {
  private time = 1_700_000_000_000;
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;

  constructor(private readonly early = 0) {}

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const at =
      this.early > 0 && ms > 0 ? Math.max(this.time + ms - this.early, this.time + 1) : this.time + ms;
    const timer = { at, seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `ms`, running every timer that falls due (and the promises they start). */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.time = end;
    await settle();
  }
}

/** Lets pending promise callbacks run. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A socket table the test edits: `own(query-ish, owner)` decides answers. Records every lookup call
 * with its time, and lets a test hold a lookup open to see what arrives meanwhile.
 */
export class FakeSource implements OwnerSource {
  calls: { at: number; queries: OwnerQuery[] }[] = [];
  verifications = 0;
  /** port -> answer for that local port (any peer). */
  answers = new Map<number, OwnerAnswer>();
  /** inodes whose owners still hold them. */
  held = new Set<number>();
  failNext = false;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  constructor(private readonly clock: FakeClock) {}

  own(port: number, process: Process, inode: number, extra: Partial<Owner> = {}): Owner {
    const owner: Owner = { process, inode, fd: 3, localAddress: '0.0.0.0', ...extra };
    this.answers.set(port, { owner });
    this.held.add(inode);
    return owner;
  }

  /** The owner closes the socket: it no longer verifies, and the port has no socket. */
  close(port: number): void {
    const answer = this.answers.get(port);
    if (answer && 'owner' in answer) this.held.delete(answer.owner.inode);
    this.answers.delete(port);
  }

  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  async lookup(queries: readonly OwnerQuery[]): Promise<OwnerAnswer[]> {
    this.calls.push({ at: this.clock.now(), queries: [...queries] });
    if (this.gate) await this.gate;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('table read failed');
    }
    return queries.map((q) => {
      const answer = this.answers.get(q.local.port) ?? { missing: 'not-found' as const };
      if ('owner' in answer && answer.owner.remote && answer.owner.remote.port !== q.remote.port) {
        return { missing: 'not-found' as const };
      }
      return answer;
    });
  }

  verify(owner: Owner): boolean {
    this.verifications++;
    return this.held.has(owner.inode);
  }
}

let nextFlowId = 1;
export function flow(port: number, options: Partial<FlowInput> & { remotePort?: number } = {}): FlowInput {
  return {
    id: nextFlowId++,
    protocol: 6,
    local: { address: '127.0.0.1', port },
    remote: { address: '10.0.0.9', port: options.remotePort ?? 443 },
    ...options,
  };
}

export const FIREFOX: Process = { pid: 100, name: 'firefox', path: '/usr/lib/firefox/firefox' };
export const CURL: Process = { pid: 200, name: 'curl', path: '/usr/bin/curl' };
