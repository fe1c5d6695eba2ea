import { readdirSync } from 'node:fs';
import koffi from 'koffi';
import type { ThreadSystem } from './helper-threads';
import type { AffinitySystem } from './reader-cpu';

/** sched(7) policies, <linux/sched.h>. */
export const SCHED_OTHER = 0;
export const SCHED_BATCH = 3;
/** <asm-generic/errno-base.h>: the thread has exited. */
const ESRCH = 3;

interface SchedLibc {
  sched_getscheduler(tid: number): number;
  /** `param` is struct sched_param { int sched_priority; }, 0 for the normal policies. */
  sched_setscheduler(tid: number, policy: number, param: Buffer): number;
  /** `mask` is a cpu_set_t (<sched.h>: a bit per CPU, CPU n in bit n % 8 of byte n / 8). */
  sched_getaffinity(tid: number, size: number, mask: Buffer): number;
  sched_setaffinity(tid: number, size: number, mask: Buffer): number;
  strerror(errno: number): string;
}

let libc: SchedLibc | undefined;

function schedLibc(): SchedLibc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  libc = {
    // glibc's wrappers take a pid_t; given a thread id, Linux applies them to that thread alone.
    sched_getscheduler: lib.func('int sched_getscheduler(int pid)'),
    sched_setscheduler: lib.func('int sched_setscheduler(int pid, int policy, const void *param)'),
    sched_getaffinity: lib.func('int sched_getaffinity(int pid, size_t size, void *mask)'),
    sched_setaffinity: lib.func('int sched_setaffinity(int pid, size_t size, const void *mask)'),
    strerror: lib.func('const char *strerror(int errnum)'),
  } as SchedLibc;
  return libc;
}

const NO_PRIORITY = Buffer.alloc(4);
/** glibc's cpu_set_t: 1,024 CPUs (CPU_SETSIZE). */
const CPU_SET_BYTES = 128;
const mask = Buffer.alloc(CPU_SET_BYTES);

/** Why a libc call failed: 'gone' when the thread had exited, else the call and its error. */
function failure(call: string): string {
  const errno = koffi.errno();
  return errno === ESRCH ? 'gone' : `${call}: ${schedLibc().strerror(errno)}`;
}

/** This process's threads as Linux shows them: /proc/self/task, and the policy and affinity calls of sched(7). */
export const linuxThreads: ThreadSystem & AffinitySystem = {
  threads() {
    return readdirSync('/proc/self/task').map(Number);
  },
  policy(tid) {
    const policy = schedLibc().sched_getscheduler(tid);
    return policy < 0 ? undefined : policy;
  },
  setPolicy(tid, policy) {
    if (schedLibc().sched_setscheduler(tid, policy, NO_PRIORITY) === 0) return 'done';
    return failure('sched_setscheduler');
  },
  cpus(tid) {
    mask.fill(0);
    if (schedLibc().sched_getaffinity(tid, CPU_SET_BYTES, mask) !== 0) return undefined;
    const cpus: number[] = [];
    for (let cpu = 0; cpu < CPU_SET_BYTES * 8; cpu++)
      if (mask.readUInt8(cpu >> 3) & (1 << (cpu & 7))) cpus.push(cpu);
    return cpus;
  },
  setCpus(tid, cpus) {
    mask.fill(0);
    for (const cpu of cpus)
      if (cpu < CPU_SET_BYTES * 8) mask.writeUInt8(mask.readUInt8(cpu >> 3) | (1 << (cpu & 7)), cpu >> 3);
    if (schedLibc().sched_setaffinity(tid, CPU_SET_BYTES, mask) === 0) return 'done';
    return failure('sched_setaffinity');
  },
};
