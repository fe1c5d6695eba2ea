import { EventEmitter } from 'node:events';
import { type AttributionPolicy, defaultPolicy } from './machine/policy';
import {
  type Admission,
  admitFlow,
  applyAnswer,
  expireKnown,
  giveUp,
  newEntry,
  type PortEntry,
  type PortState,
  retryDue,
  serves,
} from './machine/port-machine';
import { KernelWaits, recordFits, SOCKET_TABLE_AFTER_STEP } from './sources/kernel-records';
import type {
  ConnectionOwnerSource,
  FlowInput,
  Label,
  Owner,
  OwnerAnswer,
  OwnerQuery,
  OwnerSource,
  Process,
  Syn,
  UnknownReason,
} from './types';
import { type Clock, systemClock } from './util/clock';
import { portKey, protocolOf } from './util/endpoints';
import { LatencyWindow } from './util/latency';
import { LruMap } from './util/lru';
import { inSlices, soon } from './util/slices';

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
   * UDP: before the datagram, at most `udpRecordAgeMs` before the flow), or, for a connection
   * accepted here (recorded at its first send or receive), carrying the flow's SYN's sequence
   * number; so an older connection's owner on a reused 5-tuple is never taken for this one's. An
   * accepted flow without its record yet is asked again for about half a second.
   */
  connections?: ConnectionOwnerSource;
  /** How old (ms before the flow's first packet) an eBPF record of a UDP send may be. Default 2000. */
  udpRecordAgeMs?: number;
  /**
   * Adds to a program what the label should carry besides pid, name and path (e.g. its cgroup:
   * CaptureMonitor adds processCgroup()), once per label; return the process as it is to add nothing.
   */
  describe?: (process: Process) => Process;
}

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
  /** Of those, accepted flows whose record came after their first packet (asked again); waiting now; not waited for (the wait list was full). */
  fromKernelLater: number;
  /** Of fromKernelLater, those asked again because more of their packets came (flowActivity). */
  fromKernelOnActivity: number;
  kernelWaiting: number;
  kernelWaitsDropped: number;
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

interface FlowRecord {
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
  /** A UDP flow labelled from the kernel's record: its time, checked again on each revalidation (the port may change hands). */
  kernelAt?: number;
  /** An accepted flow waiting for the kernel's record (KernelWaits) since. */
  waitingSince?: number;
  /** When flowActivity last asked for it. */
  activityAskedAt?: number;
}

interface AttributorEvents {
  /** A flow's label changed: pending -> known/unknown, or unknown -> known. */
  label: [flowId: number, label: Label, previous: Label];
}

const PENDING: Label = { status: 'pending' };
/** flowActivity asks the kernel for a waiting flow at most this often (ms); a packet sooner is asked for later in the turn. */
const ACTIVITY_ASK_MS = 0.05;
/** Revalidation's checks per slice (inSlices): each a read of /proc or of the kernel's map. */
const REVALIDATE_SLICE = 64;
/** Kernel-labelled UDP flows checked per revalidation at most; the rest wait their turn. */
const KERNEL_CHECKS_PER_ROUND = 4096;
const SWEEP_MS = 5_000;

/**
 * Labels flows with the program behind them. Feed it flows as they start (the first packet, a SYN
 * included) and as they end; it answers at once from its cache when the cached owner verifies, and
 * otherwise batches lookups of the socket table, retries with backoff, and emits `label` when a
 * flow's label changes. See the README for the state machine.
 */
export class Attributor extends EventEmitter<AttributorEvents> {
  private readonly policy: AttributionPolicy;
  private readonly clock: Clock;
  private readonly maxPending: number;
  private readonly maxBatch: number;
  private readonly entries: LruMap<number, PortEntry>;
  private readonly flows: LruMap<number, FlowRecord>;
  private readonly flowsByKey = new Map<number, Set<number>>();
  private readonly queue = new Set<number>();
  private readonly timers = new Map<number, () => void>();
  private batchTimer: (() => void) | undefined;
  private inFlight = false;
  private closed = false;
  private cancelSweep: () => void;
  private cancelRevalidate: () => void;
  private readonly labelLatency = new LatencyWindow();
  private readonly labelWait = new LatencyWindow();
  private readonly lookupTime = new LatencyWindow(1024);
  private readonly counts = {
    flows: 0,
    attributed: 0,
    unknown: { 'not-found': 0, permission: 0, 'gave-up': 0 } as Record<UnknownReason, number>,
    recovered: 0,
    moved: 0,
    lookups: 0,
    queries: 0,
    lookupErrors: 0,
    cacheHits: 0,
    verifyFailures: 0,
    evictedPorts: 0,
    forgottenFlows: 0,
    dropped: 0,
    fromKernel: 0,
    fromKernelExited: 0,
    fromKernelLater: 0,
    fromKernelOnActivity: 0,
  };
  private readonly connections: ConnectionOwnerSource | undefined;
  private readonly udpRecordAgeMs: number;
  private readonly describe: ((process: Process) => Process) | undefined;
  private readonly kernelWaits: KernelWaits;
  /** Waiting flows whose packet came within ACTIVITY_ASK_MS of the last question: asked once this turn's packets are handled. */
  private readonly activityLater = new Set<number>();
  private cancelActivityLater: (() => void) | undefined;
  /** The last error a socket-table read threw (the flows it served are retried). */
  lastError: unknown;

  constructor(
    private readonly source: OwnerSource,
    options: AttributorOptions = {},
  ) {
    super();
    this.policy = { ...defaultPolicy, ...options.policy };
    this.clock = options.clock ?? systemClock;
    this.connections = options.connections;
    this.describe = options.describe;
    this.udpRecordAgeMs = options.udpRecordAgeMs ?? 2000;
    this.kernelWaits = new KernelWaits(this.clock, (id, step) => this.askKernelAgain(id, step));
    this.maxPending = positive(options.maxPending, 4_096, 'maxPending');
    this.maxBatch = positive(options.maxBatch, 512, 'maxBatch');
    this.entries = new LruMap(positive(options.maxPorts, 16_384, 'maxPorts'), (key, entry) =>
      this.onPortEvicted(key, entry),
    );
    this.flows = new LruMap(positive(options.maxFlows, 100_000, 'maxFlows'), (_id, record) => {
      this.counts.forgottenFlows++;
      this.unlink(record);
    });
    this.cancelSweep = this.clock.setTimer(() => this.sweep(), SWEEP_MS);
    this.cancelRevalidate = this.clock.setTimer(() => this.revalidate(), this.policy.revalidateEvery);
  }

  /**
   * A flow started. Returns its label now: `known` from a verified cache entry, `unknown` while the
   * port is held unknown, else `pending` (a `label` event follows). Flows of protocols without ports
   * (ICMP) are `unknown` (`not-found`) and not tracked.
   */
  flowStarted(flow: FlowInput): Label {
    const protocol = protocolOf(flow.protocol);
    if (!protocol || this.closed) return { status: 'unknown', reason: 'not-found' };
    const existing = this.flows.peek(flow.id);
    if (existing) return existing.label;
    this.counts.flows++;
    const key = portKey(protocol, flow.local.port);
    const query: OwnerQuery = { protocol, local: flow.local, remote: flow.remote };
    const record: FlowRecord = {
      id: flow.id,
      key,
      query,
      label: PENDING,
      firstSeen: flow.firstSeen ?? this.clock.now(),
      startedAt: this.clock.now(),
      ended: false,
      owner: undefined,
      syn: flow.syn,
    };
    this.flows.set(flow.id, record);
    let ids = this.flowsByKey.get(key);
    if (!ids) {
      ids = new Set();
      this.flowsByKey.set(key, ids);
    }
    ids.add(flow.id);

    const entry = this.entryOf(record);
    if (this.labelFromKernel(record)) return record.label;
    // Accepted here: the kernel records it at its first send or receive, usually within a
    // millisecond; the socket table (a read of every socket, and of their owners) waits for that.
    if (this.connections && flow.syn && !flow.syn.fromLocal && this.kernelWaits.add(record.id)) {
      record.waitingSince = record.startedAt;
      return record.label;
    }
    this.admitToTable(record, entry);
    return record.label;
  }

  /** The (protocol, local port) entry of a flow, made when there is none. */
  private entryOf(record: FlowRecord): PortEntry {
    let entry = this.entries.get(record.key);
    if (!entry) {
      entry = newEntry(record.query.protocol, record.query.local.port);
      this.entries.set(record.key, entry);
    }
    return entry;
  }

  /** The socket-table path: the port's state machine takes the flow. */
  private admitToTable(record: FlowRecord, entry = this.entryOf(record)): void {
    const admission = admitFlow(entry, record.query, this.clock.now(), (o) => this.verify(o));
    this.admit(entry, record.key, record, admission);
  }

  /** Labels `record` from the kernel's record when there is one that is its; false otherwise. */
  private labelFromKernel(record: FlowRecord): boolean {
    const kernel = this.fromKernel(record.query, record.firstSeen, record.syn);
    if (!kernel) return false;
    if (record.query.protocol === 'UDP') {
      record.kernelAt = kernel.at;
      this.kernelUdp.add(record.id);
    }
    this.counts.fromKernel++;
    if (kernel.label.exited) this.counts.fromKernelExited++;
    this.setLabel(record, kernel.label);
    return true;
  }

  /** An accepted flow asked again (KernelWaits): true once it needs no more asking. */
  private askKernelAgain(id: number, step: number): boolean {
    const record = this.flows.peek(id);
    if (!record || this.closed) return true;
    if (record.label.status === 'known') return true;
    if (this.labelFromKernel(record)) {
      this.counts.fromKernelLater++;
      return true;
    }
    if (step === SOCKET_TABLE_AFTER_STEP && record.label.status === 'pending') this.admitToTable(record);
    return false;
  }

  /** UDP flows labelled from the kernel's record, re-asked on revalidation (bounded by the tracked flows). */
  private readonly kernelUdp = new Set<number>();

  /**
   * The kernel-labelled UDP flows to check in this revalidation: at most KERNEL_CHECKS_PER_ROUND,
   * those checked longest ago first (each one taken goes to the back of the set).
   */
  private kernelChecks(): number[] {
    const ids: number[] = [];
    for (const id of this.kernelUdp) {
      if (ids.length >= KERNEL_CHECKS_PER_ROUND) break;
      ids.push(id);
    }
    for (const id of ids) {
      this.kernelUdp.delete(id);
      this.kernelUdp.add(id);
    }
    return ids;
  }

  /**
   * A UDP 5-tuple lives on after its socket closes (no FIN), so another program may send on it: a
   * newer kernel record naming another process moves the flow to it. True when the map was read.
   */
  private revalidateKernel(id: number): boolean {
    const record = this.flows.peek(id);
    if (record?.label.status !== 'known' || record.label.source !== 'ebpf') {
      this.kernelUdp.delete(id);
      return false;
    }
    let hit: ReturnType<ConnectionOwnerSource['ownerOf']>;
    try {
      hit = this.connections?.ownerOf(record.query);
    } catch {
      return true;
    }
    if (!hit || hit.at === record.kernelAt || hit.process.pid === record.label.process.pid) return true;
    record.kernelAt = hit.at;
    this.setLabel(record, {
      status: 'known',
      process: hit.process,
      source: 'ebpf',
      ...(hit.exited && { exited: true }),
    });
    return true;
  }

  /**
   * The kernel's record of who made this connection, when there is one that is this flow's
   * (recordFits): its label, and when it was written.
   */
  private fromKernel(
    query: OwnerQuery,
    firstSeen: number,
    syn: Syn | undefined,
  ): { label: Label & { status: 'known' }; at: number } | undefined {
    let hit: ReturnType<ConnectionOwnerSource['ownerOf']>;
    try {
      hit = this.connections?.ownerOf(query);
    } catch (error) {
      // A failing source never stops the pipeline: the socket table answers instead.
      this.counts.lookupErrors++;
      this.lastError = error;
      return undefined;
    }
    if (!hit || !recordFits(hit, query, firstSeen, syn, this.udpRecordAgeMs)) return undefined;
    return {
      label: { status: 'known', process: hit.process, source: 'ebpf', ...(hit.exited && { exited: true }) },
      at: hit.at,
    };
  }

  /**
   * More packets of flow `flowId` were seen. An accepted flow still waiting for the kernel's record
   * of its owner is asked again now rather than at its next timed question (up to a millisecond
   * later): a packet after the handshake usually follows the server's first read or write (its
   * answer, or the client's acknowledgement of it), which is when the record is written. At most
   * every 50 µs per flow (one map lookup each): a packet sooner than that is not dropped but asked
   * for once when the packets at hand are handled (Clock.soon), since it may be the one that
   * follows the record. Nothing is done while no flow waits.
   */
  flowActivity(flowId: number): void {
    if (this.kernelWaits.waiting === 0 || this.closed) return;
    const record = this.flows.peek(flowId);
    if (record?.waitingSince === undefined || record.label.status !== 'pending') return;
    const now = this.clock.now();
    if (record.activityAskedAt !== undefined && now - record.activityAskedAt < ACTIVITY_ASK_MS) {
      this.activityLater.add(flowId); // bounded: only waiting flows (KernelWaits' capacity)
      this.cancelActivityLater ??= soon(this.clock, () => this.askActivityLater());
      return;
    }
    this.askOnActivity(record, now);
  }

  private askOnActivity(record: FlowRecord, now: number): void {
    record.activityAskedAt = now;
    if (this.labelFromKernel(record)) {
      this.counts.fromKernelLater++;
      this.counts.fromKernelOnActivity++;
    }
  }

  /** The flows flowActivity put off: each asked once, however recently it was asked. */
  private askActivityLater(): void {
    this.cancelActivityLater = undefined;
    const now = this.clock.now();
    for (const id of this.activityLater) {
      const record = this.flows.peek(id);
      if (record?.waitingSince !== undefined && record.label.status === 'pending')
        this.askOnActivity(record, now);
    }
    this.activityLater.clear();
  }

  /**
   * A flow ended: its label is no longer tracked. A flow still pending is kept until its label is
   * known (a short connection often ends before the lookup answers), and its `label` event comes.
   */
  flowEnded(flowId: number): void {
    const record = this.flows.peek(flowId);
    if (!record) return;
    if (record.label.status === 'pending') {
      record.ended = true;
      return;
    }
    this.forget(record);
  }

  private forget(record: FlowRecord): void {
    this.flows.delete(record.id);
    this.kernelUdp.delete(record.id);
    this.unlink(record);
  }

  /** The current label of a tracked flow. */
  labelOf(flowId: number): Label | undefined {
    return this.flows.peek(flowId)?.label;
  }

  /** The state of a (protocol, local port) entry, for diagnostics and tests. */
  portState(protocol: 'TCP' | 'UDP', port: number): PortState | undefined {
    return this.entries.peek(portKey(protocol, port))?.state;
  }

  stats(): AttributorStats {
    let pending = 0;
    for (const record of this.flows.values()) if (record.label.status === 'pending') pending++;
    return {
      ...this.counts,
      unknown: { ...this.counts.unknown },
      tracked: this.flows.size,
      pending,
      ports: this.entries.size,
      kernelWaiting: this.kernelWaits.waiting,
      kernelWaitsDropped: this.kernelWaits.dropped,
      labelLatency: summary(this.labelLatency),
      labelWait: summary(this.labelWait),
      lookupTime: summary(this.lookupTime),
    };
  }

  /** Stops timers; flows still pending stay pending. */
  close(): void {
    this.closed = true;
    this.kernelWaits.close();
    this.cancelActivityLater?.();
    this.activityLater.clear();
    this.cancelSweep();
    this.cancelRevalidate();
    this.batchTimer?.();
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }

  private verify(owner: Owner): boolean {
    const ok = this.source.verify(owner);
    if (!ok) this.counts.verifyFailures++;
    return ok;
  }

  private admit(entry: PortEntry, key: number, record: FlowRecord, admission: Admission): void {
    switch (admission.action) {
      case 'label-known':
        this.counts.cacheHits++;
        this.setLabel(record, { status: 'known', process: admission.owner.process }, admission.owner);
        return;
      case 'label-unknown':
        this.setLabel(record, { status: 'unknown', reason: admission.reason });
        return;
      case 'wait':
        return;
      case 'lookup':
        this.enqueue(entry, key);
    }
  }

  private enqueue(entry: PortEntry, key: number): void {
    if (!this.queue.has(key) && this.queue.size >= this.maxPending) {
      this.counts.dropped++;
      giveUp(entry, this.clock.now(), this.policy);
      this.relabel(key, entry);
      return;
    }
    this.queue.add(key);
    this.scheduleBatch();
  }

  private scheduleBatch(): void {
    if (this.batchTimer || this.inFlight || this.closed || this.queue.size === 0) return;
    this.batchTimer = this.clock.setTimer(() => {
      this.batchTimer = undefined;
      void this.runBatch();
    }, 0);
  }

  /** One socket-table read for up to maxBatch queued ports. */
  private async runBatch(): Promise<void> {
    const batch: { key: number; entry: PortEntry }[] = [];
    for (const key of this.queue) {
      this.queue.delete(key);
      const entry = this.entries.peek(key);
      if (entry?.state === 'looking-up' && entry.query) batch.push({ key, entry });
      if (batch.length === this.maxBatch) break;
    }
    if (batch.length === 0) return;
    this.inFlight = true;
    this.counts.lookups++;
    this.counts.queries += batch.length;
    const started = this.clock.now();
    let answers: OwnerAnswer[];
    try {
      answers = await this.source.lookup(batch.map((b) => b.entry.query!));
      if (answers.length !== batch.length)
        throw new Error('the owner source answered the wrong number of queries');
    } catch (error) {
      this.counts.lookupErrors++;
      this.lastError = error;
      answers = batch.map(() => ({ missing: 'unresolved' }) as const);
    }
    this.inFlight = false;
    const now = this.clock.now();
    this.lookupTime.add(now - started);
    if (this.closed) return;
    batch.forEach(({ key, entry }, i) => {
      if (this.entries.peek(key) !== entry || entry.state !== 'looking-up') return; // evicted meanwhile
      const state = applyAnswer(entry, answers[i]!, now, this.policy);
      if (state === 'retrying') this.scheduleRetry(key, entry, now);
      this.relabel(key, entry);
    });
    this.scheduleBatch();
  }

  private scheduleRetry(key: number, entry: PortEntry, now: number): void {
    this.timers.get(key)?.();
    this.timers.set(
      key,
      this.clock.setTimer(
        () => {
          this.timers.delete(key);
          if (this.entries.peek(key) !== entry || entry.state !== 'retrying') return;
          const at = this.clock.now();
          // Node can run a timer a little early (it counts from the event loop's clock, read before
          // a lookup that took milliseconds): wait out the rest rather than leave the flows pending.
          if (retryDue(entry, at)) this.enqueue(entry, key);
          else this.scheduleRetry(key, entry, at);
        },
        Math.max(0, entry.until - now),
      ),
    );
  }

  /**
   * Labels the flows of a port after its entry got an answer. Pending flows the owner's socket does
   * not carry (another peer on a shared local port) trigger a lookup of their own.
   */
  private relabel(key: number, entry: PortEntry): void {
    const ids = this.flowsByKey.get(key);
    if (!ids) return;
    let unserved: FlowRecord | undefined;
    for (const id of ids) {
      const record = this.flows.peek(id);
      if (!record) continue;
      const { status } = record.label;
      if (entry.state === 'known') {
        // A flow already labelled keeps its program while that program's socket lives: only a flow
        // whose own owner is gone moves to the new one (a port closed and bound again).
        // A label from the kernel's connect-time record has no socket to verify: it stands.
        if (record.label.status === 'known' && record.label.source === 'ebpf') continue;
        if (status === 'known' && (record.owner === entry.owner || this.source.verify(record.owner!)))
          continue;
        if (serves(entry, record.query.local, record.query.remote)) {
          this.setLabel(record, { status: 'known', process: entry.owner!.process }, entry.owner);
        } else if (status === 'pending') unserved ??= record;
      } else if (entry.state === 'unknown' && status === 'pending') {
        this.setLabel(record, { status: 'unknown', reason: entry.reason! });
      }
    }
    if (unserved) {
      entry.state = 'stale';
      this.admit(
        entry,
        key,
        unserved,
        admitFlow(entry, unserved.query, this.clock.now(), () => false),
      );
    }
  }

  private setLabel(record: FlowRecord, label: Label, owner?: Owner): void {
    if (label.status === 'known' && this.describe && !label.exited)
      label = { ...label, process: this.describe(label.process) };
    const previous = record.label;
    record.label = label;
    record.owner = owner;
    if (label.status === 'known') {
      if (previous.status === 'known') this.counts.moved++;
      else this.counts.attributed++;
      if (previous.status === 'unknown') this.counts.recovered++;
      if (previous.status === 'pending') {
        const now = this.clock.now();
        this.labelLatency.add(Math.max(0, now - record.firstSeen));
        this.labelWait.add(Math.max(0, now - record.startedAt));
      }
    } else if (label.status === 'unknown') this.counts.unknown[label.reason]++;
    this.emit('label', record.id, label, previous);
    if (record.ended) this.forget(record);
  }

  private unlink(record: FlowRecord): void {
    const ids = this.flowsByKey.get(record.key);
    if (!ids) return;
    ids.delete(record.id);
    if (ids.size === 0) this.flowsByKey.delete(record.key);
  }

  private onPortEvicted(key: number, entry: PortEntry): void {
    this.counts.evictedPorts++;
    this.queue.delete(key);
    this.timers.get(key)?.();
    this.timers.delete(key);
    // Flows still waiting on it will get no answer: say so rather than leave them pending.
    if (entry.state === 'looking-up' || entry.state === 'retrying') {
      for (const id of this.flowsByKey.get(key) ?? []) {
        const record = this.flows.peek(id);
        if (record?.label.status === 'pending')
          this.setLabel(record, { status: 'unknown', reason: 'gave-up' });
      }
    }
  }

  /**
   * Verifies the owner of every known port that still has flows; one that fails (the socket was
   * closed, perhaps the port bound again by another program) is looked up again, and its flows move
   * to the new owner when the answer comes. Kernel-labelled UDP flows are asked again first. In
   * slices (inSlices): each check is a read of /proc or of the kernel's map, and thousands of them
   * at once would hold packets back for tens of milliseconds.
   */
  private revalidate(): void {
    if (this.closed) return;
    const slices = <T>(items: T[], check: (item: T) => boolean, then: () => void) => {
      let finished = false; // at once, when there was little to check: `then` holds the cancel now
      const cancel = inSlices(this.clock, items, REVALIDATE_SLICE, check, () => {
        finished = true;
        then();
      });
      if (!finished) this.cancelRevalidate = cancel;
    };
    const kernel = this.connections ? this.kernelChecks() : [];
    slices(
      kernel,
      (id) => this.revalidateKernel(id),
      () =>
        slices(
          [...this.flowsByKey.keys()],
          (key) => this.revalidatePort(key),
          () => {
            this.cancelRevalidate = this.clock.setTimer(() => this.revalidate(), this.policy.revalidateEvery);
          },
        ),
    );
  }

  /** A port known from the socket table whose socket is no longer its owner's is looked up again. True when checked. */
  private revalidatePort(key: number): boolean {
    const ids = this.flowsByKey.get(key);
    const entry = this.entries.peek(key);
    if (!ids || entry?.state !== 'known') return false;
    if (this.verify(entry.owner!)) return true;
    const first = this.flows.peek(ids.values().next().value as number);
    if (!first) return true;
    entry.state = 'stale';
    this.admit(
      entry,
      key,
      first,
      admitFlow(entry, first.query, this.clock.now(), () => false),
    );
    return true;
  }

  /** Forgets entries no flow uses any more once their answer has run out. */
  private sweep(): void {
    if (this.closed) return;
    const now = this.clock.now();
    for (const [key, entry] of this.entries.entries()) {
      expireKnown(entry, now);
      const idle = !this.flowsByKey.has(key);
      if (idle && (entry.state === 'stale' || (entry.state === 'unknown' && now >= entry.until))) {
        this.entries.delete(key);
      }
    }
    this.cancelSweep = this.clock.setTimer(() => this.sweep(), SWEEP_MS);
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function summary(window: LatencyWindow): LatencySummary {
  return { p50: window.percentile(50), p99: window.percentile(99), samples: window.count };
}
