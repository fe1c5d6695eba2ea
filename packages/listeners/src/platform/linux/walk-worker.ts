/**
 * The walk worker: a thread that reads its share of /proc while the main thread reads the rest (see
 * parallel-walk.ts for the main side and walk-protocol.ts for the shared words). It sleeps on the
 * GEN word between jobs, so it costs nothing while no scan runs.
 */
import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { Process } from '../../types';
import { walkClaims } from './claimed-walk';
import { readProcess } from './process-info';
import {
  Ctl,
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
  walkClaims(ctl, gen, views.pids, wants, onSocket, report);
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
