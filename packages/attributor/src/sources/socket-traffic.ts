import { EventEmitter } from 'node:events';
import { type Listener, type ScanResult, scanSync, type UnownedReason } from '@netwho/listeners';
import type { Endpoint, Process } from '../types';
import { type Clock, systemClock } from '../util/clock';

/** One TCP connection in a socket-table sample, with its program and the bytes since the last sample. */
export interface ConnectionTraffic {
  /** The socket's kernel id (Linux inode): stable for the connection's life. */
  id: number;
  protocol: 'TCP';
  local: Endpoint;
  remote: Endpoint;
  process?: Process;
  unowned?: UnownedReason;
  /** Totals the kernel counts for the socket: bytes the peer acknowledged, bytes received. */
  bytesOut: number;
  bytesIn: number;
  /** Bytes since the previous sample (for a connection that existed at the first sample: 0). */
  deltaOut: number;
  deltaIn: number;
}

export interface TrafficSample {
  /** When the table was read (ms since 1970). */
  at: number;
  connections: ConnectionTraffic[];
  /** Connections seen in the previous sample and gone now (their last bytes are not known). */
  closed: number;
}

export interface SocketTrafficOptions {
  /** Milliseconds between samples. Default 1000. */
  intervalMs?: number;
  clock?: Clock;
  /** The socket-table read (tests may pass one); defaults to a listeners scan with TCP counters. */
  scan?: () => ScanResult;
}

interface Events {
  sample: [TrafficSample];
  error: [unknown];
}

/**
 * Per-process TCP traffic without packet capture: polls the kernel's socket table with each
 * socket's tcp_info counters (sock_diag INET_DIAG_INFO) and reports what each connection moved
 * since the previous poll.
 *
 * What it cannot see: UDP bytes (the kernel keeps no per-socket UDP counters), connections that
 * opened and closed between two polls, and the bytes a connection moved after the last poll before
 * it closed. Byte counts are payload (acknowledged or received), not bytes on the wire.
 */
export class SocketTrafficPoller extends EventEmitter<Events> {
  private readonly intervalMs: number;
  private readonly clock: Clock;
  private readonly scan: () => ScanResult;
  private previous = new Map<number, { out: number; in: number }>();
  private first = true;
  private cancel: (() => void) | undefined;

  constructor(options: SocketTrafficOptions = {}) {
    super();
    this.intervalMs = options.intervalMs ?? 1000;
    if (!(this.intervalMs > 0)) throw new RangeError(`intervalMs must be positive, got ${this.intervalMs}`);
    this.clock = options.clock ?? systemClock;
    this.scan = options.scan ?? (() => scanSync({ protocols: ['TCP'], tcpInfo: true }));
  }

  /** Takes a sample now (also starts the baseline: the first sample reports no deltas). */
  poll(): TrafficSample {
    const { listeners } = this.scan();
    const at = this.clock.now();
    const current = new Map<number, { out: number; in: number }>();
    const connections: ConnectionTraffic[] = [];
    for (const l of listeners) {
      if (!l.traffic || !l.remote || l.inode === 0) continue;
      const totals = { out: l.traffic.bytesAcked, in: l.traffic.bytesReceived };
      current.set(l.inode, totals);
      const before = this.previous.get(l.inode) ?? (this.first ? totals : { out: 0, in: 0 });
      connections.push(toConnection(l, totals, before));
    }
    let closed = 0;
    for (const id of this.previous.keys()) if (!current.has(id)) closed++;
    this.previous = current; // only sockets that exist now: memory follows the table
    this.first = false;
    return { at, connections, closed };
  }

  /** Polls every intervalMs, emitting `sample` (or `error` when a read fails). */
  start(): this {
    if (this.cancel) return this;
    const tick = () => {
      try {
        this.emit('sample', this.poll());
      } catch (error) {
        this.emit('error', error);
      }
      this.cancel = this.clock.setTimer(tick, this.intervalMs);
    };
    this.cancel = this.clock.setTimer(tick, 0);
    return this;
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }
}

function toConnection(
  l: Listener,
  totals: { out: number; in: number },
  before: { out: number; in: number },
): ConnectionTraffic {
  return {
    id: l.inode,
    protocol: 'TCP',
    local: l.socket,
    remote: l.remote!,
    ...(l.process && { process: l.process }),
    ...(l.unowned && { unowned: l.unowned }),
    bytesOut: totals.out,
    bytesIn: totals.in,
    deltaOut: Math.max(0, totals.out - before.out),
    deltaIn: Math.max(0, totals.in - before.in),
  };
}
