import type { FlowRecord } from '../flow-record';
import type { ConnectionOwnerSource, Label } from '../types';
import type { Clock } from '../util/clock';
import { soon } from '../util/slices';
import {
  type KernelHit,
  KernelWaits,
  LAST_STEP,
  recordFits,
  SOCKET_TABLE_AFTER_STEP,
  UDP_LAST_STEP,
} from './kernel-records';
import { ListenerLabels } from './listener-labels';

/** activity() asks the kernel for a waiting flow at most this often (ms); a packet sooner is asked for later in the turn. */
const ACTIVITY_ASK_MS = 0.05;
/** Kernel-labelled UDP flows checked per revalidation at most; the rest wait their turn. */
const CHECKS_PER_ROUND = 4096;

/** The label a kernel record gives: `exited` when its program had gone (the name is then its comm). */
const labelOf = (hit: KernelHit): Label =>
  hit.exited
    ? { status: 'known', process: hit.process, source: 'ebpf', exited: true }
    : { status: 'known', process: hit.process, source: 'ebpf' };

/** KernelLabels' counts before anything is counted (and an attributor's without the kernel's records). */
export const noKernelCounts = () => ({
  fromKernel: 0,
  fromKernelExited: 0,
  fromKernelLater: 0,
  fromKernelOnActivity: 0,
  fromListener: 0,
  listenerConfirmed: 0,
  listenerCorrected: 0,
});

/** What KernelLabels needs of the attributor it works for. */
export interface KernelLabelsHost {
  /** A tracked flow, or undefined once it is forgotten. */
  flow(id: number): FlowRecord | undefined;
  setLabel(record: FlowRecord, label: Label): void;
  /** Hands a flow the kernel has not recorded (yet) to the socket table. */
  toSocketTable(record: FlowRecord): void;
  /** The kernel's source threw: counted by the host; the socket table answers instead. */
  failed(error: unknown): void;
}

/**
 * The eBPF path of attribution: flows labelled from the kernel's records of who made each
 * connection (one map lookup per new flow), checked to be the flow's own (recordFits). An accepted
 * flow whose record comes at its server's first send or receive, and a UDP flow sent from here
 * whose record comes just after the datagram the capture saw, are asked again (KernelWaits, and on
 * their next packets); a UDP flow labelled is asked again on each revalidation, since its
 * 5-tuple outlives the socket and may pass to another program.
 */
export class KernelLabels {
  readonly counts = noKernelCounts();
  private readonly waits: KernelWaits;
  private readonly listeners: ListenerLabels;
  /** UDP flows labelled from the kernel's record, re-asked on revalidation (bounded by the tracked flows). */
  private readonly udp = new Set<number>();
  /** Of those, the ones with packets since they were last asked (once the host reports activity). */
  private readonly udpActive = new Set<number>();
  /** Whether the host calls activity() for each packet: then only UDP flows with packets are asked again. */
  private activityReported = false;
  /** Waiting flows whose packet came within ACTIVITY_ASK_MS of the last question: asked once this turn's packets are handled. */
  private readonly activityLater = new Set<number>();
  private cancelActivityLater: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly source: ConnectionOwnerSource,
    private readonly host: KernelLabelsHost,
    private readonly clock: Clock,
    /** How old (ms before the flow's first packet) a record of a UDP send may be. */
    private readonly udpRecordAgeMs: number,
  ) {
    this.waits = new KernelWaits(clock, (id, step) => this.askAgain(id, step));
    this.listeners = new ListenerLabels(source, this.counts);
  }

  /** Flows waiting for their record now (accepted TCP, UDP sent from here), and those not waited for (the list was full). */
  get waiting(): number {
    return this.waits.waiting;
  }
  get waitsDropped(): number {
    return this.waits.dropped;
  }

  /**
   * A new flow: true when it is labelled from its record, or waits for one (the socket table, a
   * read of every socket and of their owners, waits for that). False: the socket table's. Waited
   * for: TCP accepted here (the kernel records it at its first send or receive, usually within a
   * millisecond) and UDP whose first datagram left a socket of this machine (its sender's record
   * is written as the send returns, so the capture can deliver the datagram, and the monitor ask
   * for it, first: on loopback the receiver is woken inside the sender's sendmsg). A datagram that
   * came in, or passes through, is not waited for: what holds its port was recorded at its bind
   * or an earlier send, or is the socket table's to find. An accepted flow whose listener one
   * process holds is labelled from it meanwhile (ListenerLabels), and waits to be checked.
   */
  start(record: FlowRecord): boolean {
    if (this.label(record)) return true;
    const later =
      record.query.protocol === 'UDP'
        ? record.sentFromHere
        : record.syn !== undefined && !record.syn.fromLocal;
    if (!later) return false;
    const fromListener = this.listeners.labelFor(record);
    if (!this.waits.add(record.id)) {
      if (!fromListener) return false;
      record.listener = undefined; // labelled, with no wait left to check it in
    } else record.waitingSince = record.startedAt;
    if (fromListener) this.host.setLabel(record, fromListener);
    return true;
  }

  /** Whether flow `record` is still asked for its record: waiting with no label, or to check its listener's. */
  private asked(record: FlowRecord | undefined): record is FlowRecord {
    return (
      record?.waitingSince !== undefined &&
      (record.label.status === 'pending' || record.listener !== undefined)
    );
  }

  /**
   * More packets of flow `flowId` were seen. A flow still waiting for its record is asked again now
   * rather than at its next timed question (up to a millisecond later): a packet after the
   * handshake usually follows the server's first read or write (its answer, or the client's
   * acknowledgement of it), which is when the record is written. At most every 50 µs per flow (one
   * map lookup each): a packet sooner than that is not dropped but asked for once when the packets
   * at hand are handled (Clock.soon), since it may be the one that follows the record. Nothing is
   * done while no flow waits.
   */
  activity(flowId: number): void {
    this.activityReported = true;
    if (this.udp.size > 0 && this.udp.has(flowId)) this.udpActive.add(flowId);
    if (this.waits.waiting === 0 || this.closed) return;
    const record = this.host.flow(flowId);
    if (!this.asked(record)) return;
    const now = this.clock.now();
    if (record.activityAskedAt !== undefined && now - record.activityAskedAt < ACTIVITY_ASK_MS) {
      this.activityLater.add(flowId); // bounded: only waiting flows (KernelWaits' capacity)
      this.cancelActivityLater ??= soon(this.clock, () => this.askActivityLater());
      return;
    }
    this.askOnActivity(record, now);
  }

  /**
   * The UDP flows to check in this revalidation, at most CHECKS_PER_ROUND. When the host reports
   * each packet (activity), those with packets since they were last checked: a 5-tuple another
   * program took over carries new packets, and one without any has nothing to attribute anew.
   * Otherwise all of them in turn, those checked longest ago first (each one taken goes to the
   * back of the set).
   */
  checks(): number[] {
    const from = this.activityReported ? this.udpActive : this.udp;
    const ids: number[] = [];
    for (const id of from) {
      if (ids.length >= CHECKS_PER_ROUND) break;
      ids.push(id);
    }
    for (const id of ids) from.delete(id); // checked now: active again only with new packets
    if (from === this.udp) for (const id of ids) this.udp.add(id); // to the back, in turn
    return ids;
  }

  /**
   * A UDP 5-tuple lives on after its socket closes (no FIN), so another program may send on it: a
   * newer kernel record naming another process moves the flow to it. True when the map was read.
   */
  revalidate(id: number): boolean {
    const record = this.host.flow(id);
    if (record?.label.status !== 'known' || record.label.source !== 'ebpf') {
      this.forget(id);
      return false;
    }
    let hit: KernelHit | undefined;
    try {
      hit = this.source.ownerOf(record.query);
    } catch {
      return true;
    }
    if (!hit || hit.at === record.kernelAt || hit.process.pid === record.label.process.pid) return true;
    record.kernelAt = hit.at;
    this.host.setLabel(record, labelOf(hit));
    return true;
  }

  /** Flow `id` is no longer tracked. */
  forget(id: number): void {
    this.udp.delete(id);
    this.udpActive.delete(id);
  }

  close(): void {
    this.closed = true;
    this.waits.close();
    this.cancelActivityLater?.();
    this.activityLater.clear();
    this.udp.clear();
    this.udpActive.clear();
  }

  /** Labels `record` from the kernel's record when there is one that is its own; false otherwise. */
  private label(record: FlowRecord): boolean {
    let hit: KernelHit | undefined;
    try {
      hit = this.source.ownerOf(record.query);
    } catch (error) {
      // A failing source never stops the pipeline: the socket table answers instead.
      this.host.failed(error);
      return false;
    }
    if (!hit || !recordFits(hit, record.query, record.firstSeen, record.syn, this.udpRecordAgeMs))
      return false;
    if (record.listener) {
      const corrected = this.listeners.settle(record, hit, labelOf(hit));
      if (corrected) this.host.setLabel(record, corrected);
      return true;
    }
    if (record.query.protocol === 'UDP') {
      record.kernelAt = hit.at;
      this.udp.add(record.id);
    }
    this.counts.fromKernel++;
    if (hit.exited) this.counts.fromKernelExited++;
    this.host.setLabel(record, labelOf(hit));
    return true;
  }

  /** A waiting flow asked again (KernelWaits): true once it needs no more asking. */
  private askAgain(id: number, step: number): boolean {
    const record = this.host.flow(id);
    if (!record || this.closed) return true;
    if (record.label.status === 'known' && !record.listener) return true;
    const checking = record.listener !== undefined;
    if (this.label(record)) {
      if (!checking) this.counts.fromKernelLater++;
      return true;
    }
    if (checking && step === LAST_STEP) {
      record.waitingSince = undefined; // never read nor written by its server: the listener's label stands
      record.listener = undefined;
      return true;
    }
    const udp = record.query.protocol === 'UDP';
    if (step === (udp ? UDP_LAST_STEP : SOCKET_TABLE_AFTER_STEP) && record.label.status === 'pending')
      this.host.toSocketTable(record);
    if (!udp || step < UDP_LAST_STEP) return false;
    record.waitingSince = undefined; // no more questions on its packets either
    return true;
  }

  private askOnActivity(record: FlowRecord, now: number): void {
    record.activityAskedAt = now;
    const checking = record.listener !== undefined;
    if (this.label(record) && !checking) {
      this.counts.fromKernelLater++;
      this.counts.fromKernelOnActivity++;
    }
  }

  /** The flows activity() put off: each asked once, however recently it was asked. */
  private askActivityLater(): void {
    this.cancelActivityLater = undefined;
    const now = this.clock.now();
    for (const id of this.activityLater) {
      const record = this.host.flow(id);
      if (this.asked(record)) this.askOnActivity(record, now);
    }
    this.activityLater.clear();
  }
}
