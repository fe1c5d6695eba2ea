import { cgroupLabel } from '@netwho/listeners';
import { serviceOf, type TrafficMonitor, type TrafficSnapshot } from '@netwho/monitor';
import { diffRows } from './diff';
import type {
  AlertSource,
  ConnectionView,
  HistoryPoint,
  ProgramView,
  ServerMessage,
  Status,
  WebAlert,
} from './protocol';

export interface StateOptions {
  intervalMs: number;
  /** Points of the overall chart kept (default 600: ten minutes at 1 s). */
  historySize?: number;
  /** Most connections sent to browsers (the most recently active first). Default 2000. */
  maxConnections?: number;
  /** Programs whose own chart is kept (least recently active dropped). Default 200. */
  maxProgramHistories?: number;
  /** Each snapshot, as soon as it is taken (for /metrics counters and history). */
  onSnapshot?: (snapshot: TrafficSnapshot) => void;
  /** Alert rules to run on each snapshot; their alerts go to browsers. */
  alerts?: AlertSource;
}

type Tick = Extract<ServerMessage, { type: 'tick' }>;

/**
 * The dashboard's view of the traffic: one monitor snapshot per interval, turned into the rows the
 * pages show, the charts' history (bounded rings), and per-tick diffs for the WebSocket clients.
 */
export class DashboardState {
  private snapshot: TrafficSnapshot;
  private programRows: ProgramView[] = [];
  private connectionRows: ConnectionView[] = [];
  private readonly history: HistoryPoint[] = [];
  private readonly programHistory = new Map<string, HistoryPoint[]>();
  private sentPrograms = new Map<string, string>();
  private sentConnections = new Map<number, string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly historySize: number;
  private readonly maxConnections: number;
  private readonly maxProgramHistories: number;

  constructor(
    private readonly monitor: TrafficMonitor,
    readonly status: Status,
    private readonly options: StateOptions,
  ) {
    this.historySize = options.historySize ?? 600;
    this.maxConnections = options.maxConnections ?? 2000;
    this.maxProgramHistories = options.maxProgramHistories ?? 200;
    this.snapshot = monitor.snapshot();
    options.onSnapshot?.(this.snapshot);
    options.alerts?.observe(this.snapshot);
    this.rebuild();
  }

  /** Takes a snapshot every interval and hands the diff to `onTick`. */
  start(onTick: (message: Tick) => void): void {
    this.timer = setInterval(() => onTick(this.tick()), this.options.intervalMs);
    this.timer.unref();
  }

  tick(): Tick {
    this.snapshot = this.monitor.snapshot();
    this.options.onSnapshot?.(this.snapshot);
    const alerts = this.options.alerts?.observe(this.snapshot) ?? [];
    this.rebuild();
    const point = this.point();
    push(this.history, point, this.historySize);
    for (const p of this.programRows) {
      let ring = this.programHistory.get(p.key);
      if (ring)
        this.programHistory.delete(p.key); // re-insert: most recently active last
      else ring = [];
      push(ring, [point[0], p.rateIn, p.rateOut], 300);
      this.programHistory.set(p.key, ring);
    }
    while (this.programHistory.size > this.maxProgramHistories) {
      this.programHistory.delete(this.programHistory.keys().next().value as string);
    }
    const programs = diffRows(this.sentPrograms, this.programRows, (p) => p.key);
    const connections = diffRows(this.sentConnections, this.connectionRows, (c) => c.id);
    this.sentPrograms = programs.state;
    this.sentConnections = connections.state;
    return {
      type: 'tick',
      at: point[0],
      point,
      ...(this.snapshot.capture && { capture: this.snapshot.capture }),
      ...(this.snapshot.owners && { owners: this.snapshot.owners }),
      programs: { upsert: programs.upsert, remove: programs.remove },
      connections: { upsert: connections.upsert, remove: connections.remove },
      ...(alerts.length > 0 && { alerts }),
    };
  }

  /** The latest alerts, newest last (for GET /api/alerts). */
  alerts(): WebAlert[] {
    return this.options.alerts?.recent() ?? [];
  }

  /** The whole state, for a client that just connected. */
  full(): Extract<ServerMessage, { type: 'full' }> {
    return {
      type: 'full',
      status: this.status,
      at: this.snapshot.at,
      history: [...this.history],
      programs: this.programRows,
      connections: this.connectionRows,
      ...(this.snapshot.capture && { capture: this.snapshot.capture }),
      ...(this.snapshot.owners && { owners: this.snapshot.owners }),
      alerts: this.alerts(),
    };
  }

  /** The capture's counters and where owners come from, as of the last snapshot. */
  health(): Pick<TrafficSnapshot, 'capture' | 'owners'> {
    return { capture: this.snapshot.capture, owners: this.snapshot.owners };
  }

  programs(): ProgramView[] {
    return this.programRows;
  }

  connections(): ConnectionView[] {
    return this.connectionRows;
  }

  chart(key?: string): HistoryPoint[] {
    return key ? [...(this.programHistory.get(key) ?? [])] : [...this.history];
  }

  program(key: string): ProgramView | undefined {
    return this.programRows.find((p) => p.key === key);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private point(): HistoryPoint {
    let rateIn = 0;
    let rateOut = 0;
    for (const p of this.programRows) {
      rateIn += p.rateIn;
      rateOut += p.rateOut;
    }
    return [Math.round(this.snapshot.at), Math.round(rateIn), Math.round(rateOut)];
  }

  private rebuild(): void {
    this.programRows = this.snapshot.programs.map((p) => ({
      ...p,
      rateIn: Math.round(p.rateIn),
      rateOut: Math.round(p.rateOut),
      icon: p.process ? `/api/icon/${encodeURIComponent(p.key)}` : null,
      unit: cgroupLabel(p.process?.cgroup) ?? null,
    }));
    this.connectionRows = [...this.snapshot.connections]
      .sort((a, b) => b.lastSeen - a.lastSeen)
      .slice(0, this.maxConnections)
      .map((c) => ({
        ...c,
        program: c.label.status === 'known' ? `pid:${c.label.process.pid}` : 'unknown',
        service: serviceOf(c.remote.port, c.local.port),
        host: c.remoteName ?? null,
        unit: c.label.status === 'known' ? (cgroupLabel(c.label.process.cgroup) ?? null) : null,
        peerName: c.peer?.status === 'known' ? `${c.peer.process.name} (${c.peer.process.pid})` : null,
      }));
  }
}

function push<T>(ring: T[], value: T, max: number): void {
  ring.push(value);
  if (ring.length > max) ring.splice(0, ring.length - max);
}
