import { EventEmitter } from 'node:events';
import type { FlowRecord } from './flow-record';
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
import { type AttributorOptions, positive } from './options';
import { KernelLabels, noKernelCounts } from './sources/kernel-labels';
import { TableLookups } from './sources/table-lookups';
import { type AttributorStats, summary } from './stats';
import type {
  FlowInput,
  Label,
  Owner,
  OwnerAnswer,
  OwnerQuery,
  OwnerSource,
  Process,
  UnknownReason,
} from './types';
import { type Clock, systemClock } from './util/clock';
import { portKey, protocolOf } from './util/endpoints';
import { LatencyWindow } from './util/latency';
import { LruMap } from './util/lru';
import { inSlices } from './util/slices';

interface AttributorEvents {
  /** A flow's label changed: pending -> known/unknown, or unknown -> known. */
  label: [flowId: number, label: Label, previous: Label];
}

const PENDING: Label = { status: 'pending' };
/** Revalidation's checks per slice (inSlices): each a read of /proc or of the kernel's map. */
const REVALIDATE_SLICE = 64;
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
  private readonly entries: LruMap<number, PortEntry>;
  private readonly flows: LruMap<number, FlowRecord>;
  private readonly flowsByKey = new Map<number, Set<number>>();
  private readonly timers = new Map<number, () => void>();
  private closed = false;
  private cancelSweep: () => void;
  private cancelRevalidate: () => void;
  private readonly labelLatency = new LatencyWindow();
  private readonly labelWait = new LatencyWindow();
  private readonly counts = {
    flows: 0,
    attributed: 0,
    unknown: { 'not-found': 0, permission: 0, 'gave-up': 0 } as Record<UnknownReason, number>,
    recovered: 0,
    moved: 0,
    lookupErrors: 0,
    cacheHits: 0,
    verifyFailures: 0,
    evictedPorts: 0,
    forgottenFlows: 0,
    dropped: 0,
  };
  /** The socket-table path: batched reads. */
  private readonly table: TableLookups;
  /** The eBPF path, when the kernel's records are given (options.connections). */
  private readonly kernel: KernelLabels | undefined;
  private readonly describe: ((process: Process) => Process) | undefined;
  /** Described labels by the process they were made from (see described()); weak: they go with the process. */
  private readonly describedLabels = new WeakMap<Process, Label & { status: 'known' }>();
  /** The last error a socket-table read or the kernel's source threw (the flows it served are retried). */
  lastError: unknown;

  constructor(
    private readonly source: OwnerSource,
    options: AttributorOptions = {},
  ) {
    super();
    this.policy = { ...defaultPolicy, ...options.policy };
    this.clock = options.clock ?? systemClock;
    this.describe = options.describe;
    const failed = (error: unknown) => {
      this.counts.lookupErrors++;
      this.lastError = error;
    };
    this.table = new TableLookups(
      source,
      {
        waiting: (key) => {
          const entry = this.entries.peek(key);
          return entry?.state === 'looking-up' && entry.query ? entry : undefined;
        },
        answered: (key, entry, answer, now) => this.answered(key, entry, answer, now),
        failed,
      },
      this.clock,
      positive(options.maxPending, 4_096, 'maxPending'),
      positive(options.maxBatch, 512, 'maxBatch'),
    );
    if (options.connections)
      this.kernel = new KernelLabels(
        options.connections,
        {
          flow: (id) => this.flows.peek(id),
          setLabel: (record, label) => this.setLabel(record, label),
          toSocketTable: (record) => this.admitToTable(record),
          failed,
        },
        this.clock,
        options.udpRecordAgeMs ?? 2000,
      );
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
      sentFromHere: flow.packetsIn === 0 && (flow.localKnown === true || flow.bothLocal === true),
    };
    this.flows.set(flow.id, record);
    if (this.kernel?.start(record)) {
      // Labelled from the kernel's record at once (no port entry or index: most flows), or waiting
      // for it, when the socket table's answer for its port may still label it (relabel).
      if (record.label.status === 'pending') this.index(record);
    } else this.admitToTable(record);
    return record.label;
  }

  /** Files the flow under its (protocol, local port), for the socket table's answers and checks. */
  private index(record: FlowRecord): void {
    let ids = this.flowsByKey.get(record.key);
    if (!ids) {
      ids = new Set();
      this.flowsByKey.set(record.key, ids);
    }
    ids.add(record.id);
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
  private admitToTable(record: FlowRecord): void {
    this.index(record);
    const entry = this.entryOf(record);
    const admission = admitFlow(entry, record.query, this.clock.now(), (o) => this.verify(o));
    this.admit(entry, record.key, record, admission);
  }

  /**
   * More packets of flow `flowId` were seen: an accepted flow still waiting for the kernel's record
   * of its owner is asked again (see KernelLabels.activity). Cheap while no flow waits.
   */
  flowActivity(flowId: number): void {
    this.kernel?.activity(flowId);
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
    this.kernel?.forget(record.id);
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
      ...this.table.counts,
      ...(this.kernel?.counts ?? noKernelCounts()),
      unknown: { ...this.counts.unknown },
      tracked: this.flows.size,
      pending,
      ports: this.entries.size,
      kernelWaiting: this.kernel?.waiting ?? 0,
      kernelWaitsDropped: this.kernel?.waitsDropped ?? 0,
      labelLatency: summary(this.labelLatency),
      labelWait: summary(this.labelWait),
      lookupTime: summary(this.table.time),
    };
  }

  /** Stops timers; flows still pending stay pending. */
  close(): void {
    this.closed = true;
    this.kernel?.close();
    this.table.close();
    this.cancelSweep();
    this.cancelRevalidate();
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
    if (this.table.add(key)) return;
    this.counts.dropped++;
    giveUp(entry, this.clock.now(), this.policy);
    this.relabel(key, entry);
  }

  /** A socket-table read answered for port `key`. */
  private answered(key: number, entry: PortEntry, answer: OwnerAnswer, now: number): void {
    if (this.entries.peek(key) !== entry || entry.state !== 'looking-up') return; // evicted meanwhile
    const state = applyAnswer(entry, answer, now, this.policy);
    if (state === 'retrying') this.scheduleRetry(key, entry, now);
    this.relabel(key, entry);
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
    if (label.status === 'known' && this.describe && !label.exited) label = this.described(label);
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

  /**
   * The label with its process described, one object per process and source: the flows of one
   * program share it (labels are not changed once made), rather than each making its own.
   */
  private described(label: Label & { status: 'known' }): Label & { status: 'known' } {
    const cached = this.describedLabels.get(label.process);
    if (cached !== undefined && cached.source === label.source) return cached;
    const made = { ...label, process: this.describe!(label.process) };
    this.describedLabels.set(label.process, made);
    return made;
  }

  private unlink(record: FlowRecord): void {
    const ids = this.flowsByKey.get(record.key);
    if (!ids) return;
    ids.delete(record.id);
    if (ids.size === 0) this.flowsByKey.delete(record.key);
  }

  private onPortEvicted(key: number, entry: PortEntry): void {
    this.counts.evictedPorts++;
    this.table.delete(key);
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
    const kernel = this.kernel;
    slices(
      kernel?.checks() ?? [],
      (id) => kernel!.revalidate(id),
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
