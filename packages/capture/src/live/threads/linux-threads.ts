import { readdirSync } from 'node:fs';
import koffi from 'koffi';
import type { ThreadSystem } from './helper-threads';

/** sched(7) policies, <linux/sched.h>. */
export const SCHED_OTHER = 0;
export const SCHED_BATCH = 3;
/** <asm-generic/errno-base.h>: the thread has exited. */
const ESRCH = 3;

interface SchedLibc {
  sched_getscheduler(tid: number): number;
  /** `param` is struct sched_param { int sched_priority; }, 0 for the normal policies. */
  sched_setscheduler(tid: number, policy: number, param: Buffer): number;
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
    strerror: lib.func('const char *strerror(int errnum)'),
  } as SchedLibc;
  return libc;
}

const NO_PRIORITY = Buffer.alloc(4);

/** This process's threads as Linux shows them: /proc/self/task, and the policy calls of sched(7). */
export const linuxThreads: ThreadSystem = {
  threads() {
    return readdirSync('/proc/self/task').map(Number);
  },
  policy(tid) {
    const policy = schedLibc().sched_getscheduler(tid);
    return policy < 0 ? undefined : policy;
  },
  setPolicy(tid, policy) {
    const lib = schedLibc();
    if (lib.sched_setscheduler(tid, policy, NO_PRIORITY) === 0) return 'done';
    const errno = koffi.errno();
    return errno === ESRCH ? 'gone' : `sched_setscheduler: ${lib.strerror(errno)}`;
  },
};
