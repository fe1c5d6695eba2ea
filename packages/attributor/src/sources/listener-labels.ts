import type { FlowRecord } from '../flow-record';
import type { ConnectionOwnerSource, Label } from '../types';
import { LruMap } from '../util/lru';
import { type KernelHit, SLACK_MS } from './kernel-records';

/** Listener records that named another process than their connections' own: remembered at most. */
const DISTRUSTED = 1024;

/** Counts of the listener path, kept with KernelLabels' (see AttributorStats). */
export interface ListenerCounts {
  fromListener: number;
  listenerConfirmed: number;
  listenerCorrected: number;
}

/**
 * Accepted TCP flows labelled from their listener before their own record comes: the kernel
 * writes an accepted socket's record at its server's first send or receive, which a busy server
 * makes milliseconds after the SYN (or never, for a connection it does not read); who listens is
 * known from listen() on (ConnectionOwnerSource.listenerOf). Each such label is checked against
 * the accepted socket's record when that comes: the same process confirms it; another (a
 * listener handed over a Unix socket, a server that passes connections to a helper) corrects the
 * flow's label, and that listener record is not used again.
 */
export class ListenerLabels {
  /** By "port pid at" of the listener record that named the wrong process. */
  private readonly distrusted = new LruMap<string, true>(DISTRUSTED);

  constructor(
    private readonly source: ConnectionOwnerSource,
    private readonly counts: ListenerCounts,
  ) {}

  /**
   * The listener's label for a flow whose SYN came in to this machine, or undefined: no listener
   * of one running process there, written after the flow's first packet (give or take the clocks'
   * slack), or distrusted. Marks the flow as labelled so (FlowRecord.listener).
   */
  labelFor(record: FlowRecord): Label | undefined {
    const { query, syn } = record;
    if (!this.source.listenerOf || query.protocol !== 'TCP' || !syn || syn.fromLocal) return undefined;
    let hit: ReturnType<NonNullable<ConnectionOwnerSource['listenerOf']>>;
    try {
      hit = this.source.listenerOf(query.local);
    } catch {
      return undefined; // the flow's own record still comes, or the socket table answers
    }
    if (!hit || hit.exited || hit.at > record.firstSeen + SLACK_MS) return undefined;
    if (this.distrusted.peek(distrustKey(query.local.port, hit.process.pid, hit.at))) return undefined;
    record.listener = { pid: hit.process.pid, at: hit.at };
    this.counts.fromListener++;
    return { status: 'known', process: hit.process, source: 'ebpf' };
  }

  /**
   * The flow's own record `hit` came: undefined when it names the listener's process (confirmed),
   * else the label it gives, and the listener record is distrusted.
   */
  settle(record: FlowRecord, hit: KernelHit, label: Label): Label | undefined {
    const listener = record.listener!;
    record.listener = undefined;
    if (hit.process.pid === listener.pid) {
      this.counts.listenerConfirmed++;
      return undefined;
    }
    this.counts.listenerCorrected++;
    this.distrusted.set(distrustKey(record.query.local.port, listener.pid, listener.at), true);
    return label;
  }
}

const distrustKey = (port: number, pid: number, at: number) => `${port} ${pid} ${at}`;
