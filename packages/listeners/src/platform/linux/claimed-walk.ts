import { type OnSocket, walkSocketFds } from './fd-walk';
import { CHUNK, Ctl, claim } from './walk-protocol';

/** One thread's part of a shared walk: pids it read, and what walkSocketFds reported of them. */
export interface WalkPart {
  walked: number;
  denied: number[];
  unsettled: number[];
  /** True once a callback stopped the walk (it found what it looked for). */
  stopped: boolean;
}

export const emptyPart = (): WalkPart => ({ walked: 0, denied: [], unsettled: [], stopped: false });

/** Walks `pids` and adds the outcome to `part`; returns whether the walk stopped. */
export function walkInto(
  part: WalkPart,
  pids: Int32Array,
  wants: (inode: number) => boolean,
  onSocket: OnSocket,
): boolean {
  const walk = walkSocketFds(wants, onSocket, pids);
  part.walked += pids.length;
  part.denied.push(...walk.denied);
  part.unsettled.push(...walk.unsettled);
  if (walk.stopped) part.stopped = true;
  return walk.stopped;
}

/**
 * This thread's share of job `gen`: the pids of `pids` it claims, CHUNK at a time, until none are
 * left or one thread has stopped the job; a walk that stops here stops the other thread too (STOP).
 * The same loop runs on the main thread and in the worker.
 */
export function walkClaims(
  ctl: Int32Array,
  gen: number,
  pids: Int32Array,
  wants: (inode: number) => boolean,
  onSocket: OnSocket,
  part: WalkPart,
): void {
  if (part.stopped) Atomics.store(ctl, Ctl.STOP, gen);
  for (let at = part.stopped ? -1 : claim(ctl, gen); at >= 0; at = claim(ctl, gen)) {
    if (Atomics.load(ctl, Ctl.STOP) === gen) return;
    const count = Math.min(CHUNK, Atomics.load(ctl, Ctl.COUNT) - at);
    if (walkInto(part, pids.subarray(at, at + count), wants, onSocket)) {
      Atomics.store(ctl, Ctl.STOP, gen);
      return;
    }
  }
}
