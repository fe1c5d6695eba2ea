import type { AttributionPolicy } from './machine/policy';
import type { ConnectionOwnerSource, Process } from './types';
import type { Clock } from './util/clock';

export interface AttributorOptions {
  /** Retry delays and how long answers hold. See AttributionPolicy. */
  policy?: Partial<AttributionPolicy>;
  /** Most (port, protocol) entries cached; the least recently used is forgotten. Default 16,384. */
  maxPorts?: number;
  /** Most flows whose labels are tracked; the least recently started is forgotten. Default 100,000. */
  maxFlows?: number;
  /** Most ports waiting for a lookup; past it new ports are labelled unknown (`gave-up`) at once. Default 4,096. */
  maxPending?: number;
  /** Most queries answered by one socket-table read. Default 512. */
  maxBatch?: number;
  /** Time source and timers (tests pass a fake one). */
  clock?: Clock;
  /**
   * Owners recorded by the kernel (eBPF), asked first for each new flow. An answer counts only if
   * it is this flow's: not newer than its first packet (TCP connect: the hook runs before the SYN;
   * UDP: as each send or receive returns, at most `udpRecordAgeMs` before the flow), or, for a
   * connection accepted here (recorded at its first send or receive), carrying the flow's SYN's
   * sequence number; so an older connection's owner on a reused 5-tuple is never taken for this
   * one's. An accepted flow without its record yet is asked again for about half a second, a UDP
   * flow for 4 ms.
   */
  connections?: ConnectionOwnerSource;
  /** How old (ms before the flow's first packet) an eBPF record of a UDP send may be. Default 2000. */
  udpRecordAgeMs?: number;
  /**
   * Adds to a program what the label should carry besides pid, name and path (e.g. its cgroup:
   * CaptureMonitor adds processCgroup()); return the process as it is to add nothing. Called once
   * per process object an owner source answers with (and label source): the flows of that process
   * share the label made from it.
   */
  describe?: (process: Process) => Process;
}

/** A positive integer option, or its default; anything else is a RangeError. */
export function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
