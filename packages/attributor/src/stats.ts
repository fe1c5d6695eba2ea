import type { UnknownReason } from './types';
import type { LatencyWindow } from './util/latency';

export interface LatencySummary {
  p50: number | undefined;
  p99: number | undefined;
  samples: number;
}

export interface AttributorStats {
  /** Flows given to flowStarted (TCP and UDP). */
  flows: number;
  /** Flows labelled with a program (once each, even if first labelled unknown). */
  attributed: number;
  /** Flows labelled unknown, by reason (a flow later attributed stays counted here too). */
  unknown: Record<UnknownReason, number>;
  /** Flows first labelled unknown that later got their program. */
  recovered: number;
  /** Flows moved from one program to another: the first one's socket closed and another program bound the port. */
  moved: number;
  /** Flows tracked now, and how many of them still wait for an answer. */
  tracked: number;
  pending: number;
  /** Socket-table reads made, the queries they answered, and reads that failed. */
  lookups: number;
  queries: number;
  lookupErrors: number;
  /** New flows labelled from the cache (after verification), and cached owners that failed it. */
  cacheHits: number;
  verifyFailures: number;
  /** Port entries cached now, and those forgotten because the cache was full. */
  ports: number;
  evictedPorts: number;
  /** Flows forgotten because too many were tracked, and ports refused because the queue was full. */
  forgottenFlows: number;
  dropped: number;
  /** Flows labelled from the kernel's record (eBPF), and of those, whose program had exited. */
  fromKernel: number;
  fromKernelExited: number;
  /** Of those, accepted or UDP flows whose record came after their first packet (asked again); waiting now; not waited for (the wait list was full). */
  fromKernelLater: number;
  /** Of fromKernelLater, those asked again because more of their packets came (flowActivity). */
  fromKernelOnActivity: number;
  kernelWaiting: number;
  kernelWaitsDropped: number;
  /**
   * Accepted flows labelled from their listener's one holder before their own record came (eBPF's
   * tcp-listen hook); of those, confirmed by their own record later, and corrected by it (another
   * process held the accepted socket: that listener is not used again). Neither: the server never
   * read or wrote it while asked (the label stands).
   */
  fromListener: number;
  listenerConfirmed: number;
  listenerCorrected: number;
  /**
   * From a flow's first packet to its program label: what the capture took to hand the packet
   * over (a live ring's block timeout, the machine's scheduling), then labelWait.
   */
  labelLatency: LatencySummary;
  /** From flowStarted to the flow's program label: the attributor's own part of labelLatency. */
  labelWait: LatencySummary;
  /** Duration of one socket-table read. */
  lookupTime: LatencySummary;
}

export function summary(window: LatencyWindow): LatencySummary {
  return { p50: window.percentile(50), p99: window.percentile(99), samples: window.count };
}
