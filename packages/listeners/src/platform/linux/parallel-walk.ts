/**
 * One /proc walk on two threads. Reading every process's fds is most of a scan's time and is bound
 * by system calls, so a second thread takes a large share of it (a scan of 1,000 processes went
 * from ~60 to ~40 ms; the threads slow each other somewhat in the kernel). The main thread and a worker (walk-worker.ts) claim
 * a few pids at a time from one shared list (walk-protocol.ts), so the split adjusts itself: the
 * main thread joins after reading the socket table, and if the worker is not running yet (it starts
 * on the first scan and then sleeps between scans) the main thread simply does all of it.
 *
 * The main thread handles its pids as a one-thread walk does (its `onSocket` pins each process and
 * reads it); the worker does the same for its pids and sends back what it found, which the caller
 * merges. A worker that fails, or does not finish within WORKER_TIMEOUT_MS, is stopped for good and
 * the walk is redone on one thread: the answer never depends on the worker.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { emptyPart, walkClaims, walkInto } from './claimed-walk';
import { type OnSocket, type WalkReport, walkSocketFds } from './fd-walk';
import {
  CTL_WORDS,
  Ctl,
  claimed,
  type DataBuffer,
  dataViews,
  emptyData,
  type FoundProcess,
  firstClaim,
  lastClaim,
  MAX_PIDS,
  MAX_WANTED,
  Mode,
  type WorkerReport,
} from './walk-protocol';

/**
 * Below this many processes a second thread is not worth starting: the walk takes a few ms, less
 * than the worker takes to start (about 3 ms of this thread and 30 ms before it can help).
 */
const MIN_PIDS = 256;
const WORKER_TIMEOUT_MS = 5_000;

export interface ParallelWalkReport extends WalkReport {
  /** Processes the worker found holding sockets (the main thread's went to `onSocket`). */
  found: FoundProcess[];
  /** Threads that read /proc: 2 when the worker took part. */
  threads: number;
}

/**
 * What the worker reports: every socket fd of its processes (`all`, for full scans), or the first
 * process holding one of `inodes` (a port lookup; either thread finding it stops both).
 */
export type WorkerTask = { mode: 'all' } | { mode: 'wanted'; inodes: readonly number[] };

/** A walk under way: the worker may already be reading; `join` does the main thread's part. */
export interface WalkJob {
  /**
   * Walks `first` (pids the job did not list, such as processes started since: they are the
   * newest) and then the pids left, calling `onSocket` for the wanted sockets; then waits for the
   * worker's part (at most one CHUNK). Call it once.
   */
  join(wants: (inode: number) => boolean, onSocket: OnSocket, first?: Int32Array): ParallelWalkReport;
  /** Ends the walk unread (nothing to look for), once the worker has let go of it. */
  abandon(): ParallelWalkReport;
  /** How many of the pids, from the first, the worker may have read so far (0 on one thread). */
  readSoFar(): number;
}

const nothingWalked = (): ParallelWalkReport => ({
  denied: [],
  unsettled: [],
  stopped: false,
  found: [],
  threads: 0,
});

/**
 * Starts a walk of `pids` (in that order) that runs on two threads when `parallel` allows and a
 * worker can run. `parallel`: true to use the worker whenever it runs, undefined to use it for
 * MIN_PIDS processes or more on a machine with 2+ CPUs, false never. Start it early (a full scan
 * starts it before reading the socket table) so that the worker reads while this thread works.
 */
export function startWalk(pids: Int32Array, task: WorkerTask, parallel: boolean | undefined): WalkJob {
  const pool = parallel === false || !worthIt(pids, task, parallel) ? undefined : WalkPool.get();
  const oneThread: WalkJob = {
    join: (wants, onSocket, first) => {
      const all = first?.length ? Int32Array.from([...first, ...pids]) : pids;
      return { ...walkSocketFds(wants, onSocket, all), found: [], threads: 1 };
    },
    abandon: nothingWalked,
    readSoFar: () => 0,
  };
  if (!pool) return oneThread;
  const gen = pool.start(pids, task);
  return {
    // If the worker failed, the main thread's part may have stopped early: walk everything again.
    join: (wants, onSocket, first) =>
      pool.join(gen, wants, onSocket, first) ?? oneThread.join(wants, onSocket, first),
    abandon: () => {
      pool.abandon(gen);
      return nothingWalked();
    },
    readSoFar: () => Math.min(pids.length, claimed(pool.control, gen)),
  };
}

function worthIt(pids: Int32Array, task: WorkerTask, parallel: boolean | undefined): boolean {
  if (pids.length > MAX_PIDS) return false;
  if (task.mode === 'wanted' && task.inodes.length > MAX_WANTED) return false;
  return parallel === true || (pids.length >= MIN_PIDS && availableParallelism() >= 2);
}

/** The walk worker of this process, started on first use; undefined once it failed. */
class WalkPool {
  private static pool: WalkPool | undefined;
  private static failed = false;

  static get(): WalkPool | undefined {
    if (WalkPool.failed) return undefined;
    if (!WalkPool.pool) {
      const script = workerScript();
      if (!script) {
        WalkPool.failed = true; // running from the TypeScript sources: no built worker to start
        return undefined;
      }
      WalkPool.pool = new WalkPool(script);
    }
    return WalkPool.pool;
  }

  private readonly ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  get control(): Int32Array {
    return this.ctl;
  }
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private data: DataBuffer = emptyData();
  private gen = 0;

  private constructor(script: string) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(script, {
      workerData: { ctl: this.ctl.buffer, port: port2 },
      // The program's own flags (--input-type, loaders) are not the worker's: it is plain ESM.
      execArgv: [],
      transferList: [port2],
    });
    // The worker sleeps between scans; it must not keep the program alive.
    this.worker.unref();
    this.port.unref();
    this.worker.on('error', () => this.fail());
    this.worker.on('exit', () => this.fail());
  }

  /** Starts job `gen` over `pids`: from now on the worker may claim them. Returns `gen`. */
  start(pids: Int32Array, task: WorkerTask): number {
    const ctl = this.ctl;
    this.gen = (this.gen + 1) & 0x3fffffff || 1; // never 0, which the words start at
    const gen = this.gen;
    this.prepare(pids, task);
    Atomics.store(ctl, Ctl.COUNT, pids.length);
    Atomics.store(ctl, Ctl.NEXT, firstClaim(gen));
    Atomics.store(ctl, Ctl.GEN, gen);
    Atomics.notify(ctl, Ctl.GEN);
    return gen;
  }

  /** The main thread's part of job `gen`, then the worker's report; undefined if the worker failed. */
  join(
    gen: number,
    wants: (inode: number) => boolean,
    onSocket: OnSocket,
    first: Int32Array | undefined,
  ): ParallelWalkReport | undefined {
    const ctl = this.ctl;
    // The pids the job did not list come first (they are the newest), then this thread's claims.
    const part = emptyPart();
    if (first?.length) walkInto(part, first, wants, onSocket);
    walkClaims(ctl, gen, dataViews(this.data).pids, wants, onSocket, part);
    const { denied, unsettled, stopped } = part;
    // Close the job: a worker that has not joined yet finds nothing left to claim, so only a worker
    // that already joined (it says so before its first claim) can hold a part still being read.
    Atomics.store(ctl, Ctl.NEXT, lastClaim(gen));
    if (Atomics.load(ctl, Ctl.JOINED) !== gen) return { denied, unsettled, stopped, found: [], threads: 1 };
    const report = this.awaitReport(gen);
    if (!report) return undefined;
    denied.push(...report.denied);
    unsettled.push(...report.unsettled);
    const threads = report.walked > 0 ? 2 : 1;
    return { denied, unsettled, stopped: stopped || report.stopped, found: report.found, threads };
  }

  /** Ends job `gen` unread; waits for a worker part under way, so that the next job starts clean. */
  abandon(gen: number): void {
    Atomics.store(this.ctl, Ctl.STOP, gen);
    Atomics.store(this.ctl, Ctl.NEXT, lastClaim(gen));
    if (Atomics.load(this.ctl, Ctl.JOINED) === gen) this.awaitReport(gen);
  }

  /** Copies the job's pids (and wanted inodes) where the worker reads them. */
  private prepare(pids: Int32Array, task: WorkerTask): void {
    if (pids.length > this.data.capacity) {
      let capacity = Math.max(1024, this.data.capacity);
      while (capacity < pids.length) capacity *= 2;
      this.data = { buffer: new SharedArrayBuffer((capacity + MAX_WANTED) * 4), capacity };
      this.port.postMessage(this.data); // read by the worker when it wakes for this job
    }
    const views = dataViews(this.data);
    views.pids.set(pids);
    const inodes = task.mode === 'wanted' ? task.inodes : [];
    views.wanted.set(inodes);
    Atomics.store(this.ctl, Ctl.WANTED, inodes.length);
    Atomics.store(this.ctl, Ctl.MODE, task.mode === 'wanted' ? Mode.WANTED : Mode.ALL);
  }

  /** Waits for the worker to finish job `gen` and returns its report, or undefined if it failed. */
  private awaitReport(gen: number): WorkerReport | undefined {
    const deadline = performance.now() + WORKER_TIMEOUT_MS;
    for (;;) {
      const done = Atomics.load(this.ctl, Ctl.DONE);
      if (done === gen) break;
      const left = deadline - performance.now();
      if (left <= 0) {
        this.fail();
        return undefined;
      }
      Atomics.wait(this.ctl, Ctl.DONE, done, Math.min(left, 100));
    }
    // Reports of older jobs the main thread stopped waiting for are dropped here.
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
      const report = m.message as WorkerReport;
      if (report.gen === gen) return report;
    }
    this.fail();
    return undefined;
  }

  private fail(): void {
    WalkPool.failed = true;
    if (WalkPool.pool === this) WalkPool.pool = undefined;
    void this.worker.terminate();
  }
}

/** The built worker next to this module (dist/walk-worker.js), or undefined when there is none. */
function workerScript(): string | undefined {
  try {
    const path = fileURLToPath(new URL('./walk-worker.js', import.meta.url));
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}
