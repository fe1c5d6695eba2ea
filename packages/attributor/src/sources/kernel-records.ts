import type { ConnectionOwnerSource, OwnerQuery, Syn } from '../types';
import type { Clock } from '../util/clock';

/** What the kernel's record said, as ConnectionOwnerSource answers it. */
export type KernelHit = NonNullable<ReturnType<ConnectionOwnerSource['ownerOf']>>;

/** The kernel's clock and the capture's, both turned into ms since 1970, may disagree a little. */
export const SLACK_MS = 50;

/**
 * Whether the kernel's record `hit` is this flow's, not an earlier connection's on the same
 * 5-tuple (pure, for plain-data tests):
 * - `accept` records are written at an accepted socket's first send or receive, after its SYN:
 *   they carry the peer's initial sequence number, which must be the flow's opening SYN's. A flow
 *   seen from its middle (no SYN) takes one only if it is not newer than its first packet.
 * - the others are written before the packets they explain (connect, binds) or just after them
 *   (UDP sends and receives, once the call returns): not newer than the flow's first packet, give
 *   or take SLACK_MS; a UDP send at most `udpRecordAgeMs` older (a bind stays true as
 *   long as its socket: the kernel removes it on close).
 */
export function recordFits(
  hit: KernelHit,
  query: OwnerQuery,
  firstSeen: number,
  syn: Syn | undefined,
  udpRecordAgeMs: number,
): boolean {
  if (hit.hook === 'accept' && syn && !syn.fromLocal) return hit.syn === syn.seq;
  if (hit.at > firstSeen + SLACK_MS) return false;
  if (query.protocol === 'UDP' && hit.hook !== 'bind' && hit.at < firstSeen - udpRecordAgeMs) return false;
  return true;
}

/**
 * Delays before each new question for a flow with no record yet: every millisecond for the first
 * eight (a server usually reads or writes within them), then doubling, about half a second in all.
 */
const BACKOFF_MS = [1, 1, 1, 1, 1, 1, 1, 1, 2, 4, 8, 16, 32, 64, 128, 256];
/** After the question 14 ms in, the socket table is asked too. */
export const SOCKET_TABLE_AFTER_STEP = 9;
/**
 * A UDP flow without its record is asked again four times, 1 ms apart, then the socket table
 * answers alone: its record follows the datagram the capture saw by microseconds, and a datagram
 * to a port nothing holds (or traffic passing through) should cost five questions, not seventeen.
 */
export const UDP_LAST_STEP = 3;
/** The last question of a wait (after it, a flow is not asked on a timer again). */
export const LAST_STEP = BACKOFF_MS.length - 1;

/**
 * Flows whose record the kernel writes after their first packet was captured (a TCP connection
 * accepted here, at the accepted socket's first send or receive; UDP, after the send or receive
 * returns): asked again (1 ms apart, then 2, 4 ... 256 ms) until `ask`
 * says it is settled (it is told which question it was: the first is step 0). One queue per step keeps due times in order, so a tick costs only the
 * flows it asks. Bounded: past `capacity` a new flow is not waited for (counted in `dropped`),
 * and the socket table answers it alone.
 */
export class KernelWaits {
  private readonly queues: { id: number; due: number }[][] = BACKOFF_MS.map(() => []);
  private readonly heads = new Int32Array(BACKOFF_MS.length);
  private size = 0;
  private cancel: (() => void) | undefined;
  private timerDue = Number.POSITIVE_INFINITY;
  dropped = 0;

  constructor(
    private readonly clock: Clock,
    /** Asks for flow `id` again: true when it is settled (labelled, or gone). */
    private readonly ask: (id: number, step: number) => boolean,
    private readonly capacity = 4096,
  ) {}

  get waiting(): number {
    return this.size;
  }

  /** Waits for flow `id`; false (and counted) when the list is full. */
  add(id: number): boolean {
    if (this.size >= this.capacity) {
      this.dropped++;
      return false;
    }
    this.push(0, id, this.clock.now());
    return true;
  }

  close(): void {
    this.cancel?.();
    this.cancel = undefined;
    for (const q of this.queues) q.length = 0;
    this.heads.fill(0);
    this.size = 0;
  }

  private push(step: number, id: number, now: number): void {
    this.queues[step]!.push({ id, due: now + BACKOFF_MS[step]! });
    this.size++;
    this.schedule();
  }

  private schedule(): void {
    let due = Number.POSITIVE_INFINITY;
    this.queues.forEach((q, step) => {
      const head = q[this.heads[step]!];
      if (head && head.due < due) due = head.due;
    });
    if (due >= this.timerDue) return;
    this.cancel?.();
    this.timerDue = due;
    this.cancel = this.clock.setTimer(() => this.tick(), Math.max(0, due - this.clock.now()));
  }

  private tick(): void {
    this.cancel = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    for (let step = BACKOFF_MS.length - 1; step >= 0; step--) {
      const q = this.queues[step]!;
      while (this.heads[step]! < q.length && q[this.heads[step]!]!.due <= now) {
        const { id } = q[this.heads[step]!++]!;
        this.size--;
        if (!this.ask(id, step) && step + 1 < BACKOFF_MS.length) this.push(step + 1, id, now);
      }
      // Drop what was asked: all of it, or (under a steady stream) the front half.
      const head = this.heads[step]!;
      if (head === q.length || head > 1024) {
        q.splice(0, head);
        this.heads[step] = 0;
      }
    }
    this.schedule();
  }
}
