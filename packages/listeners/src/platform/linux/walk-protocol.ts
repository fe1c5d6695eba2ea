/**
 * How the main thread and the walk worker share one /proc walk (see parallel-walk.ts). Pure: the
 * claim logic is tested with plain arrays.
 *
 * Control words live in a small SharedArrayBuffer that never changes. The main thread starts job
 * `gen` by writing the pids, setting NEXT to (gen, index 0), then GEN. Both threads then claim
 * CHUNK pids at a time with a compare-and-swap on NEXT, which carries the job's generation: a
 * worker that wakes late, or still runs an old job, cannot take pids of a newer one.
 */
export const Ctl = {
  /** The current job's generation (the worker sleeps on this word). */
  GEN: 0,
  /** (generation & GEN_MASK) << INDEX_BITS | the next unclaimed index into the job's pids. */
  NEXT: 1,
  /** How many pids the job has. */
  COUNT: 2,
  /** What the worker reports: Mode.ALL or Mode.WANTED. */
  MODE: 3,
  /** Set to the generation when a thread found what a WANTED job looks for: the other stops. */
  STOP: 4,
  /** The generation the worker took part in (set before its first claim). */
  JOINED: 5,
  /** The generation the worker finished (its results are posted before this is set). */
  DONE: 6,
  /** How many inodes a WANTED job looks for (in the data buffer after the pids). */
  WANTED: 7,
} as const;
export const CTL_WORDS = 8;

export const Mode = {
  /** Report every socket fd of every process, with the process. */
  ALL: 0,
  /** Report the first process holding one of the wanted inodes, then stop. */
  WANTED: 1,
} as const;

/** Pids per claim: small, so that neither thread waits long for the other at the end. */
export const CHUNK = 8;
const INDEX_BITS = 20;
const INDEX_MASK = (1 << INDEX_BITS) - 1;
const GEN_MASK = 0x7ff;
/** Most pids one job can hold (the index has 20 bits); larger walks run on one thread. */
export const MAX_PIDS = INDEX_MASK - CHUNK;

/** The NEXT word that starts job `gen`. */
export function firstClaim(gen: number): number {
  return (gen & GEN_MASK) << INDEX_BITS;
}

/** The NEXT word that ends job `gen`: nothing more can be claimed from it. */
export function lastClaim(gen: number): number {
  return firstClaim(gen) | INDEX_MASK;
}

/** How many pids of job `gen` have been claimed so far (all of them once it is over). */
export function claimed(ctl: Int32Array, gen: number): number {
  const next = Atomics.load(ctl, Ctl.NEXT);
  return next >>> INDEX_BITS === (gen & GEN_MASK) ? next & INDEX_MASK : 0;
}

/**
 * Claims the next CHUNK pids of job `gen`: returns the index of the first, or -1 when the job has
 * none left or is no longer the current one.
 */
export function claim(ctl: Int32Array, gen: number): number {
  for (;;) {
    const next = Atomics.load(ctl, Ctl.NEXT);
    if (next >>> INDEX_BITS !== (gen & GEN_MASK)) return -1;
    const index = next & INDEX_MASK;
    if (index >= Atomics.load(ctl, Ctl.COUNT)) return -1;
    if (Atomics.compareExchange(ctl, Ctl.NEXT, next, next + CHUNK) === next) return index;
  }
}

/** A process the worker found holding sockets: `sockets` is [fd, inode, fd, inode, ...]. */
export interface FoundProcess {
  pid: number;
  name: string;
  path: string;
  sockets: number[];
}

/** What the worker posts when it has finished its part of a job. */
export interface WorkerReport {
  gen: number;
  /** Pids the worker read; 0 when it joined after the main thread had claimed them all. */
  walked: number;
  /** True when it found what a WANTED job looks for. */
  stopped: boolean;
  found: FoundProcess[];
  denied: number[];
  unsettled: number[];
}

/** The job data the main thread posts when it needs a larger buffer: pids, then wanted inodes. */
export interface DataBuffer {
  buffer: SharedArrayBuffer;
  /** Capacity in pids; MAX_WANTED inode slots follow. */
  capacity: number;
}
export const MAX_WANTED = 64;

/** A data buffer for no pids yet (it grows on the first job). */
export function emptyData(): DataBuffer {
  return { buffer: new SharedArrayBuffer(MAX_WANTED * 4), capacity: 0 };
}

export function dataViews(data: DataBuffer): { pids: Int32Array; wanted: Uint32Array } {
  return {
    pids: new Int32Array(data.buffer, 0, data.capacity),
    wanted: new Uint32Array(data.buffer, data.capacity * 4, MAX_WANTED),
  };
}
