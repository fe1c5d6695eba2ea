/**
 * The walk worker: a thread that reads its share of /proc while the main thread reads the rest (see
 * parallel-walk.ts for the main side and walk-protocol.ts for the shared words). It sleeps on the
 * GEN word between jobs, so it costs nothing while no scan runs.
 */
import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { Process } from '../../types';
import { walkSocketFds } from './fd-walk';
import { readProcess } from './process-info';
import {
  CHUNK,
  Ctl,
  claim,
  type DataBuffer,
  dataViews,
  emptyData,
  type FoundProcess,
  Mode,
  type WorkerReport,
} from './walk-protocol';

const { ctl: ctlBuffer, port } = workerData as { ctl: SharedArrayBuffer; port: MessagePort };
const ctl = new Int32Array(ctlBuffer);
let views = dataViews(emptyData());

function runJob(gen: number): WorkerReport {
  const report: WorkerReport = { gen, walked: 0, stopped: false, found: [], denied: [], unsettled: [] };
  const wantedOnly = Atomics.load(ctl, Ctl.MODE) === Mode.WANTED;
  const wanted = new Set(views.wanted.subarray(0, wantedOnly ? Atomics.load(ctl, Ctl.WANTED) : 0));
  let current: FoundProcess | undefined;
  const onSocket = (pid: number, inode: number, pidDir: number, fd: number) => {
    if (current?.pid !== pid) {
      const process: Process | undefined = readProcess(pid, pidDir);
      if (!process) return 'gone' as const;
      current = { ...process, sockets: [] };
      report.found.push(current);
    }
    current.sockets.push(fd, inode);
    return wantedOnly ? ('stop' as const) : ('next' as const);
  };
  const wants = wantedOnly ? (inode: number) => wanted.has(inode) : () => true;
  for (let at = claim(ctl, gen); at >= 0; at = claim(ctl, gen)) {
    if (Atomics.load(ctl, Ctl.STOP) === gen) break;
    const count = Math.min(CHUNK, Atomics.load(ctl, Ctl.COUNT) - at);
    const walk = walkSocketFds(wants, onSocket, views.pids.subarray(at, at + count));
    report.walked += count;
    report.denied.push(...walk.denied);
    report.unsettled.push(...walk.unsettled);
    if (walk.stopped) {
      report.stopped = true;
      Atomics.store(ctl, Ctl.STOP, gen);
      break;
    }
  }
  return report;
}

let seen = Atomics.load(ctl, Ctl.GEN);
for (;;) {
  Atomics.wait(ctl, Ctl.GEN, seen);
  const gen = Atomics.load(ctl, Ctl.GEN);
  seen = gen;
  // The main thread posts a larger buffer before it starts the job that needs it.
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    views = dataViews(m.message as DataBuffer);
  }
  Atomics.store(ctl, Ctl.JOINED, gen);
  port.postMessage(runJob(gen));
  Atomics.store(ctl, Ctl.DONE, gen);
  Atomics.notify(ctl, Ctl.DONE);
}
