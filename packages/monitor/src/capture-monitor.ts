import type { ConnectionOwnerSource, Label, OwnerSource } from '@netwho/attributor';
import { Attributor, type AttributorOptions, attributeFlows, LruMap, systemOwners } from '@netwho/attributor';
import {
  DecodedPacket,
  decodePacket,
  type Flow,
  type FlowNames,
  FlowTable,
  type FlowTableOptions,
  LiveCapture,
  type LiveCaptureOptions,
  type LivePacket,
  protocolName,
  TcpSeen,
} from '@netwho/capture';
import { type ConnectionOwners, openConnectionOwners } from '@netwho/listeners';
import { withCgroup } from './cgroups';
import { ProgramTotals } from './program-totals';
import { type Rehearsed, rehearse } from './rehearsal';
import { type NamesOptions, openNames, type RemoteEnd, type RemoteNames } from './remote-names';
import type {
  CaptureHealth,
  ConnectionRow,
  EndedConnection,
  OwnerSources,
  TrafficMonitor,
  TrafficSnapshot,
} from './snapshot';

export interface CaptureMonitorOptions extends LiveCaptureOptions {
  attributor?: AttributorOptions;
  flowTable?: FlowTableOptions;
  /** Where owners come from (default: this machine's socket table). */
  owners?: OwnerSource;
  /**
   * Owners the kernel records at connect time, asked first (default: `@netwho/listeners`' eBPF
   * source where it loads, i.e. Linux as root). `false` turns it off.
   */
  connections?: ConnectionOwnerSource | false;
  /**
   * Called for each packet after it was counted, with the id of its flow (-1 for none) and whether
   * it went from the flow's local end (else from its remote end): e.g. to write it to a file with
   * its program. `packet.data` is valid only during the call.
   */
  onPacket?: (packet: LivePacket, flowId: number, outgoing: boolean) => void;
  /**
   * Called once for each connection that ended (FIN/RST seen and settled, or idle past its
   * timeout), with its final counts and its local end's label: at the end, or when the label comes
   * if it was still pending then. E.g. to keep it in a history store.
   */
  onConnectionEnd?: (connection: EndedConnection) => void;
  /** How remote ends are named and placed (see NamesOptions). */
  names?: NamesOptions;
}

const PENDING: Label = { status: 'pending' };
const EXPIRE_EVERY_MS = 1000;
/** Whether this process has rehearsed a monitor (rehearsal.ts). */
let rehearsed = false;

/**
 * The whole live pipeline: capture -> decode -> flow table -> attribution -> per-program totals.
 * Packets are decoded in place into one reused DecodedPacket; lookups never run inside the packet
 * handler (the attributor batches them on a timer).
 */
export class CaptureMonitor implements TrafficMonitor {
  readonly mode = 'capture' as const;
  readonly capture: LiveCapture;
  readonly table: FlowTable;
  readonly attributor: Attributor;
  private readonly labels: LruMap<number, Label>;
  /** Ends of flows that ended before their label came: their counts (seen from that end) wait here for it. */
  private readonly endedPending: LruMap<number, EndedEnd>;
  private readonly totals = new ProgramTotals();
  private readonly decoded = new DecodedPacket();
  private readonly detach: () => void;
  private readonly expireTimer: NodeJS.Timeout;
  private readonly onPacketHook: CaptureMonitorOptions['onPacket'];
  private readonly onConnectionEnd: CaptureMonitorOptions['onConnectionEnd'];
  private readonly connections: ConnectionOwnerSource | undefined;
  private readonly names: RemoteNames;
  private readonly flowNames: FlowNames | undefined;

  /**
   * Opens the capture; throws CaptureError (E_PERMISSION, E_NO_DEVICE, ...) as LiveCapture.open
   * does, and GeoError when a database named in `names.geo` cannot be opened.
   */
  static open(options: CaptureMonitorOptions = {}): CaptureMonitor {
    const names = openNames(options.names);
    if (!rehearsed) {
      rehearsed = true;
      try {
        CaptureMonitor.rehearse();
      } catch {
        // Only the first packets' speed depends on it: a rehearsal that fails costs nothing else.
      }
    }
    // Immediate delivery (the ring's TPACKET_V2 frames) unless told otherwise: a connection's first
    // packet reaches the attributor tens of microseconds after the kernel saw it instead of up to
    // the 2 ms block timeout, which is what a label waits for (and a socket-table lookup races the
    // socket's close against). It costs a wake-up per packet at moderate rates (bench: about twice
    // the CPU per packet at 10,000 packets/s, the same top rate). Naming needs whole first packets:
    // a QUIC Initial is decrypted whole (up to an MTU), a ClientHello is read whole (1-2 KiB, in one
    // loopback segment); counting needs 256 bytes.
    const snapLength = names.flows ? 2048 : 256;
    const capture = LiveCapture.open({
      snapLength,
      bufferSize: 32 * 1024 * 1024,
      immediate: true,
      ...options,
    });
    return new CaptureMonitor(capture, options, names);
  }

  /**
   * @internal The rehearsal a process's first monitor runs (rehearsal.ts), through a monitor made
   * here (the constructor is private); returns what it labelled and saw end, for tests.
   */
  static rehearse(): Rehearsed {
    return rehearse((capture, options) => new CaptureMonitor(capture, options, openNames({ geo: false })));
  }

  /** The eBPF source this monitor opened itself (closed with it), and why there is none. */
  private readonly ownConnections: ConnectionOwners | undefined;
  readonly ebpfReason: string | undefined;
  /** The eBPF hooks that did not attach, and why (empty when all did, or eBPF is off). */
  readonly ebpfMissing: Array<{ hook: string; reason: string }>;

  private constructor(
    capture: LiveCapture,
    options: CaptureMonitorOptions,
    names: { names: RemoteNames; flows?: FlowNames },
  ) {
    this.capture = capture;
    this.names = names.names;
    this.flowNames = names.flows;
    let connections: ConnectionOwnerSource | undefined;
    if (options.connections === false) this.ebpfReason = 'turned off';
    else if (options.connections) connections = options.connections;
    else {
      const opened = openConnectionOwners();
      this.ownConnections = opened.owners;
      connections = opened.owners;
      this.ebpfReason = opened.reason;
    }
    this.ebpfMissing = (this.ownConnections?.hooks ?? [])
      .filter((h) => !h.attached)
      .map((h) => ({ hook: h.name, reason: h.reason ?? 'not attached' }));
    this.connections = connections;
    this.onPacketHook = options.onPacket;
    this.onConnectionEnd = options.onConnectionEnd;
    this.table = new FlowTable(options.flowTable);
    this.attributor = new Attributor(options.owners ?? systemOwners(), {
      describe: withCgroup(new LruMap(4096)),
      ...options.attributor,
      ...(connections && { connections }),
    });
    const maxFlows = this.table.maxFlows;
    this.labels = new LruMap(maxFlows);
    this.endedPending = new LruMap(maxFlows);
    this.detach = attributeFlows(this.table, this.attributor);
    this.table.on('flow', (flow) => this.onFlow(flow));
    this.table.on('end', (flow) => this.onEnd(flow));
    this.attributor.on('label', (id, label) => this.onLabel(id, label));
    capture.on('packet', (p) => this.onPacket(p));
    this.expireTimer = setInterval(() => this.table.expire(Date.now()), EXPIRE_EVERY_MS);
    this.expireTimer.unref();
  }

  private onPacket(p: LivePacket): void {
    const d = decodePacket(p.buffer, p.linkType, this.decoded, p.offset, p.offset + p.length);
    const timeMs = p.seconds * 1000 + p.nanoseconds / 1e6;
    const flowId = this.table.add(d, timeMs, wireLength(d, p));
    if (flowId >= 0) {
      // An accepted end waiting for its owner's record is asked again now (a no-op when none waits).
      this.attributor.flowActivity(flowId);
      this.attributor.flowActivity(peerId(flowId));
    }
    this.flowNames?.add(d, flowId, this.table.lastOutgoing, timeMs, this.table.lastSent);
    this.onPacketHook?.(p, flowId, this.table.lastOutgoing);
  }

  /**
   * A new flow: its local end is being attributed (attributeFlows saw it first); when both ends are
   * programs of this machine, the remote end is attributed too, as a flow of its own seen from there.
   */
  private onFlow(flow: Flow): void {
    this.labels.set(flow.id, this.attributor.labelOf(flow.id) ?? PENDING);
    if (!flow.bothLocal || (flow.protocol !== 6 && flow.protocol !== 17)) return;
    const peer = peerId(flow.id);
    const label = this.attributor.flowStarted({
      id: peer,
      protocol: flow.protocol,
      local: flow.remote,
      remote: flow.local,
      firstSeen: flow.firstSeen,
      ...(flow.syn && { syn: { seq: flow.syn.seq, fromLocal: !flow.syn.fromLocal } }),
    });
    this.labels.set(peer, label);
  }

  private onLabel(id: number, label: Label): void {
    const ended = this.endedPending.peek(id);
    if (ended) {
      this.endedPending.delete(id);
      this.totals.bank(ended, label);
      if (ended.row) this.onConnectionEnd?.({ ...ended.row, label });
    } else if (this.labels.peek(id)) this.labels.set(id, label);
  }

  private onEnd(flow: Flow): void {
    const local = flow.bothLocal && (flow.protocol === 6 || flow.protocol === 17);
    const row: Omit<EndedConnection, 'label'> | undefined = this.onConnectionEnd && {
      id: flow.id,
      protocol: protocolName(flow.protocol),
      local: flow.local,
      remote: flow.remote,
      ...(local && this.peerLabelOf(flow.id) && { peer: this.peerLabelOf(flow.id) }),
      ...countsOf(flow),
      firstSeen: flow.firstSeen,
      lastSeen: flow.lastSeen,
      ...this.names.describe(flow.id, flow.remote.address, flow.lastSeen),
    };
    this.flowNames?.forget(flow.id);
    this.endEnd(flow.id, countsOf(flow), row);
    if (local) {
      this.endEnd(peerId(flow.id), swapped(countsOf(flow)));
      this.attributor.flowEnded(peerId(flow.id));
    }
  }

  /** One end of a flow ended: its counts go to its program now, or when its label comes. */
  private endEnd(id: number, counts: Counts, row?: Omit<EndedConnection, 'label'>): void {
    const label = this.labels.peek(id) ?? PENDING;
    this.labels.delete(id);
    if (label.status === 'pending') this.endedPending.set(id, row ? { ...counts, row } : counts);
    else {
      this.totals.bank(counts, label);
      if (row) this.onConnectionEnd?.({ ...row, label });
    }
  }

  /** The label of a flow in the table: its local end's program. */
  labelOf(flowId: number): Label {
    return this.labels.peek(flowId) ?? PENDING;
  }

  /** What is known of flow `flowId`'s remote end now: its name and place (undefined when the flow is not in the table). */
  remoteOf(flowId: number): RemoteEnd | undefined {
    const flow = this.table.get(flowId);
    return flow && this.names.describe(flowId, flow.remote.address, Date.now());
  }

  /** The program at the flow's remote end, when both ends are on this machine; undefined otherwise. */
  peerLabelOf(flowId: number): Label | undefined {
    return this.labels.peek(peerId(flowId));
  }

  snapshot(): TrafficSnapshot {
    const at = Date.now();
    const connections: ConnectionRow[] = this.table.flows().map((flow) => ({
      id: flow.id,
      protocol: protocolName(flow.protocol),
      local: flow.local,
      remote: flow.remote,
      label: this.labelOf(flow.id),
      ...(flow.bothLocal && this.peerLabelOf(flow.id) && { peer: this.peerLabelOf(flow.id) }),
      bytesIn: flow.bytesIn,
      bytesOut: flow.bytesOut,
      packetsIn: flow.packetsIn,
      packetsOut: flow.packetsOut,
      firstSeen: flow.firstSeen,
      lastSeen: flow.lastSeen,
      state: flow.tcp & (TcpSeen.FIN_LOCAL | TcpSeen.FIN_REMOTE | TcpSeen.RST) ? 'closing' : 'open',
      ...this.names.describe(flow.id, flow.remote.address, at),
    }));
    return {
      at,
      mode: 'capture',
      programs: this.totals.rows(connections, at),
      connections,
      capture: this.health(),
      owners: this.ownerSources(),
      ...(this.flowNames && { names: this.flowNames.stats() }),
    };
  }

  /** Where labels come from, and how many came from each. */
  ownerSources(): OwnerSources {
    const s = this.attributor.stats();
    return {
      ebpf: this.connections !== undefined,
      ...(this.ebpfReason !== undefined && { ebpfReason: this.ebpfReason }),
      ...(this.ebpfMissing.length > 0 && { ebpfMissing: this.ebpfMissing }),
      fromEbpf: s.fromKernel,
      fromSocketTable: s.attributed - s.fromKernel,
      lookupsDropped: s.dropped,
      kernelWaitsDropped: s.kernelWaitsDropped,
    };
  }

  /** The capture's counters, summed over its devices. */
  health(): CaptureHealth {
    const s = this.capture.stats();
    const devices = Object.values(s.devices);
    const received = devices.some((d) => d.received === undefined)
      ? null
      : devices.reduce((n, d) => n + (d.received ?? 0), 0);
    return {
      backend: s.backend,
      ...(s.fallbackReason !== undefined && { fallbackReason: s.fallbackReason }),
      received,
      delivered: s.delivered,
      kernelDropped: s.kernelDropped,
      netwhoDropped: s.netwhoDropped,
      ...(s.readerCpu && { readerCpu: s.readerCpu }),
    };
  }

  close(): void {
    clearInterval(this.expireTimer);
    this.detach();
    this.capture.close();
    this.attributor.close();
    this.ownConnections?.close();
  }
}

/**
 * Bytes on the wire: the kernel's own figure where the backend passes it on (the ring), else for a
 * packet the snap length cut, its IP length plus the headers before it.
 */
function wireLength(d: DecodedPacket, p: LivePacket): number {
  if (!p.truncated || p.wireLength > p.length) return p.wireLength;
  if (d.ipVersion === 0 || d.srcAddrOffset < 0) return p.length;
  const ipStart = d.srcAddrOffset - (d.ipVersion === 4 ? 12 : 8) - p.offset;
  return Math.max(p.length, ipStart + d.ipLength);
}

interface Counts {
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
}

/** An end of a flow that ended before its label came: its counts, and for the local end the row to report. */
interface EndedEnd extends Counts {
  row?: Omit<EndedConnection, 'label'>;
}

function countsOf(flow: Flow): Counts {
  return {
    bytesIn: flow.bytesIn,
    bytesOut: flow.bytesOut,
    packetsIn: flow.packetsIn,
    packetsOut: flow.packetsOut,
  };
}

/** The same counts seen from the other end: what one end sent, the other received. */
function swapped(c: Counts): Counts {
  return { bytesIn: c.bytesOut, bytesOut: c.bytesIn, packetsIn: c.packetsOut, packetsOut: c.packetsIn };
}

/** The id the remote end of flow `id` is attributed under (flow ids are never negative). */
function peerId(id: number): number {
  return -id - 1;
}
