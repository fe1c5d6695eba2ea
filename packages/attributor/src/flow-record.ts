import type { Label, Owner, OwnerQuery, Syn } from './types';

/** What the attributor keeps of one flow. */
export interface FlowRecord {
  id: number;
  key: number;
  query: OwnerQuery;
  label: Label;
  firstSeen: number;
  /** When flowStarted was called (clock time). */
  startedAt: number;
  /** flowEnded came while the label was pending: forget the flow once it is labelled. */
  ended: boolean;
  /** The socket behind a `known` label. */
  owner: Owner | undefined;
  syn: Syn | undefined;
  /** Its first packet left a socket of this machine (FlowInput's packetsIn, localKnown, bothLocal). */
  sentFromHere: boolean;
  /** A UDP flow labelled from the kernel's record: its time, checked again on each revalidation (the port may change hands). */
  kernelAt?: number;
  /** An accepted flow waiting for the kernel's record (KernelWaits) since. */
  waitingSince?: number;
  /** When flowActivity last asked for it. */
  activityAskedAt?: number;
  /** Labelled from its listener's holder (an accepted flow), until its own record confirms or corrects it. */
  listener?: { pid: number; at: number };
}
